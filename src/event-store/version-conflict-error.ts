/**
 * An append found the stream at another version than the caller expected: someone else
 * appended first. Nothing was appended; the caller reloads and decides again.
 */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';

  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} is no longer at version ${expectedVersion}`);
  }
}
