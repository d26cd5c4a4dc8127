import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hono } from 'hono';
import { PACKAGE_ROOT } from '../package-root.js';
import type { AppEnv } from './app-env.js';
import { openApiDocument } from './openapi.js';
import { staticFiles } from './static-files.js';

const require = createRequire(import.meta.url);
/** swagger-ui-dist ships the browser bundle and says where it is installed. */
const swaggerUiFolder = (require('swagger-ui-dist/absolute-path.js') as () => string)();
const swaggerUiAssets = staticFiles(swaggerUiFolder, ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']);
const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>seat-surge API</title>
  <link rel="icon" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="api-docs"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null keeps Swagger UI from sending the document to an online validator, so the
// page makes no request beyond this server.
const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#api-docs',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: true,
});
`;

/** The OpenAPI document and an interactive page for it, served with all its assets (works offline). */
export const docsRoutes = () => {
  const document = openApiDocument(version);
  return (
    new Hono<AppEnv>()
      .get('/openapi.json', (c) => c.json(document))
      .get('/docs', (c) => c.html(DOCS_PAGE))
      // One route for every file under /docs: a fixed path beside a parameter at the same place
      // (`/docs/init.js` and `/docs/:asset`) is more than Hono's RegExpRouter takes, and the whole
      // app then fell back to its slower TrieRouter (a few µs of every request).
      .get('/docs/:asset', async (c, next) => {
        const asset = c.req.param('asset');
        if (asset === 'init.js') return c.body(DOCS_INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' });
        return (await swaggerUiAssets(asset)) ?? next();
      })
  );
};
