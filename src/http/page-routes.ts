import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { isLoopback } from '../operator-token-file.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { AppEnv } from './app-env.js';
import { staticFiles } from './static-files.js';

const PUBLIC_FOLDER = join(PACKAGE_ROOT, 'public');

/** Whether a Host header names this machine's loopback (`isLoopback`), its port and an IPv6 address's brackets aside. */
const namesLoopback = (host: string | undefined): boolean =>
  isLoopback((host ?? '').replace(/:\d{1,5}$/, '').replace(/^\[(.*)\]$/, '$1'));

/** The meta element demo.js reads the operator token from. */
export const OPERATOR_TOKEN_META = 'seat-surge-operator-token';

/**
 * The demo page: the files of public/ (a flat folder, no build step), index.html at /. A route of
 * its own per file, not a parameter at the root: beside /healthz and /metrics that is more than
 * Hono's RegExpRouter takes, and the whole app fell back to its slower TrieRouter.
 *
 * With `operatorToken` (given only by a server on loopback that made its own token, see main.ts),
 * index.html carries it for the page's operator actions, and only to a request that names a
 * loopback host: a page of another site that a rebinding DNS points at 127.0.0.1 names its own
 * host, and gets the page without it.
 */
export const pageRoutes = (operatorToken?: string) => {
  const files = readdirSync(PUBLIC_FOLDER);
  const page = staticFiles(PUBLIC_FOLDER, files);
  let index: Promise<string> | undefined;
  const indexWithToken = async (token: string) => {
    index ??= readFile(join(PUBLIC_FOLDER, 'index.html'), 'utf8');
    return new Response(withOperatorToken(await index, token), {
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    });
  };
  const serve = async (file: string, host: string | undefined) =>
    file === 'index.html' && operatorToken !== undefined && namesLoopback(host)
      ? indexWithToken(operatorToken)
      : page(file);
  const routes = new Hono<AppEnv>().get(
    '/',
    async (c, next) => (await serve('index.html', c.req.header('host'))) ?? next(),
  );
  for (const file of files)
    routes.get(`/${file}`, async (c, next) => (await serve(file, c.req.header('host'))) ?? next());
  return routes;
};

/** The page with the token in a meta element of its head (a bearer token's characters need no escaping in an attribute). */
export const withOperatorToken = (html: string, token: string): string =>
  html.replace('</head>', `  <meta name="${OPERATOR_TOKEN_META}" content="${token}" />\n  </head>`);
