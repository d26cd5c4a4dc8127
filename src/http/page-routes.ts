import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { staticFiles } from './static-files.js';

const PUBLIC_FOLDER = fileURLToPath(new URL('../../public/', import.meta.url));

/**
 * The demo page: the files of public/ (a flat folder, no build step), index.html at /. A route of
 * its own per file, not a parameter at the root: beside /healthz and /metrics that is more than
 * Hono's RegExpRouter takes, and the whole app fell back to its slower TrieRouter.
 */
export const pageRoutes = () => {
  const files = readdirSync(PUBLIC_FOLDER);
  const page = staticFiles(PUBLIC_FOLDER, files);
  const routes = new Hono<AppEnv>().get('/', async (c, next) => (await page('index.html')) ?? next());
  for (const file of files) routes.get(`/${file}`, async (c, next) => (await page(file)) ?? next());
  return routes;
};
