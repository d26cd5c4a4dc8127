/** An event as stored, with its global position and its version within its stream. */
export type RecordedEvent = {
  position: number;
  streamId: string;
  streamVersion: number;
  type: string;
  /** The version of the shape of `data` for its type (see `NewEvent`). */
  schemaVersion: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: Date;
};

/** The columns of `events` as a `RecordedEvent`, for the statements that read whole events. */
export const RECORDED_EVENT_COLUMNS = `position, stream_id as "streamId", stream_version as "streamVersion", type,
  schema_version as "schemaVersion", data, metadata, recorded_at as "recordedAt"`;
