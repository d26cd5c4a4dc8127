import { readFile } from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * Serves a fixed list of files from one folder: a name not on the list is not found, so no path
 * a client sends can reach another file. Each file is read once and kept.
 */
export const staticFiles = (folder: string, names: readonly string[]) => {
  const cache = new Map<string, Promise<Buffer>>();
  return async (name: string): Promise<Response | undefined> => {
    if (!names.includes(name)) return undefined;
    let body = cache.get(name);
    if (!body) {
      body = readFile(path.join(folder, name));
      cache.set(name, body);
      body.catch(() => cache.delete(name));
    }
    return new Response(new Uint8Array(await body), {
      headers: {
        'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      },
    });
  };
};
