import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { PACKAGE_ROOT } from '../package-root.js';
import type { AppEnv } from './app-env.js';
import { staticFiles } from './static-files.js';

const PUBLIC_FOLDER = join(PACKAGE_ROOT, 'public');

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
