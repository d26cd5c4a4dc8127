/** Told the streams whose events a committed projector batch applied. Must not throw. */
export type ViewsChangedListener = (streamIds: ReadonlySet<string>) => void;

/**
 * An in-process signal raised after each committed projector batch, so live readers (the SSE
 * route) re-read the views at once instead of at their next periodic re-check. It reaches only
 * readers in the projector's own process; readers elsewhere rely on re-checking.
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
