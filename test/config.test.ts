import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from '../src/config.js';

describe('configuration', () => {
  it('has a default for everything', () => {
    expect(loadConfig({})).toMatchObject({
      databaseUrl: undefined,
      port: 3000,
      eventsPartitions: 0,
      snapshotInterval: 100,
      snapshotKeep: 'all',
      retry: { maxRetries: 10 },
      logLevel: 'info',
      logFormat: undefined,
      production: false,
      embeddedPostgres: { dataDir: '.data/postgres', port: 54329 },
      groupCommit: { appendsInFlight: 2, maxConferences: 64, maxEvents: 2048, aloneFromEvents: 8 },
    });
  });

  it('reads values and treats empty ones as unset', () => {
    const config = loadConfig({ SNAPSHOT_INTERVAL: '0', PORT: '', DATABASE_URL: 'postgres://u:p@db:5432/x' });
    expect(config.snapshotInterval).toBe(0);
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/x');
  });

  it('reads which snapshots to keep: all, or the latest and one every K versions', () => {
    expect(loadConfig({ SNAPSHOT_KEEP: 'all' }).snapshotKeep).toBe('all');
    expect(loadConfig({ SNAPSHOT_KEEP: '1000' }).snapshotKeep).toEqual({ every: 1000 });
    expect(loadConfig({ SNAPSHOT_INTERVAL: '0', SNAPSHOT_KEEP: '7' }).snapshotKeep).toEqual({ every: 7 });
  });

  it.each([
    [{ SNAPSHOT_KEEP: 'some' }, /SNAPSHOT_KEEP must be `all` or a whole number \(got "some"\)/],
    [{ SNAPSHOT_KEEP: '0' }, /SNAPSHOT_KEEP must be at least 1/],
    [{ SNAPSHOT_KEEP: '250' }, /SNAPSHOT_KEEP must be a multiple of SNAPSHOT_INTERVAL \(got "250"\)/],
    [{ SNAPSHOT_INTERVAL: 'abc' }, /SNAPSHOT_INTERVAL must be a whole number \(got "abc"\)/],
    [{ SNAPSHOT_INTERVAL: '-1' }, /SNAPSHOT_INTERVAL must be at least 0/],
    [{ PORT: '70000' }, /PORT must be at most 65535/],
    [{ COMMAND_MAX_RETRIES: '2.5' }, /COMMAND_MAX_RETRIES must be a whole number/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres/],
    [{ GROUP_COMMIT_APPENDS_IN_FLIGHT: '0' }, /GROUP_COMMIT_APPENDS_IN_FLIGHT must be at least 1/],
    [{ GROUP_COMMIT_ALONE_FROM_EVENTS: '-1' }, /GROUP_COMMIT_ALONE_FROM_EVENTS must be at least 0/],
    [{ DATABASE_POOL_SIZE: '1' }, /DATABASE_POOL_SIZE must be at least 2/],
    [{ EVENTS_PARTITIONS: '1' }, /EVENTS_PARTITIONS must be 0 \(a plain table\) or at least 2/],
    [{ EVENTS_PARTITIONS: '2000' }, /EVENTS_PARTITIONS must be at most 1024/],
    [
      { DATABASE_POOL_SIZE: '3', PROJECTOR: 'in-api' },
      /DATABASE_POOL_SIZE must be at least 2 \(4 with PROJECTOR=in-api\)/,
    ],
    [
      { HOLD_DEFAULT_SECONDS: '600', HOLD_MAX_SECONDS: '300' },
      /HOLD_DEFAULT_SECONDS must not be longer than HOLD_MAX_SECONDS/,
    ],
  ])('stops with a clear message for %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads the log format, and production from NODE_ENV', () => {
    expect(loadConfig({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' })).toMatchObject({
      logFormat: 'pretty',
      production: true,
    });
    expect(loadConfig({ NODE_ENV: 'test' }).production).toBe(false);
  });

  it('reads how many partitions the events table is to have', () => {
    expect(loadConfig({ EVENTS_PARTITIONS: '8' }).eventsPartitions).toBe(8);
    expect(loadConfig({ EVENTS_PARTITIONS: '0' }).eventsPartitions).toBe(0);
  });

  it('names every bad value at once', () => {
    expect(() => loadConfig({ PORT: 'x', SNAPSHOT_INTERVAL: 'y' })).toThrow(/PORT.*; SNAPSHOT_INTERVAL/);
  });

  it('reads the operator token, or where to keep one when it is unset', () => {
    expect(loadConfig({}).adminToken).toEqual({ value: undefined, file: '.data/admin-token' });
    const token = 'a'.repeat(31) + '-_.~+/=';
    expect(loadConfig({ ADMIN_TOKEN: token, ADMIN_TOKEN_FILE: '/srv/token' }).adminToken).toEqual({
      value: token,
      file: '/srv/token',
    });
  });

  it.each([
    ['short', 'too-short-to-guess-hard', /ADMIN_TOKEN must be at least 32 characters \(got 23 characters\)/],
    ['with a space', `${'a'.repeat(32)} b`, /ADMIN_TOKEN must be letters, digits/],
    ['with a quote', `${'a'.repeat(32)}"`, /ADMIN_TOKEN must be letters, digits/],
  ])('refuses an operator token %s, without quoting it', (_, token, message) => {
    expect(() => loadConfig({ ADMIN_TOKEN: token })).toThrow(message);
    expect(() => loadConfig({ ADMIN_TOKEN: token })).not.toThrow(token);
  });

  it('never logs a database password', () => {
    expect(redactUrl('postgres://me:hunter2@db:5432/x')).toBe('postgres://me:***@db:5432/x');
  });
});
