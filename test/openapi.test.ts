import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATIONS, type Operation } from '../src/http/openapi.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, capturingLog, createTestService, operatorAuth } from './support/service.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const log = capturingLog('info', (line) => logLines.push(JSON.parse(line) as Record<string, unknown>));
  service = createTestService(db.sql, { log });
});
afterAll(() => db?.drop());

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  service.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...operatorAuth, ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

/** The documented operation a request path belongs to: /conferences/a/availability → /conferences/{id}/availability. */
const operationOf = (method: string, path: string): Operation | undefined =>
  OPERATIONS.find(
    (op) =>
      op.method === method.toLowerCase() &&
      new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path.split('?')[0] ?? ''),
  );

/** Sends a request and checks the answer against the document: status listed, content type, body shape. */
const documented = async (method: string, path: string, body?: unknown) => {
  const response = await send(method, path, body);
  const operation = operationOf(method, path);
  expect(operation, `${method} ${path} is documented`).toBeDefined();
  const answer = operation?.answers[response.status];
  expect(answer, `${method} ${path} answered ${response.status}, which is documented`).toBeDefined();
  const contentType = answer?.contentType ?? 'application/json';
  expect(response.headers.get('content-type')).toContain(contentType);
  const text = await response.text();
  if (answer?.schema) {
    const parsed = answer.schema.safeParse(JSON.parse(text));
    expect(parsed.error?.issues ?? [], `${method} ${path} ${response.status}: ${text}`).toEqual([]);
  }
  return { status: response.status, body: answer?.schema ? (JSON.parse(text) as Record<string, unknown>) : text };
};

/** Hono's routes as OpenAPI paths, middleware left out: /conferences/:id → /conferences/{id}. */
const appRoutes = () =>
  new Set(
    service.app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`),
  );

/** Pages for people, not part of the API: the demo page's files (a route each) and the docs page. */
const PAGES = [
  'get /',
  ...readdirSync(new URL('../public/', import.meta.url)).map((file) => `get /${file}`),
  'get /docs',
  'get /docs/{asset}',
];

describe('GET /openapi.json', () => {
  it('documents every route the app serves and no route it does not', () => {
    const served = [...appRoutes()].filter((route) => !PAGES.includes(route)).sort();
    const listed = OPERATIONS.map((op) => `${op.method} ${op.path}`).sort();
    expect(listed).toEqual(served);
  });

  it('is an OpenAPI 3.1 document whose every reference resolves', async () => {
    const { status, body } = await documented('GET', '/openapi.json');
    expect(status).toBe(200);
    const document = JSON.parse(body as string) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(Object.keys(document.components.schemas)).toContain(ref);
    const reserve = document.paths['/crud/conferences/{id}/reservations']?.post;
    expect(Object.keys(reserve?.responses ?? {})).toEqual(expect.arrayContaining(['201', '200', '400', '409', '503']));
    expect(reserve?.parameters?.map((p) => p.name)).toEqual(['id']);
    // Generated from the validating schemas: the request pattern is the one the route enforces.
    expect(JSON.stringify(document.components.schemas.CreateConference)).toContain('"additionalProperties":false');
  });

  it.each([
    '/conferences',
    '/batched/conferences',
    '/direct/conferences',
    '/crud/conferences',
    '/crud-atomic/conferences',
  ])('answers as documented on %s, successes and errors alike', async (prefix) => {
    const id = `doc-${prefix.split('/')[1]}`;
    const seatTypes = [{ type: 'standard', capacity: 3 }];
    expect((await documented('POST', prefix, { id, name: 'Documented', seatTypes })).status).toBe(201);
    expect((await documented('POST', prefix, { id, name: 'Again', seatTypes })).status).toBe(409);
    expect((await documented('POST', prefix, { id: 'Bad Id', name: 'x', seatTypes })).status).toBe(400);
    const reservation = { reservationId: 'r1-4f9c2a7e1b8d6', seats: [{ seatType: 'standard', quantity: 2 }] };
    expect((await documented('POST', `${prefix}/${id}/reservations`, reservation)).status).toBe(201);
    expect((await documented('POST', `${prefix}/${id}/reservations`, reservation)).status).toBe(200);
    expect((await documented('POST', `${prefix}/${id}/reservations`, { seats: reservation.seats })).status).toBe(409);
    expect((await documented('POST', `${prefix}/${id}/reservations`, '{oops')).status).toBe(400);
    expect((await documented('POST', `${prefix}/nope/reservations`, reservation)).status).toBe(404);
    await catchUp(service.projector);
    expect((await documented('GET', prefix)).status).toBe(200);
    expect((await documented('GET', `${prefix}/${id}/availability`)).status).toBe(200);
    expect((await documented('GET', `${prefix}/${id}/availability?consistency=strong`)).status).toBe(200);
    const now = encodeURIComponent(new Date().toISOString());
    expect((await documented('GET', `${prefix}/${id}/availability?asOf=${now}`)).status).toBe(
      prefix.startsWith('/crud') ? 400 : 200,
    );
    expect((await documented('GET', `${prefix}/${id}/availability?asOf=yesterday`)).status).toBe(400);
    expect((await documented('GET', `${prefix}/nope/availability`)).status).toBe(404);
    expect((await documented('GET', `${prefix}/${id}/reservations?limit=1`)).status).toBe(200);
    expect((await documented('GET', `${prefix}/${id}/reservations/r1-4f9c2a7e1b8d6`)).status).toBe(200);
    expect((await documented('DELETE', `${prefix}/${id}/reservations/r1-4f9c2a7e1b8d6`)).status).toBe(200);
    expect((await documented('DELETE', `${prefix}/${id}/reservations/r9`)).status).toBe(404);
  });

  it('answers as documented for the audit trail, health and the ceiling probe', async () => {
    await send('POST', '/conferences', { id: 'doc-trail', name: 'Trail', seatTypes: [{ type: 'a', capacity: 1 }] });
    expect((await documented('GET', '/conferences/doc-trail/events?limit=1')).status).toBe(200);
    expect((await documented('GET', '/conferences/doc-trail/events?after=x')).status).toBe(400);
    expect((await documented('GET', '/conferences/doc-none/events')).status).toBe(404);
    expect((await documented('GET', '/healthz')).status).toBe(200);
    expect((await documented('GET', '/metrics')).status).toBe(200);
    expect((await documented('POST', '/loadtest/ceiling', { seats: [{ seatType: 'a', quantity: 1 }] })).status).toBe(
      200,
    );
  });
});

describe('GET /docs', () => {
  it('serves an interactive page whose every asset comes from this server', async () => {
    const page = await send('GET', '/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\//);
      const response = await send('GET', asset);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
    }
    expect(await (await send('GET', '/docs/init.js')).text()).toContain("url: '/openapi.json'");
  });

  it('serves only the files it lists', async () => {
    expect((await send('GET', '/docs/package.json')).status).toBe(404);
    expect((await send('GET', '/docs/..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await send('GET', '/package.json')).status).toBe(404);
  });
});

describe('request logs', () => {
  it('writes one line per request with method, path, status, duration and the request id it echoes', async () => {
    logLines.length = 0;
    const response = await send('GET', '/conferences/log-none/availability', undefined, { 'x-request-id': 'trace-42' });
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    const generated = await send('GET', '/healthz');
    const lines = logLines.filter((line) => line.msg === 'request');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        requestId: 'trace-42',
        method: 'GET',
        path: '/conferences/log-none/availability',
        status: 404,
        durationMs: expect.any(Number),
      }),
      expect.objectContaining({ requestId: generated.headers.get('x-request-id'), path: '/healthz', status: 200 }),
    ]);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
