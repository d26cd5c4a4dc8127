import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a cluster whose HAProxy listens on `port` keeps HAProxy's configuration and runtime
 * socket: known from the port alone, so the harness (or an operator with socat) finds the socket.
 */
export const clusterDirectory = (port: number) => join(tmpdir(), `seat-surge-cluster-${port}`);
