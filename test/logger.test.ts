import { describe, expect, it } from 'vitest';
import { createLogger, logFormat, type LogFormat } from '../src/logger.js';

describe('the log format', () => {
  it.each<[LogFormat | undefined, boolean, boolean, LogFormat]>([
    // configured, production, terminal → format
    [undefined, false, true, 'pretty'],
    [undefined, false, false, 'json'],
    [undefined, true, true, 'json'],
    [undefined, true, false, 'json'],
    ['json', false, true, 'json'],
    ['pretty', true, false, 'pretty'],
  ])('configured %s, production %s, terminal %s: %s', (configured, production, terminal, expected) => {
    expect(logFormat({ configured, production, terminal })).toBe(expected);
  });
});

describe('the logger', () => {
  it("redacts an attendee's personal fields wherever a line carries them, down to three levels", () => {
    const lines: string[] = [];
    const log = createLogger('debug', 'json', { write: (line) => lines.push(line) });
    const attendee = { id: 'a-1', name: 'Ada Lovelace', email: 'ada@example.org' };
    log.info({ attendee }, 'top');
    log.info({ body: { attendee } }, 'one down');
    log.error({ command: { data: { attendee } } }, 'two down');
    log.warn({ event: { personalData: { ciphertext: 'c2VhbGVk' } } }, 'sealed');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toContain('Ada Lovelace');
      expect(line).not.toContain('ada@example.org');
      expect(line).not.toContain('c2VhbGVk');
    }
    // What is not personal stays: the id to find the attendee by.
    expect(lines.every((line) => line.includes('[redacted]'))).toBe(true);
    expect(lines.slice(0, 3).every((line) => line.includes('a-1'))).toBe(true);
  });
});
