import { describe, expect, it } from 'vitest';
import { newAttendeeKey, openPersonalData, sealPersonalData } from '../../src/attendees/personal-data.js';

const where = { attendeeId: 'a-1', eventType: 'SeatsReserved', conferenceId: 'c', reservationId: 'reservation-0001' };
const ada = { name: 'Ada Lovelace', email: 'ada@example.org' };

describe('sealed personal data', () => {
  it('opens with its key where it was sealed, and holds nothing of the fields in the clear', () => {
    const key = newAttendeeKey();
    const sealed = sealPersonalData(key, ada, where);
    expect(openPersonalData(key, sealed, where)).toEqual(ada);
    expect(JSON.stringify(sealed)).not.toMatch(/Ada|ada@/);
  });

  it('does not open with another key, for another attendee or event, or altered', () => {
    const key = newAttendeeKey();
    const sealed = sealPersonalData(key, ada, where);
    expect(() => openPersonalData(newAttendeeKey(), sealed, where)).toThrow();
    expect(() => openPersonalData(key, sealed, { ...where, attendeeId: 'a-2' })).toThrow();
    expect(() => openPersonalData(key, sealed, { ...where, eventType: 'HoldConfirmed' })).toThrow();
    expect(() => openPersonalData(key, sealed, { ...where, reservationId: 'reservation-0002' })).toThrow();
    const altered = Buffer.from(sealed.ciphertext, 'base64');
    altered[0] = altered[0]! ^ 1;
    expect(() => openPersonalData(key, { ...sealed, ciphertext: altered.toString('base64') }, where)).toThrow();
  });

  it('uses a nonce of its own for every seal, across batches of nonces', () => {
    const key = newAttendeeKey();
    const ivs = Array.from({ length: 3000 }, () => sealPersonalData(key, ada, where).iv);
    expect(new Set(ivs).size).toBe(3000);
    expect(ivs.every((iv) => Buffer.from(iv, 'base64').length === 12)).toBe(true);
  });
});
