import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback, OperatorTokenFileError, resolveOperatorToken } from '../src/operator-token-file.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'seat-surge-token-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe('the operator token', () => {
  it('is ADMIN_TOKEN when set, and then no file is made', async () => {
    const file = join(directory, 'unused', 'admin-token');
    const token = 'x'.repeat(40);
    expect(await resolveOperatorToken({ value: token, file })).toEqual({ token, source: 'ADMIN_TOKEN' });
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('is made once per file, random, readable by its owner only, and read again on later starts', async () => {
    const file = join(directory, 'data', 'admin-token');
    const first = await resolveOperatorToken({ value: undefined, file });
    expect(first).toMatchObject({ source: 'file', file, created: true });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.token);
    expect(await resolveOperatorToken({ value: undefined, file })).toEqual({ ...first, created: false });
    const other = await resolveOperatorToken({ value: undefined, file: join(directory, 'other', 'admin-token') });
    expect(other.token).not.toBe(first.token);
  });

  it('refuses a file that others may read, or that holds no usable token', async () => {
    const open = join(directory, 'open-token');
    await writeFile(open, 'y'.repeat(40), { mode: 0o644 });
    await chmod(open, 0o644);
    await expect(resolveOperatorToken({ value: undefined, file: open })).rejects.toThrow(OperatorTokenFileError);
    await expect(resolveOperatorToken({ value: undefined, file: open })).rejects.toThrow(/chmod 600/);
    const junk = join(directory, 'junk-token');
    await writeFile(junk, 'short\n', { mode: 0o600 });
    await expect(resolveOperatorToken({ value: undefined, file: junk })).rejects.toThrow(/no usable token/);
  });

  it('is put in the demo page only by a server that listens on loopback', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.org']) expect(isLoopback(host), host).toBe(false);
  });
});
