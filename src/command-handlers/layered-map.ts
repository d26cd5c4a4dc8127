/**
 * A map that reads through to a base map and keeps its own writes apart until `commitInto`.
 * A batch of commands is decided against the cached conference with its reservations in such a
 * layer: if the append then fails, dropping the layer leaves the cache exactly as it was.
 * (`evolve` updates the reservations map it is given, to keep replays linear.) The base must not
 * change while the layer is in use.
 */
export class LayeredMap<K, V> implements Map<K, V> {
  readonly #own = new Map<K, V>();
  /** Keys of this layer that the base does not have. */
  #added = 0;

  constructor(private readonly base: ReadonlyMap<K, V>) {}

  get(key: K): V | undefined {
    return this.#own.has(key) ? this.#own.get(key) : this.base.get(key);
  }

  has(key: K): boolean {
    return this.#own.has(key) || this.base.has(key);
  }

  set(key: K, value: V): this {
    if (!this.#own.has(key) && !this.base.has(key)) this.#added++;
    this.#own.set(key, value);
    return this;
  }

  delete(): boolean {
    throw new Error('a LayeredMap only grows');
  }

  clear(): void {
    throw new Error('a LayeredMap only grows');
  }

  get size(): number {
    return this.base.size + this.#added;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.base) yield [key, this.#own.has(key) ? (this.#own.get(key) as V) : value];
    for (const [key, value] of this.#own) if (!this.base.has(key)) yield [key, value];
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: Map<K, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  get [Symbol.toStringTag](): string {
    return 'LayeredMap';
  }

  /** Writes this layer's entries into `target` (the base map, once the batch is committed). */
  commitInto(target: Map<K, V>): void {
    for (const [key, value] of this.#own) target.set(key, value);
  }
}
