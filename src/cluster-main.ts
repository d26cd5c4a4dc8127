import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLUSTER_USAGE,
  ClusterUsageRequested,
  parseClusterOptions,
  type ClusterOptions,
} from './cluster/cluster-options.js';
import { clusterDirectory } from './cluster/cluster-directory.js';
import { CHECK_INTERVAL_MS, clusterBackends, haproxyConfig } from './cluster/haproxy-config.js';
import { startHaproxy } from './cluster/haproxy-process.js';
import { openDatabase } from './database/open-database.js';
import { isLoopback, resolveOperatorToken } from './operator-token-file.js';
import { CLOSE_RESERVE_MS, run } from './run.js';
import { entryPoint, superviseChild } from './supervised-child.js';

/** How long the API processes and HAProxy get to answer /healthz after they start. */
const START_TIMEOUT_MS = 120_000;

const options = ((): ClusterOptions => {
  try {
    return parseClusterOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ClusterUsageRequested) {
      console.log(CLUSTER_USAGE);
      process.exit(0);
    }
    console.error(`${(error as Error).message}\n\n${CLUSTER_USAGE}`);
    process.exit(1);
  }
})();

/**
 * `npm run start:cluster -- --processes N`: one database (embedded unless DATABASE_URL), N API
 * processes (`npm start`'s entry point, each with its projector process; one projector leads
 * per projection, one hold expirer leads), and HAProxy in front on PORT, routing each
 * conference to the process that owns it. A process that dies is started again.
 */
run('seat-surge cluster', async (config, log, releases) => {
  if (config.port === 0)
    throw new Error('PORT must be a fixed port for a cluster: its API processes use the next ones');
  // Made here, before the API processes, so that they all find the one file instead of racing to make it.
  const operator = await resolveOperatorToken(config.adminToken);
  if (operator.source === 'file') {
    log.info({ file: operator.file, created: operator.created }, `operator token is in ${operator.file}`);
  }
  // The API processes listen on loopback behind HAProxy: one that read the file itself would put
  // the token in the demo page, which HAProxy serves wherever HOST faces. Off loopback they are
  // handed it as ADMIN_TOKEN, which no page ever shows.
  const operatorEnv = operator.source === 'file' && !isLoopback(config.host) ? { ADMIN_TOKEN: operator.token } : {};
  const database = await openDatabase(config, log);
  releases.push(database.close);

  const backends = clusterBackends(config.port, options.processes);
  const apis = backends.map(({ name, port }) =>
    superviseChild({
      entry: entryPoint('main'),
      name: `API process ${name}`,
      // Every other setting is this process's: the processes are alike but for their port.
      env: { ...process.env, ...operatorEnv, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database.url },
      log,
    }),
  );
  releases.push(async (deadline) => {
    await Promise.all(apis.map((api) => api.stop(deadline - CLOSE_RESERVE_MS)));
  });
  await Promise.all(backends.map(({ port }) => waitUntilHealthy(`http://127.0.0.1:${port}`)));

  const directory = clusterDirectory(config.port);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const statsSocket = join(directory, 'haproxy.sock');
  const configFile = join(directory, 'haproxy.cfg');
  // The directory stays: a HAProxy whose launcher was killed is found by its pid file there.
  releases.push(() => rm(configFile, { force: true }));
  const haproxySettings = { host: config.host, port: config.port, backends, statsSocket };
  await writeFile(
    configFile,
    haproxyConfig({ ...haproxySettings, routing: options.routing, checkIntervalMs: CHECK_INTERVAL_MS }),
  );
  const haproxy = await startHaproxy({
    path: config.haproxyPath,
    configFile,
    pidFile: join(directory, 'haproxy.pid'),
    log,
    onExit: (reason) => {
      log.error(`${reason}; stopping the cluster`);
      process.kill(process.pid, 'SIGTERM');
    },
  });
  releases.push((deadline) => haproxy.stop(deadline - CLOSE_RESERVE_MS));
  const url = `http://${config.host === '127.0.0.1' ? 'localhost' : config.host}:${config.port}`;
  await waitUntilHealthy(`http://${config.host}:${config.port}`);
  releases.push(async () => log.info({ url }, 'seat-surge cluster stops serving'));
  log.info(
    {
      url,
      processes: backends.map(({ name, port }) => `${name}: http://127.0.0.1:${port} (metrics: /metrics)`),
      routing: options.routing,
      haproxyConfig: configFile,
      haproxySocket: statsSocket,
      database: database.description,
    },
    'seat-surge cluster is serving',
  );
  return 'running';
});

/** Polls `base`/healthz until it answers 200. */
const waitUntilHealthy = async (base: string): Promise<void> => {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${base} did not answer /healthz within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((next) => setTimeout(next, 200));
  }
};
