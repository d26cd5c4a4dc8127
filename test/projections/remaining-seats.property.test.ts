import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModel, remainingSeats } from '../../src/projections/index.js';
import { availability, evolveAll, initialState } from '../../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  appendEach,
  applyInBatches,
  batchingArb,
  conferenceArb,
  decideEvents,
  endOfEvents,
  stepArb,
} from '../support/random-commands.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

let runs = 0;

describe('the remaining-seats fold in SQL', () => {
  it('leaves the views as evolve leaves the state, over random events in random batches, some applied twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(conferenceArb, { minLength: 1, maxLength: 3 }),
        fc.array(stepArb(20), { maxLength: 40, size: 'max' }),
        batchingArb,
        async (conferences, steps, batching) => {
          const run = ++runs;
          const conferenceIds = conferences.map((_, i) => `fold-${run}-${i}`);
          const { streams, inOrder } = decideEvents(conferenceIds, conferences, steps);

          const from = await endOfEvents(db.sql);
          const appended = await appendEach(db.sql, inOrder);
          const positions = new Map(inOrder.map((event, i) => [event.data.conferenceId, appended[i]!]));
          await applyInBatches(db.sql, remainingSeats, from, inOrder.length, batching);

          const readModel = createReadModel(db.sql);
          const listed = (await readModel.conferences())
            .filter(({ conferenceId }) => conferenceIds.includes(conferenceId))
            .sort((a, b) => a.conferenceId.localeCompare(b.conferenceId));
          expect(listed).toEqual(
            conferenceIds.map((conferenceId, i) => ({
              conferenceId,
              name: conferences[i]!.name,
              createdAt: conferences[i]!.createdAt.toISOString(),
              position: positions.get(conferenceId),
            })),
          );
          for (const conferenceId of conferenceIds) {
            const state = evolveAll(streams.get(conferenceId)!, initialState());
            if (state.status !== 'open') throw new Error(`${conferenceId} should be open`);
            expect(await readModel.availability(conferenceId)).toEqual({
              conferenceId,
              name: state.name,
              seatTypes: availability(state),
              position: positions.get(conferenceId),
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
