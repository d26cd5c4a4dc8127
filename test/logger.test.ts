import { describe, expect, it } from 'vitest';
import { logFormat, type LogFormat } from '../src/logger.js';

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
