import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { staticFiles } from './static-files.js';

const PUBLIC_FOLDER = fileURLToPath(new URL('../../public/', import.meta.url));

/** The demo page: the files of public/ (a flat folder, no build step), index.html at /. */
export const pageRoutes = () => {
  const page = staticFiles(PUBLIC_FOLDER, readdirSync(PUBLIC_FOLDER));
  return new Hono<AppEnv>()
    .get('/', async (c, next) => (await page('index.html')) ?? next())
    .get('/:file{[A-Za-z0-9_-]+\\.[a-z]+}', async (c, next) => (await page(c.req.param('file'))) ?? next());
};
