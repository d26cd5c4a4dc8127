import type { Ledger } from './ledger.js';
import { operatorHeaders } from './operator-token.js';

export type AuditCheck = { check: string; passed: boolean; detail: string };
export type AuditResult = {
  passed: boolean;
  conferences: number;
  /** Requests whose answer never came (in flight when the load stopped); their outcome was taken from the store. */
  unanswered: number;
  /** Of those, the reservations found stored, and so taken as accepted (committed without an answer). */
  adopted: number;
  /** Seat types over capacity, 201s not found in the store, live reservations nobody was told about. */
  counts: { oversold: number; missing: number; unexpected: number };
  checks: AuditCheck[];
};

/** An availability as the API answers it (`held` once holds exist). */
export type Availability = {
  seatTypes: { type: string; capacity: number; reserved: number; held?: number; remaining: number }[];
  position: number;
};

/** A reservation as the reservations page lists it, with a hold's due time and the times of its changes. */
export type Listed = {
  reservationId: string;
  seats: { seatType: string; quantity: number }[];
  status: string;
  expiresAt?: string;
  reservedAt?: string;
  confirmedAt?: string;
  releasedAt?: string;
  expiredAt?: string;
};

export const getJson = async <T>(url: string, headers: Record<string, string> = {}): Promise<T> => {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
};

/** Waits until the view reflects what the authoritative state reflects (the event-sourced view is eventually consistent). */
export const settledView = async (baseUrl: string, prefix: string, conferenceId: string, strong: Availability) => {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const view = await getJson<Availability>(`${baseUrl}${prefix}/${conferenceId}/availability`).catch(() => undefined);
    if ((view && view.position >= strong.position) || Date.now() > deadline) return view;
    await new Promise((next) => setTimeout(next, 100));
  }
};

/**
 * Waits until the reservations projection has applied every committed event, by the lag in
 * GET /healthz: it advances on its own checkpoint, so a remaining-seats view that is level says
 * nothing about it. The audit runs after the load, so the lag drains; a server without the
 * details (the CRUD paths need none) is not waited for.
 */
export const settledReservations = async (baseUrl: string) => {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const health = await getJson<{ projections?: { reservations?: { events: number } } }>(`${baseUrl}/healthz`).catch(
      () => undefined,
    );
    const events = health?.projections?.reservations?.events;
    if (events === undefined || events === 0) return;
    await new Promise((next) => setTimeout(next, 100));
  }
};

export const listReservations = async (baseUrl: string, prefix: string, conferenceId: string): Promise<Listed[]> => {
  const all: Listed[] = [];
  let after = '';
  for (;;) {
    const page = await getJson<{ reservations: Listed[]; next?: string }>(
      `${baseUrl}${prefix}/${conferenceId}/reservations?limit=1000&after=${encodeURIComponent(after)}`,
      operatorHeaders,
    );
    all.push(...page.reservations);
    const last = page.reservations.at(-1);
    if (!page.next || !last) return all;
    after = last.reservationId;
  }
};

/**
 * The integrity audit of one phase, through the API only (so it also works with --target):
 * for every conference, seats sold never exceed capacity; the view equals the authoritative
 * state (the aggregate, or the counters); both equal the seats of the reservations the load
 * generator was told were accepted and not cancelled; and every one of those is in the store,
 * with no other live reservation beside them.
 */
export const audit = async (
  baseUrl: string,
  prefix: string,
  conferenceIds: string[],
  ledger: Ledger,
): Promise<AuditResult> => {
  const failures: AuditCheck[] = [];
  const counts = { oversold: 0, viewMismatch: 0, ledgerMismatch: 0, missing: 0, unexpected: 0 };
  let answered201 = 0;
  let unanswered = 0;
  let adopted = 0;
  for (const conferenceId of conferenceIds) {
    const strong = await getJson<Availability>(`${baseUrl}${prefix}/${conferenceId}/availability?consistency=strong`);
    const view = await settledView(baseUrl, prefix, conferenceId, strong);
    await settledReservations(baseUrl);
    const stored = new Map((await listReservations(baseUrl, prefix, conferenceId)).map((r) => [r.reservationId, r]));
    // A request still in flight when the load stopped may or may not have been carried out:
    // the store says which. Answered requests are held to exactly what they were told.
    for (const request of ledger.unanswered(conferenceId)) {
      unanswered++;
      const status = request.reservationId ? stored.get(request.reservationId)?.status : undefined;
      if (request.kind === 'reserve' && status === 'reserved' && request.reservationId) {
        adopted++;
        ledger.accept(conferenceId, request.reservationId, request.seats ?? []);
      }
      if (request.kind === 'cancel' && status === 'cancelled' && request.reservationId) {
        ledger.cancel(conferenceId, request.reservationId);
      }
      ledger.answered(request);
    }
    const held = ledger.seatsHeld(conferenceId);
    for (const seat of strong.seatTypes) {
      if (seat.reserved > seat.capacity || seat.reserved < 0 || seat.remaining !== seat.capacity - seat.reserved) {
        counts.oversold++;
        failures.push({
          check: 'sold <= capacity',
          passed: false,
          detail: `${conferenceId}/${seat.type}: ${seat.reserved} of ${seat.capacity}`,
        });
      }
      const inView = view?.seatTypes.find((s) => s.type === seat.type)?.reserved;
      if (inView !== seat.reserved) {
        counts.viewMismatch++;
        failures.push({
          check: 'view == aggregate',
          passed: false,
          detail: `${conferenceId}/${seat.type}: view ${inView}, authoritative ${seat.reserved}`,
        });
      }
      if ((held.get(seat.type) ?? 0) !== seat.reserved) {
        counts.ledgerMismatch++;
        failures.push({
          check: 'reserved == accepted',
          passed: false,
          detail: `${conferenceId}/${seat.type}: store ${seat.reserved}, accepted reservations hold ${held.get(seat.type) ?? 0}`,
        });
      }
    }
    const cancelled = ledger.cancelled(conferenceId);
    for (const id of ledger.accepted(conferenceId).keys()) {
      answered201++;
      const expected = cancelled.has(id) ? 'cancelled' : 'reserved';
      if (stored.get(id)?.status !== expected) {
        counts.missing++;
        if (counts.missing <= 5)
          failures.push({
            check: 'every 201 stored',
            passed: false,
            detail: `${conferenceId}/${id}: stored as ${stored.get(id)?.status ?? 'nothing'}`,
          });
      }
    }
    const live = ledger.live(conferenceId);
    for (const [id, row] of stored) {
      if (row.status === 'reserved' && !live.has(id)) {
        counts.unexpected++;
        if (counts.unexpected <= 5)
          failures.push({ check: 'no unacknowledged reservation', passed: false, detail: `${conferenceId}/${id}` });
      }
    }
  }
  const summary: AuditCheck[] = [
    { check: 'sold <= capacity', passed: counts.oversold === 0, detail: `${counts.oversold} seat types over capacity` },
    {
      check: 'view == aggregate',
      passed: counts.viewMismatch === 0,
      detail: `${counts.viewMismatch} seat types differ`,
    },
    {
      check: 'reserved == accepted',
      passed: counts.ledgerMismatch === 0,
      detail: `${counts.ledgerMismatch} seat types differ from the accepted reservations`,
    },
    {
      check: 'every 201 stored',
      passed: counts.missing === 0,
      detail: `${answered201 - counts.missing} of ${answered201} found`,
    },
    {
      check: 'no unacknowledged reservation',
      passed: counts.unexpected === 0,
      detail: `${counts.unexpected} live reservations nobody was told about`,
    },
  ];
  return {
    passed: summary.every((c) => c.passed),
    conferences: conferenceIds.length,
    unanswered,
    adopted,
    counts: { oversold: counts.oversold, missing: counts.missing, unexpected: counts.unexpected },
    checks: [...summary, ...failures.slice(0, 20)],
  };
};
