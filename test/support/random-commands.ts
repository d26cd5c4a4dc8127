import fc from 'fast-check';
import { createEventStore, START, type Checkpoint } from '../../src/event-store/event-store.js';
import type { Sql } from '../../src/database/connect.js';
import type { Projection } from '../../src/projections/index.js';
import { applyNext, LIVE_VIEWS } from '../../src/projections/index.js';
import {
  decide,
  evolveAll,
  reservationIdOf,
  reservationIdOfCommand,
  reservationOf,
  streamIdOf,
  toStoredEvent,
  type SeatAvailabilityCommand,
  type SeatAvailabilityEvent,
  type SeatTypeCapacity,
} from '../../src/seat-availability/index.js';

/**
 * Random runs of every command, decided by the domain, stored and projected in random batches:
 * what the projections' property tests check the views against.
 */

const seatTypeNames = ['standard', 'vip', 'student'];

export type Conference = { name: string; createdAt: Date; seatTypes: SeatTypeCapacity[] };
/** The commands a step may send; a hold is due 60 s after it was taken. */
const STEP_KINDS = ['reserve', 'cancel', 'hold', 'confirm', 'release', 'expire'] as const;
const HOLD_SECONDS = 60;

export type Step = {
  conference: number;
  kind: (typeof STEP_KINDS)[number];
  /** Seconds into the run: a confirm or an expiry may come before or after a hold's due time. */
  at: number;
  reservationId: string;
  seats: { seatType: number; quantity: number }[];
  /** Whether a reserve or a confirm names an attendee. */
  namesAttendee: boolean;
};

export const conferenceArb: fc.Arbitrary<Conference> = fc.record({
  name: fc.string({ minLength: 1, maxLength: 20 }),
  createdAt: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  seatTypes: fc
    .uniqueArray(fc.constantFrom(...seatTypeNames), { minLength: 1, maxLength: seatTypeNames.length })
    .chain((types) =>
      fc.tuple(
        ...types.map((type) =>
          fc.integer({ min: 0, max: 30 }).map((capacity): SeatTypeCapacity => ({ type, capacity })),
        ),
      ),
    ),
});

/**
 * A command of any kind that moves seats at one of the run's conferences, for one of
 * `reservationIds` ids (fewer ids, more commands on each). Seats name the conference's seat types
 * by index (an index past its last type names an unknown type), so most reserves and holds can
 * be met.
 */
export const stepArb = (reservationIds: number): fc.Arbitrary<Step> =>
  fc.record({
    conference: fc.nat({ max: 2 }),
    kind: fc.constantFrom(...STEP_KINDS),
    at: fc.integer({ min: 0, max: 3 * HOLD_SECONDS }),
    reservationId: fc.integer({ min: 1, max: reservationIds }).map((n) => `r${n}`),
    seats: fc.uniqueArray(
      fc.record({ seatType: fc.nat({ max: seatTypeNames.length }), quantity: fc.integer({ min: 1, max: 5 }) }),
      { minLength: 1, maxLength: 2, selector: ({ seatType }) => seatType },
    ),
    namesAttendee: fc.boolean(),
  });

/** Most events per batch, taken in turn; and whether to apply each batch a second time. */
export const batchingArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.boolean()), {
  minLength: 1,
  maxLength: 5,
});

/**
 * Past every event stored so far: each run folds its own events only, whatever an earlier run
 * (one that failed, while fast-check shrinks) left unapplied.
 */
export const endOfEvents = async (sql: Sql): Promise<Checkpoint> => {
  const [last] = await sql<Checkpoint[]>`
    select transaction_id::text as "transactionId", position from events
    order by transaction_id desc, position desc limit 1`;
  return last ?? START;
};

/** An attendee as a command carries it; its sealed fields are not what these tests look at. */
const sealedAttendee = (id: string) => ({ id, personalData: { iv: 'aXY=', ciphertext: 'Y3Q=', tag: 'dGFn' } });

/** The run's commands: each conference created, then the steps. */
export const commandsOf = (
  conferenceIds: string[],
  conferences: Conference[],
  steps: Step[],
): SeatAvailabilityCommand[] => [
  ...conferences.map(({ name, createdAt, seatTypes }, i) => ({
    type: 'CreateConference' as const,
    conferenceId: conferenceIds[i]!,
    name,
    seatTypes,
    now: createdAt.toISOString(),
  })),
  ...steps.map(({ conference, kind, at, reservationId, seats, namesAttendee }): SeatAvailabilityCommand => {
    const { seatTypes } = conferences[conference % conferences.length]!;
    const conferenceId = conferenceIds[conference % conferenceIds.length]!;
    const now = new Date(Date.UTC(2026, 10, 21, 10) + at * 1000).toISOString();
    const named = seats.map(({ seatType, quantity }) => ({
      seatType: seatTypes[seatType]?.type ?? 'unknown',
      quantity,
    }));
    const key = { conferenceId, reservationId, now };
    const attendee = namesAttendee ? { attendee: sealedAttendee(`${conferenceId}-${reservationId}-${at}`) } : {};
    switch (kind) {
      case 'reserve':
        return { type: 'ReserveSeats', ...key, seats: named, ...attendee };
      case 'cancel':
        return { type: 'CancelReservation', ...key };
      case 'hold':
        return { type: 'HoldSeats', ...key, seats: named, holdSeconds: HOLD_SECONDS };
      case 'confirm':
        return { type: 'ConfirmReservation', ...key, ...attendee };
      case 'release':
        return { type: 'ReleaseHold', ...key };
      case 'expire':
        return { type: 'ExpireHold', ...key };
    }
  }),
];

/** The run's events, as the domain decides them: only what a stream can hold. */
export const decideEvents = (conferenceIds: string[], conferences: Conference[], steps: Step[]) => {
  const streams = new Map<string, SeatAvailabilityEvent[]>(conferenceIds.map((id) => [id, []]));
  const inOrder: SeatAvailabilityEvent[] = [];
  for (const command of commandsOf(conferenceIds, conferences, steps)) {
    const stream = streams.get(command.conferenceId)!;
    const id = reservationIdOfCommand(command);
    const own = stream.filter((event) => id !== undefined && reservationIdOf(event) === id);
    const decision = decide(evolveAll(stream), command, reservationOf(own));
    if (decision.kind === 'rejected') continue;
    stream.push(...decision.events);
    inOrder.push(...decision.events);
  }
  return { streams, inOrder };
};

/** Appends the events one at a time, each to its conference's stream; the position of each. */
export const appendEach = async (sql: Sql, events: SeatAvailabilityEvent[]): Promise<number[]> => {
  const store = createEventStore(sql);
  const positions: number[] = [];
  for (const event of events) {
    const streamId = streamIdOf(event.data.conferenceId);
    const version = await store.streamVersion(streamId);
    const { position } = await store.append(streamId, version, [toStoredEvent(event)]);
    positions.push(position);
  }
  return positions;
};

/**
 * Applies `count` events after `from` to the live views, in batches of the sizes `batching`
 * names in turn, applying a batch a second time where it says so.
 */
export const applyInBatches = async (
  sql: Sql,
  projection: Projection,
  from: Checkpoint,
  count: number,
  batching: [number, boolean][],
): Promise<void> => {
  let checkpoint = from;
  let applied = 0;
  const deadline = Date.now() + 20_000;
  for (let turn = 0; applied < count; turn++) {
    const [limit, again] = batching[turn % batching.length]!;
    const after = checkpoint;
    const batch = await sql.begin((tx) => applyNext(projection, tx, LIVE_VIEWS, after, limit));
    // Another test file's open transaction may hold the settled horizon back for a moment.
    if (!batch) {
      if (Date.now() > deadline) throw new Error('the appended events never settled');
      await new Promise((resume) => setTimeout(resume, 10));
      continue;
    }
    if (again) await sql.begin((tx) => applyNext(projection, tx, LIVE_VIEWS, after, limit));
    checkpoint = batch.last;
    applied += batch.count;
  }
};
