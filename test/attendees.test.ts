import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttendeeKeys } from '../src/attendees/index.js';
import { createLogger } from '../src/logger.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { dumpDatabase } from './support/dump.js';
import { catchUp, createTestService, sendAsOperator } from './support/service.js';
import { viewContents } from './support/views.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;
/** Every line the service logged, at debug level, through the whole file. */
const logged: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql, { log: createLogger('debug', 'json', { write: (line) => logged.push(line) }) });
});
afterAll(async () => {
  service?.close();
  await db?.drop();
});

const send = (method: string, path: string, body?: unknown) => sendAsOperator(service.app, method, path, body);

const createConference = async (id: string, capacity: number, prefix = '/conferences') =>
  expect((await send('POST', prefix, { id, name: id, seatTypes: [{ type: 'standard', capacity }] })).status).toBe(201);

const seats = [{ seatType: 'standard', quantity: 1 }];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Personal fields unlike anything else in the database, so a search for them finds only them. */
const person = (tag: string) => ({ name: `Ada ${tag} Lovelace`, email: `ada.${tag}@example.org` });
const everyPerson: ReturnType<typeof person>[] = [];
const newPerson = () => {
  const named = person(randomBytes(6).toString('hex'));
  everyPerson.push(named);
  return named;
};

const keyCount = async (attendeeIds: string[]) =>
  (
    await db.sql<{ n: number }[]>`select count(*)::int as n from attendee_keys where attendee_id = any(${attendeeIds})`
  )[0]!.n;

describe('attendees', () => {
  it('are stored only encrypted, answered by id, and shown with their fields where the reservation is read by its id', async () => {
    await createConference('attendee-basics', 10);
    const ada = newPerson();
    const reserved = await send('POST', '/conferences/attendee-basics/reservations', {
      reservationId: 'attendee-basics-reservation-1',
      seats,
      attendee: ada,
    });
    expect(reserved.status).toBe(201);
    expect(reserved.body.attendee).toEqual({ id: expect.stringMatching(UUID) });
    const attendeeId = reserved.body.attendee.id as string;

    const [stored] = await db.sql<{ data: string; schemaVersion: number }[]>`
      select data::text, schema_version as "schemaVersion" from events
      where stream_id = 'seat-availability-attendee-basics' and type = 'SeatsReserved'`;
    expect(stored!.schemaVersion).toBe(2);
    expect(stored!.data).toContain(attendeeId);
    expect(stored!.data).not.toContain(ada.name);
    expect(stored!.data).not.toContain(ada.email);

    await catchUp(service.projector);
    const read = await send('GET', '/conferences/attendee-basics/reservations/attendee-basics-reservation-1');
    expect(read.body.attendee).toEqual({ id: attendeeId, ...ada });
    const listing = await send('GET', '/conferences/attendee-basics/reservations');
    expect(listing.body.reservations[0].attendee).toEqual({ id: attendeeId });
    const events = await send('GET', '/conferences/attendee-basics/events');
    expect(events.body.events[1].data.attendee).toEqual({ id: attendeeId, ...ada });
    // Without an attendee, a reservation names none, in the event and in every answer.
    const anonymous = await send('POST', '/conferences/attendee-basics/reservations', { seats });
    expect(anonymous.body).not.toHaveProperty('attendee');
  });

  it('keeps the attendee a reservation named first on a repeat, and names no one for a command that appended nothing', async () => {
    await createConference('attendee-repeats', 1);
    const path = '/conferences/attendee-repeats/reservations';
    const first = await send('POST', path, { reservationId: 'attendee-repeats-first', seats, attendee: newPerson() });
    const repeat = await send('POST', path, { reservationId: 'attendee-repeats-first', seats, attendee: newPerson() });
    expect(repeat.status).toBe(200);
    expect(repeat.body.attendee).toEqual(first.body.attendee);
    const soldOut = await send('POST', path, {
      reservationId: 'attendee-repeats-second',
      seats,
      attendee: newPerson(),
    });
    expect(soldOut.status).toBe(409);
    const named = await db.sql<{ id: string }[]>`
      select data #>> '{attendee,id}' as id from events
      where stream_id = 'seat-availability-attendee-repeats' and data #>> '{attendee,id}' is not null`;
    expect(named).toEqual([{ id: first.body.attendee.id }]);
  });

  it('stores keys ahead of need, and hands a key given back to the next attendee', async () => {
    const keys = createAttendeeKeys(db.sql, { ahead: 4 });
    const first = await keys.issue();
    keys.giveBack(first);
    expect(await keys.issue()).toEqual(first);
    // Nine more: the first batch of four runs out twice, and is stored again each time.
    const issued = [first];
    for (let i = 0; i < 9; i++) issued.push(await keys.issue());
    expect(new Set(issued.map((k) => k.attendeeId)).size).toBe(10);
    const stored = await keys.keysOf(issued.map((k) => k.attendeeId));
    for (const { attendeeId, key } of issued) expect(stored.get(attendeeId)).toEqual({ key });
  });

  it("names a hold's attendee at its confirm", async () => {
    await createConference('attendee-checkout', 5);
    const held = await send('POST', '/conferences/attendee-checkout/holds', {
      reservationId: 'attendee-checkout-hold-1',
      seats,
    });
    expect(held.body).not.toHaveProperty('attendee');
    const grace = newPerson();
    const confirmed = await send('POST', '/conferences/attendee-checkout/holds/attendee-checkout-hold-1/confirm', {
      attendee: grace,
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.attendee).toEqual({ id: expect.stringMatching(UUID) });
    await catchUp(service.projector);
    const read = await send('GET', '/conferences/attendee-checkout/reservations/attendee-checkout-hold-1');
    expect(read.body).toMatchObject({ status: 'confirmed', attendee: { id: confirmed.body.attendee.id, ...grace } });
    // A confirm without a body still confirms (a hold confirmed twice answers as it did).
    const again = await service.app.request('/conferences/attendee-checkout/holds/attendee-checkout-hold-1/confirm', {
      method: 'POST',
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { attendee: unknown }).attendee).toEqual(confirmed.body.attendee);
  });

  it('refuses an attendee that is not one with 400, without repeating what was sent, and on the CRUD designs', async () => {
    await createConference('attendee-refusals', 5);
    const path = '/conferences/attendee-refusals/reservations';
    const secret = 'not-an-address-7f3a';
    for (const attendee of [
      { name: 'Ada', email: secret },
      { name: '', email: 'ada@example.org' },
      { name: 'Ada', email: 'ada@example.org', phone: secret },
      { name: 'x'.repeat(201), email: 'ada@example.org' },
      { name: 'Ada' },
    ]) {
      const answer = await send('POST', path, { seats, attendee });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
      expect(JSON.stringify(answer.body)).not.toContain(secret);
    }
    expect((await send('POST', '/conferences/attendee-refusals/holds', { seats, attendee: newPerson() })).status).toBe(
      400,
    );
    for (const prefix of ['/crud/conferences', '/crud-atomic/conferences']) {
      const conferenceId = `attendee-refusals${prefix.replace(/\W/g, '-').replace('-conferences', '')}`;
      await createConference(conferenceId, 5, prefix);
      const answer = await send('POST', `${prefix}/${conferenceId}/reservations`, { seats, attendee: newPerson() });
      expect(answer.status).toBe(400);
      expect(answer.body.message).toMatch(/does not record attendees/);
    }
  });

  it('forgets: every read shows the attendee forgotten, every seat answer is unchanged, and the whole database holds neither name nor email', async () => {
    await createConference('attendee-forgotten', 10);
    const path = '/conferences/attendee-forgotten/reservations';
    const ada = newPerson();
    const grace = newPerson();
    const reserved = await send('POST', path, { reservationId: 'attendee-forgotten-ada', seats, attendee: ada });
    await send('POST', path, { reservationId: 'attendee-forgotten-grace', seats, attendee: grace });
    await catchUp(service.projector);
    const asOf = new Date().toISOString();
    const seatAnswers = async () => ({
      view: await send('GET', '/conferences/attendee-forgotten/availability'),
      strong: await send('GET', '/conferences/attendee-forgotten/availability?consistency=strong'),
      asOf: await send('GET', `/conferences/attendee-forgotten/availability?asOf=${asOf}`),
    });
    const before = await seatAnswers();
    const views = await viewContents(db.sql);
    const attendeeId = reserved.body.attendee.id as string;
    const [key] = await db.sql<{ hex: string }[]>`
      select encode(key, 'hex') as hex from attendee_keys where attendee_id = ${attendeeId}`;
    // The dump can see what it looks for: the key, before it is deleted.
    expect((await dumpDatabase(db.sql, db.url)).text).toContain(key!.hex);

    const forgotten = await send('DELETE', `/attendees/${attendeeId}/personal-data`);
    expect(forgotten).toEqual({
      status: 200,
      body: { attendeeId, forgotten: true, forgottenAt: expect.any(String) },
    });
    expect(await send('DELETE', `/attendees/${attendeeId}/personal-data`)).toEqual(forgotten);

    const read = await send('GET', '/conferences/attendee-forgotten/reservations/attendee-forgotten-ada');
    expect(read.body).toMatchObject({ status: 'reserved', attendee: { id: attendeeId, forgotten: true } });
    expect(read.body.attendee).not.toHaveProperty('name');
    const events = (await send('GET', '/conferences/attendee-forgotten/events')).body.events as {
      data: { attendee?: unknown };
    }[];
    expect(events.map((event) => event.data.attendee).filter(Boolean)).toEqual([
      { id: attendeeId, forgotten: true },
      { id: expect.stringMatching(UUID), ...grace },
    ]);
    // Seats never depend on personal fields: the same answers, the same views, and the cancel still works.
    expect(await seatAnswers()).toEqual(before);
    expect(await viewContents(db.sql)).toEqual(views);
    expect((await send('DELETE', `${path}/attendee-forgotten-ada`)).status).toBe(200);

    const dump = await dumpDatabase(db.sql, db.url);
    console.info(`forgetting checked on a dump by ${dump.tool}`);
    expect(dump.text).not.toContain(key!.hex);
    // The events are not rewritten: the sealed fields and the id are still there, unreadable.
    expect(dump.text).toContain(attendeeId);
    expect(dump.text).toContain('attendee-forgotten-ada');
    for (const { name, email } of [ada, grace]) {
      expect(dump.text).not.toContain(name);
      expect(dump.text).not.toContain(email);
    }
  });

  it('is an error, never an attendee left out, when a key does not open what it sealed', async () => {
    await createConference('attendee-tampered', 5);
    const reserved = await send('POST', '/conferences/attendee-tampered/reservations', {
      reservationId: 'attendee-tampered-reservation',
      seats,
      attendee: newPerson(),
    });
    await catchUp(service.projector);
    await db.sql`update attendee_keys set key = ${randomBytes(32)} where attendee_id = ${reserved.body.attendee.id}`;
    const read = await send('GET', '/conferences/attendee-tampered/reservations/attendee-tampered-reservation');
    expect(read.status).toBe(500);
    expect(read.body.error).toBe('internal_error');
    expect((await send('GET', '/conferences/attendee-tampered/events')).status).toBe(500);
  });

  it('sells exactly the capacity to attendees racing for it, each attendee sold to keyed and named by its event, no one else', async () => {
    await createConference('attendee-race', 40);
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        send('POST', '/conferences/attendee-race/reservations', {
          reservationId: `attendee-race-reservation-${i}`,
          seats,
          attendee: person(`race-${i}`),
        }),
      ),
    );
    const sold = answers.filter((answer) => answer.status === 201);
    expect(sold).toHaveLength(40);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(80);
    const soldTo = sold.map((answer) => answer.body.attendee.id as string);
    expect(new Set(soldTo).size).toBe(40);
    expect(await keyCount(soldTo)).toBe(40);
    const naming = await db.sql<{ id: string }[]>`
      select data #>> '{attendee,id}' as id from events
      where stream_id = 'seat-availability-attendee-race' and data #>> '{attendee,id}' is not null`;
    expect(naming.map((row) => row.id).sort()).toEqual([...soldTo].sort());
    await catchUp(service.projector);
    const strong = await send('GET', '/conferences/attendee-race/availability?consistency=strong');
    const view = await send('GET', '/conferences/attendee-race/availability');
    expect(strong.body.seatTypes).toEqual([{ type: 'standard', capacity: 40, reserved: 40, held: 0, remaining: 0 }]);
    expect(view.body.seatTypes).toEqual(strong.body.seatTypes);
    const [named] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from reservations_view where conference_id = 'attendee-race' and attendee_id = any(${soldTo})`;
    expect(named!.n).toBe(40);
  });

  it('never logs personal fields, whatever the request', () => {
    expect(logged.length).toBeGreaterThan(20);
    const log = logged.join('');
    for (const { name, email } of everyPerson) {
      expect(log).not.toContain(name);
      expect(log).not.toContain(email);
    }
  });

  it('answers 404 for an attendee it does not know and 400 for an id that is not one', async () => {
    expect((await send('DELETE', `/attendees/${crypto.randomUUID()}/personal-data`)).body.error).toBe(
      'attendee_not_found',
    );
    expect((await send('DELETE', '/attendees/not-a-uuid/personal-data')).status).toBe(400);
  });
});
