import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BEARER_TOKEN, MIN_ADMIN_TOKEN_LENGTH, type Config } from './config.js';

/**
 * Where the operator's token comes from: ADMIN_TOKEN, or a file made once per data directory,
 * which only its owner may read. The token is never logged; the file's path is.
 */
export type OperatorToken =
  { token: string; source: 'ADMIN_TOKEN' } | { token: string; source: 'file'; file: string; created: boolean };

/** The operator token a process serves with: ADMIN_TOKEN when set, else the token file's (made if missing). */
export const resolveOperatorToken = async ({ value, file }: Config['adminToken']): Promise<OperatorToken> =>
  value !== undefined ? { token: value, source: 'ADMIN_TOKEN' } : { ...(await tokenFromFile(file)), source: 'file' };

/** A token in a file that other users could read is no secret: such a file is refused, as ssh refuses a key. */
export class OperatorTokenFileError extends Error {
  override readonly name = 'OperatorTokenFileError';
}

/** 32 random bytes in base64url: 43 characters, 256 bits, and the characters of a bearer token. */
export const newOperatorToken = (): string => randomBytes(32).toString('base64url');

/**
 * The token kept in `path`: created with a new random token when there is none (mode 0600, and
 * `wx` so two starts at once never overwrite each other's), read when there is one.
 */
const tokenFromFile = async (path: string): Promise<{ token: string; file: string; created: boolean }> => {
  const file = resolve(path);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const token = newOperatorToken();
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (((await stat(file)).mode & 0o077) !== 0) {
    throw new OperatorTokenFileError(`${file} may be read by other users: chmod 600 it, or remove it for a new token`);
  }
  const kept = (await readFile(file, 'utf8')).trim();
  if (kept.length < MIN_ADMIN_TOKEN_LENGTH || !BEARER_TOKEN.test(kept)) {
    throw new OperatorTokenFileError(
      `${file} holds no usable token (at least ${MIN_ADMIN_TOKEN_LENGTH} characters of a bearer token): remove it for a new one`,
    );
  }
  return { token: kept, file, created: false };
};

/** True for a listening address (HOST) that only this machine can reach. */
export const isLoopback = (host: string): boolean => /^(?:localhost|127(?:\.\d{1,3}){3}|::1)$/i.test(host);
