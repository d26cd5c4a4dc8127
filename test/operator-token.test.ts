import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, operatorTokenCheck } from '../src/http/operator-token.js';
import { OPERATIONS } from '../src/http/openapi.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { catchUp, capturingLog, createTestService, operatorAuth, TEST_OPERATOR_TOKEN } from './support/service.js';

/** Every line the service logs: the token must be in none of them. */
const logged: string[] = [];
const log = capturingLog('trace', (line) => logged.push(line));

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;
beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql, { log });
});
afterAll(() => db?.drop());

/** An attendee id for the forget route: well formed; refused before it is looked up. */
const GUARDED_ATTENDEE = '00000000-0000-4000-8000-000000000000';

/** The operator routes, as the API document marks them, with a conference (or attendee) id in the path. */
const operatorRoutes = OPERATIONS.filter((operation) => operation.operator).map((operation) => ({
  method: operation.method.toUpperCase(),
  path: operation.path.replace('{id}', 'guarded').replace('{attendeeId}', GUARDED_ATTENDEE),
  body:
    operation.method === 'post'
      ? { id: 'guarded', name: 'Guarded', seatTypes: [{ type: 'a', capacity: 1 }] }
      : undefined,
}));

const send = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
  service.app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('the operator routes', () => {
  it('are creating a conference and listing its reservations under every prefix, its events, and forgetting an attendee', () => {
    expect(operatorRoutes.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(
      [
        ...[
          '/conferences',
          '/batched/conferences',
          '/direct/conferences',
          '/crud/conferences',
          '/crud-atomic/conferences',
        ].flatMap((prefix) => [`POST ${prefix}`, `GET ${prefix}/guarded/reservations`]),
        'GET /conferences/guarded/events',
        `DELETE /attendees/${GUARDED_ATTENDEE}/personal-data`,
      ].sort(),
    );
  });

  const refusals: [string, Record<string, string>][] = [
    ['without a token', {}],
    ['with a wrong token of the right length', { authorization: `Bearer ${'x'.repeat(TEST_OPERATOR_TOKEN.length)}` }],
    ['with a token one character short', { authorization: `Bearer ${TEST_OPERATOR_TOKEN.slice(0, -1)}` }],
    ['with the token and more', { authorization: `Bearer ${TEST_OPERATOR_TOKEN}x` }],
    ['with an empty bearer token', { authorization: 'Bearer ' }],
    ['with the token under another scheme', { authorization: `Basic ${TEST_OPERATOR_TOKEN}` }],
    ['with the token bare', { authorization: TEST_OPERATOR_TOKEN }],
    ['with two tokens', { authorization: `Bearer ${TEST_OPERATOR_TOKEN}, Bearer ${TEST_OPERATOR_TOKEN}` }],
  ];

  it.each(refusals)('answer 401 unauthorized %s, as Problem Details with WWW-Authenticate', async (_, headers) => {
    for (const { method, path, body } of operatorRoutes) {
      const response = await send(method, path, body, headers);
      const text = await response.text();
      expect(response.status, `${method} ${path}: ${text}`).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect(JSON.parse(text)).toMatchObject({ status: 401, error: 'unauthorized', title: 'Operator token required' });
    }
    // Nothing was created by the refused requests.
    for (const prefix of ['/conferences', '/crud/conferences', '/crud-atomic/conferences']) {
      const read = await send('GET', `${prefix}/guarded/availability?consistency=strong`, undefined, {});
      expect(read.status).toBe(404);
    }
  });

  it('refuse before reading the body: a bad body without the token is 401, not 400', async () => {
    const response = await send('POST', '/conferences', { nonsense: true }, {});
    expect(response.status).toBe(401);
  });

  it('serve the operator, the scheme in any case', async () => {
    for (const [i, prefix] of ['/conferences', '/crud/conferences'].entries()) {
      const id = `operated-${i}`;
      const created = await send(
        'POST',
        prefix,
        { id, name: 'Operated', seatTypes: [{ type: 'a', capacity: 1 }] },
        {
          authorization: `bearer ${TEST_OPERATOR_TOKEN}`,
        },
      );
      expect(created.status, await created.clone().text()).toBe(201);
      await catchUp(service.projector);
      const listing = await send('GET', `${prefix}/${id}/reservations`, undefined, operatorAuth);
      expect(listing.status).toBe(200);
    }
    expect((await send('GET', '/conferences/operated-0/events', undefined, operatorAuth)).status).toBe(200);
  });

  it('never leave the token in the log', async () => {
    await send('POST', '/conferences', { id: 'logged', name: 'Logged', seatTypes: [] }, operatorAuth);
    await send('GET', '/conferences/logged/events', undefined, { authorization: `Bearer ${TEST_OPERATOR_TOKEN}x` });
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.filter((line) => line.includes(TEST_OPERATOR_TOKEN))).toEqual([]);
  });
});

describe('the demo page', () => {
  const page = async (app: { request: typeof service.app.request }, host: string) =>
    (await app.request('/', { headers: { host } })).text();
  const meta = `<meta name="seat-surge-operator-token" content="${TEST_OPERATOR_TOKEN}" />`;

  it('carries the token of a server that made its own on loopback, asked for by a loopback name only', async () => {
    const own = createTestService(db.sql, { operator: { token: TEST_OPERATOR_TOKEN, onDemoPage: true } });
    try {
      for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'localhost']) {
        expect(await page(own.app, host), host).toContain(meta);
      }
      // A name a rebinding DNS could point at 127.0.0.1: the page of another site.
      for (const host of ['attacker.example:3000', 'localhost.attacker.example', '127.0.0.1.nip.io']) {
        expect(await page(own.app, host), host).not.toContain(TEST_OPERATOR_TOKEN);
      }
      const index = await own.app.request('/index.html', { headers: { host: 'localhost:3000' } });
      expect(index.headers.get('cache-control')).toBe('no-store');
      expect(await index.text()).toContain(meta);
    } finally {
      own.close();
    }
  });

  it('never carries a token the server was given (ADMIN_TOKEN)', async () => {
    expect(await page(service.app, 'localhost:3000')).not.toContain(TEST_OPERATOR_TOKEN);
  });
});

describe('the token check', () => {
  const isOperator = operatorTokenCheck('s3cret-token-of-a-good-length-0123');

  it('takes the token exactly, and nothing else, whatever its length', () => {
    expect(isOperator('s3cret-token-of-a-good-length-0123')).toBe(true);
    for (const other of [
      undefined,
      '',
      's',
      's3cret-token-of-a-good-length-012',
      's3cret-token-of-a-good-length-01234',
      'x'.repeat(10_000),
    ]) {
      expect(isOperator(other)).toBe(false);
    }
  });

  it('reads the token of a Bearer header only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('BEARER  abc ')).toBe('abc');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearer a,b')).toBeUndefined();
  });
});
