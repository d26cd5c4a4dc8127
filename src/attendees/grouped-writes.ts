/**
 * Writes items in groups, one write in flight at a time: an item that comes while a write is
 * out waits and goes with the others that came meanwhile, in the next. Under load a statement
 * carries many items instead of one each; alone, an item goes at once. Resolves when its write
 * has committed.
 */
export const groupedWrites = <T>(write: (items: T[]) => Promise<void>, maxItems = 1000) => {
  let waiting: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let writing = false;
  const next = async (): Promise<void> => {
    if (writing || waiting.length === 0) return;
    writing = true;
    const group = waiting.slice(0, maxItems);
    waiting = waiting.slice(maxItems);
    try {
      await write(group.map(({ item }) => item));
      for (const { resolve } of group) resolve();
    } catch (error) {
      for (const { reject } of group) reject(error);
    } finally {
      writing = false;
      void next();
    }
  };
  return (item: T): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      void next();
    });
};
