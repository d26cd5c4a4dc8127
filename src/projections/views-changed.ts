/** Told the streams whose events a committed projector batch applied. Must not throw. */
export type ViewsChangedListener = (streamIds: ReadonlySet<string>) => void;

/**
 * The fan-out to this process's live readers (the SSE route): raised for each committed batch of
 * the remaining seats, whichever process applied it, as the listener of the projector's
 * notifications hears of it (views-changed-channel.ts), so readers re-read the views at once
 * instead of at their next periodic re-check.
 */
export const createViewsChanged = () => {
  const listeners = new Set<ViewsChangedListener>();
  return {
    /** Adds a listener; the function returned removes it. */
    subscribe(listener: ViewsChangedListener): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    notify(streamIds: ReadonlySet<string>): void {
      for (const listener of listeners) listener(streamIds);
    },
    /** How many listeners are subscribed (live connections, in this process). */
    get listenerCount(): number {
      return listeners.size;
    },
  };
};

export type ViewsChanged = ReturnType<typeof createViewsChanged>;
