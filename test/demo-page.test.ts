import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService, operatorAuth, TEST_OPERATOR_TOKEN } from './support/service.js';

/** Debian's Chromium; the test never downloads a browser. */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
/** Under CI the browser is part of the run (.ci/run installs it): a missing one fails the run instead of skipping. */
const chromiumRequired = process.env.CI === 'true';
if (!hasChromium && !chromiumRequired) {
  console.warn(
    `test/demo-page.test.ts is skipped: ${CHROMIUM} is missing (install it with: apt-get install -y chromium)`,
  );
}

if (!hasChromium && chromiumRequired) {
  describe('the demo page under CI', () => {
    it('has its browser', () => {
      expect.fail(`${CHROMIUM} is missing under CI=true: .ci/run installs it with apt-get install -y chromium`);
    });
  });
}

/** Long enough for a 2 s poll on a loaded machine. */
const soon = { timeout: 15_000 };

const OUTPUT = fileURLToPath(new URL('../test-results/demo-page/', import.meta.url));

/** This machine's network refuses Chromium's background connections; these flags keep it from trying. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!hasChromium)('the demo page', () => {
  let db: TestDatabase | undefined;
  let service: ReturnType<typeof createTestService> | undefined;
  let server: ServerType | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let baseUrl: string;
  /** Every request a page tried beyond this server (refused): the page must work offline. */
  const offSite: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(OUTPUT, { recursive: true });
    db = await createTestDatabase();
    // As `npm start` on loopback with a token of its own: the page is given it for its operator actions.
    service = createTestService(db.sql, {
      projector: { batchSize: 500, pollIntervalMs: 200 },
      operator: { token: TEST_OPERATOR_TOKEN, onDemoPage: true },
    });
    service.projector.start();
    // The live table is woken by the projector's notifications, as in production.
    await service.changedViews.start();
    // Holds left alone expire at their due time, as in production (polling every 200 ms by default).
    service.expirer.start();
    const listening = serve({ fetch: service.app.fetch, port: 0, hostname: '127.0.0.1' });
    server = listening;
    await new Promise<void>((ready, failed) => {
      listening.once('listening', ready);
      listening.once('error', failed);
    });
    baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // A missing element fails a read quickly instead of stalling a poll for the default 30 s.
    context.setDefaultTimeout(5_000);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      offSite.push(url.href);
      return route.abort('blockedbyclient');
    });
  });

  // Every step runs even when an earlier one (or the setup) failed; the first error is reported.
  afterAll(async () => {
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => browser?.close(),
      async () => service?.closeLiveStreams(),
      () => (server ? new Promise<void>((closed) => server?.close(() => closed())) : undefined),
      () => service?.expirer.stop(),
      () => service?.changedViews.stop(),
      () => service?.projector.stop(),
      () => db?.drop(),
    ];
    const failures: unknown[] = [];
    for (const step of steps) await Promise.resolve(step()).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  });

  /** Opens the demo at `path`; `prepare` runs first (routes, viewport). Page errors are recorded. */
  const openPage = async (path = '/', prepare?: (page: Page) => Promise<unknown>): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await prepare?.(page);
    await page.goto(`${baseUrl}${path}`);
    return page;
  };

  /** Creates a conference through the API, for the tests that are not about creating one. */
  const createConference = async (id: string) => {
    const response = await fetch(`${baseUrl}/conferences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operatorAuth },
      body: JSON.stringify({ id, name: `Conference ${id}`, seatTypes: [{ type: 'standard', capacity: 100 }] }),
    });
    expect(response.status).toBe(201);
  };

  const seatCount = (page: Page, view: string, seatType: string, field: 'reserved' | 'held' | 'remaining') =>
    page.locator(`${view} tr[data-seat-type="${seatType}"] [data-field="${field}"]`);
  const remaining = (page: Page, view: string, seatType: string) => seatCount(page, view, seatType, 'remaining');

  it('creates a conference, books and cancels seats with live updates, offline', async () => {
    const page = await openPage();
    await expect(page.title()).resolves.toBe('seat-surge: live demo');

    // Invalid input: the API's invalid_request message with its issues.
    await page.locator('#new-conference-id').fill('Not Valid');
    await page.locator('#create-conference').click();
    await expect.poll(() => page.locator('#status').textContent(), soon).toMatch(/Invalid body: id .*\(id: /);

    await page.locator('#new-conference-id').fill('browser-demo');
    await page.locator('#new-conference-name').fill('Browser Demo 2026');
    await page.locator('#create-conference').click();
    await expect.poll(() => page.locator('#status').textContent(), soon).toContain('Created conference browser-demo');

    // The first live event brings the view (capacities 100 and 10 are the form's defaults).
    await expect.poll(() => remaining(page, '#availability', 'standard').textContent(), soon).toBe('100');
    await expect.poll(() => page.locator('#live-mode').textContent(), soon).toBe('live');
    expect(await remaining(page, '#availability', 'vip').textContent()).toBe('10');

    await page.locator('#reserve-seat-type').selectOption('standard');
    await page.locator('#reserve-quantity').fill('3');
    await page.locator('#reserve-id').fill('browser-reservation-1');
    await page.locator('#reserve-submit').click();
    await expect.poll(() => page.locator('#status').textContent(), soon).toContain('Reserved 3 standard');
    await expect.poll(() => remaining(page, '#availability', 'standard').textContent(), soon).toBe('97');

    // Sold out: the insufficient_seats message.
    await page.locator('#reserve-seat-type').selectOption('vip');
    await page.locator('#reserve-quantity').fill('11');
    await page.locator('#reserve-id').fill('');
    await page.locator('#reserve-submit').click();
    await expect
      .poll(() => page.locator('#status').textContent(), soon)
      .toContain('Not enough seats: 10 vip left, 11 requested.');

    // Cancel from the list of reservations; the seats come back through the live update.
    const cancel = page.getByRole('button', { name: 'Cancel reservation browser-reservation-1' });
    await cancel.click();
    await expect
      .poll(() => page.locator('#status').textContent(), soon)
      .toContain('Cancelled reservation browser-reservation-1');
    await expect.poll(() => remaining(page, '#availability', 'standard').textContent(), soon).toBe('100');

    // The audit trail, newest first, and the three views.
    await expect
      .poll(() => page.locator('#event-list li .event-head strong').allTextContents(), soon)
      .toEqual(['ReservationCancelled', 'SeatsReserved', 'ConferenceCreated']);
    await expect
      .poll(() => page.locator('#replayed-view [data-field="meta"]').textContent(), soon)
      .toMatch(/^version 3 /);
    expect(await remaining(page, '#materialised-view', 'standard').textContent()).toBe('100');
    await page.locator('#asof-range').fill('1');
    await expect.poll(() => remaining(page, '#point-in-time-view', 'standard').textContent(), soon).toBe('97');
    await expect(page.locator('#asof-range-label').textContent()).resolves.toMatch(/^after 2 of 3 events/);

    // Something on the page for the screenshot: a booking that stays, and a small surge.
    await page.locator('#reserve-seat-type').selectOption('vip');
    await page.locator('#reserve-quantity').fill('2');
    await page.locator('#reserve-submit').click();
    await expect.poll(() => remaining(page, '#availability', 'vip').textContent(), soon).toBe('8');
    // And a checkout under way: a pending hold with its countdown.
    await page.locator('#reserve-quantity').fill('1');
    await page.locator('#reserve-id').fill('browser-pending-hold-1');
    await page.locator('#hold-seconds').fill('600');
    await page.locator('#hold-submit').click();
    await expect.poll(() => seatCount(page, '#availability', 'vip', 'held').textContent(), soon).toBe('1');
    expect(await remaining(page, '#availability', 'vip').textContent()).toBe('7');
    await page.locator('#surge-seats').fill('20');
    await page.locator('#surge-bookings').fill('60');
    await page.locator('#surge-concurrency').fill('20');
    await page.locator('#surge-button').click();
    await expect.poll(() => page.locator('#surge-results tbody tr').count(), { timeout: 30_000 }).toBe(3);
    for (const design of ['event-sourced', 'crud', 'crud-atomic']) {
      const row = page.locator(`#surge-results tr[data-design="${design}"]`);
      expect(await row.locator('[data-field="sold"]').textContent()).toBe('20 of 20');
      expect(await row.locator('[data-field="refused"]').textContent()).toBe('40');
    }

    await page.screenshot({ path: `${OUTPUT}demo-page.png`, fullPage: true });
    expect(offSite).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('holds seats with a countdown, confirms one, releases one, and shows one left alone expired by the expirer', async () => {
    await createConference('browser-holds');
    const page = await openPage('/#conference=browser-holds');
    const status = () => page.locator('#status').textContent();
    /** The live seats of the standard type, as the page shows them. */
    const standard = async () => ({
      reserved: await seatCount(page, '#availability', 'standard', 'reserved').textContent(),
      held: await seatCount(page, '#availability', 'standard', 'held').textContent(),
      remaining: await remaining(page, '#availability', 'standard').textContent(),
    });
    const inHolds = (reservationId: string) => page.locator(`#hold-list li[data-reservation-id="${reservationId}"]`);
    const listed = (reservationId: string) =>
      page.locator(`#reservations-list li[data-reservation-id="${reservationId}"]`);
    const holdSeats = async (reservationId: string, quantity: number, seconds: number) => {
      await page.locator('#reserve-seat-type').selectOption('standard');
      await page.locator('#reserve-quantity').fill(String(quantity));
      await page.locator('#reserve-id').fill(reservationId);
      await page.locator('#hold-seconds').fill(String(seconds));
      await page.locator('#hold-submit').click();
      await expect.poll(status, soon).toContain(`Held ${quantity} standard until`);
    };
    await expect.poll(standard, soon).toEqual({ reserved: '0', held: '0', remaining: '100' });

    // Held: out of sale but not sold, with a countdown that runs, in the holds and in the reservations.
    await holdSeats('hold-to-confirm-001', 3, 60);
    await expect.poll(standard, soon).toEqual({ reserved: '0', held: '3', remaining: '97' });
    expect(await page.locator('#availability [data-field="share-held"]').first().getAttribute('style')).toBe(
      'width: 3%',
    );
    expect(await inHolds('hold-to-confirm-001').getAttribute('data-status')).toBe('held');
    const countdown = inHolds('hold-to-confirm-001').locator('.countdown');
    const first = await countdown.textContent();
    expect(first).toMatch(/^(1:00|0:5\d) left$/);
    await expect.poll(() => countdown.textContent(), soon).not.toBe(first);
    await expect.poll(() => listed('hold-to-confirm-001').getAttribute('data-status'), soon).toBe('held');
    expect(await listed('hold-to-confirm-001').locator('.countdown').textContent()).toMatch(/^\d:\d\d left$/);

    // Confirmed: the held seats are reserved.
    await inHolds('hold-to-confirm-001').getByRole('button', { name: 'Confirm hold hold-to-confirm-001' }).click();
    await expect.poll(status, soon).toContain('Confirmed hold hold-to-confirm-001: its 3 standard are reserved now');
    await expect.poll(standard, soon).toEqual({ reserved: '3', held: '0', remaining: '97' });
    expect(await inHolds('hold-to-confirm-001').getAttribute('data-status')).toBe('confirmed');
    await expect.poll(() => listed('hold-to-confirm-001').getAttribute('data-status'), soon).toBe('confirmed');
    expect(
      await listed('hold-to-confirm-001')
        .getByRole('button', { name: 'Cancel reservation hold-to-confirm-001' })
        .count(),
    ).toBe(1);

    // Released, from the reservations list: back on sale.
    await holdSeats('hold-to-release-001', 2, 60);
    await expect.poll(standard, soon).toEqual({ reserved: '3', held: '2', remaining: '95' });
    await expect.poll(() => listed('hold-to-release-001').getAttribute('data-status'), soon).toBe('held');
    await listed('hold-to-release-001').getByRole('button', { name: 'Release hold hold-to-release-001' }).click();
    await expect.poll(status, soon).toContain('Released hold hold-to-release-001: its seats are back on sale');
    await expect.poll(standard, soon).toEqual({ reserved: '3', held: '0', remaining: '97' });
    expect(await inHolds('hold-to-release-001').getAttribute('data-status')).toBe('released');
    await expect.poll(() => listed('hold-to-release-001').getAttribute('data-status'), soon).toBe('released');

    // Left alone for its 2 s: the countdown runs out, the server's expirer expires it, the seats return.
    await holdSeats('hold-to-expire-001', 4, 2);
    await expect.poll(() => inHolds('hold-to-expire-001').getAttribute('data-status'), soon).toBe('expired');
    expect(await inHolds('hold-to-expire-001').locator('[data-field="expired"]').textContent()).toMatch(
      /^expired at [\d:.]+, \d+ ms after its due time$/,
    );
    await expect.poll(status, soon).toMatch(/^Hold hold-to-expire-001 expired at .* its seats are back on sale\.$/);
    await expect.poll(standard, soon).toEqual({ reserved: '3', held: '0', remaining: '97' });
    await expect.poll(() => listed('hold-to-expire-001').getAttribute('data-status'), soon).toBe('expired');

    // Too late to confirm: the server's 409 hold_expired, in words.
    await inHolds('hold-to-expire-001').getByRole('button', { name: 'Confirm hold hold-to-expire-001' }).click();
    await expect
      .poll(status, soon)
      .toMatch(/^Not confirmed: Hold hold-to-expire-001 expired at \S+\. Too late to confirm: hold the seats again\.$/);
    expect(await page.locator('#status').getAttribute('class')).toContain('status-error');

    await expect
      .poll(() => page.locator('#event-list li .event-head strong').allTextContents(), soon)
      .toEqual([
        'HoldExpired',
        'SeatsHeld',
        'HoldReleased',
        'SeatsHeld',
        'HoldConfirmed',
        'SeatsHeld',
        'ConferenceCreated',
      ]);
    expect(await seatCount(page, '#materialised-view', 'standard', 'held').textContent()).toBe('0');
    expect(offSite).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('falls back to polling when the event stream is unavailable', async () => {
    await createConference('browser-polling');
    const page = await openPage('/#conference=browser-polling', (page) =>
      page.route('**/stream', (route) => route.abort('connectionrefused')),
    );
    await expect.poll(() => page.locator('#live-mode').textContent(), soon).toBe('polling');
    await expect.poll(() => remaining(page, '#availability', 'standard').textContent(), soon).toBe('100');

    await page.locator('#reserve-seat-type').selectOption('standard');
    await page.locator('#reserve-quantity').fill('4');
    await page.locator('#reserve-submit').click();
    await expect.poll(() => remaining(page, '#availability', 'standard').textContent(), soon).toBe('96');
    expect(offSite).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('reads on a phone: one column, nothing wider than the screen', async () => {
    await createConference('browser-phone');
    const page = await openPage('/#conference=browser-phone', (page) =>
      page.setViewportSize({ width: 390, height: 844 }),
    );
    await expect.poll(() => remaining(page, '#availability', 'standard').textContent(), soon).toBe('100');
    // A pending hold too: its countdown and buttons in the list of holds and of reservations.
    await page.locator('#hold-seconds').fill('600');
    await page.locator('#hold-submit').click();
    await expect.poll(() => seatCount(page, '#availability', 'standard', 'held').textContent(), soon).toBe('1');
    await expect.poll(() => page.locator('#reservations-list .countdown').count(), soon).toBe(1);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${OUTPUT}demo-page-phone.png`, fullPage: true });
    expect(offSite).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
  it('renders the API docs page offline, with the operations of the OpenAPI document', async () => {
    const page = await openPage('/docs');
    await expect.poll(() => page.locator('.info .title').first().textContent(), soon).toContain('seat-surge');
    await expect.poll(() => page.getByText('Reserve seats').count(), soon).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('/crud/conferences/{id}/reservations').count(), soon).toBeGreaterThan(0);
    await page.screenshot({ path: `${OUTPUT}docs-page.png` });
    expect(offSite).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
