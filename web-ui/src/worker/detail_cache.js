// Transaction detail cache: LRU by Map insertion order plus a TTL, capped by count.
// A pinned entry (the open modal's tx) is never evicted by the cap nor by shrink().

export class DetailCache {
  /** @param {{cap: number, ttlMs: number, now?: () => number}} o */
  constructor({ cap, ttlMs, now }) {
    this.cap = cap;
    this.ttlMs = ttlMs;
    this.now = now ?? (() => Date.now());
    this.map = new Map(); // key -> {value, at}
    this.pinned = null;
    this.hits = 0;
    this.misses = 0;
    this.evictions = 0;
  }

  get size() {
    return this.map.size;
  }

  get(key) {
    const r = this.map.get(key);
    if (!r) {
      this.misses++;
      return undefined;
    }
    if (this.now() - r.at > this.ttlMs && key !== this.pinned) {
      this.map.delete(key);
      this.misses++;
      return undefined;
    }
    this.map.delete(key); // most recently used goes last
    this.map.set(key, r);
    this.hits++;
    return r.value;
  }

  set(key, value) {
    this.map.delete(key);
    this.map.set(key, { value, at: this.now() });
    this.#evict(this.cap);
  }

  pin(key) {
    this.pinned = key;
  }
  unpin() {
    this.pinned = null;
  }

  /** Drops expired entries, then least recently used ones until size <= keep. */
  shrink(keep) {
    const now = this.now();
    for (const [k, r] of this.map) {
      if (k !== this.pinned && now - r.at > this.ttlMs) {
        this.map.delete(k);
        this.evictions++;
      }
    }
    this.#evict(keep);
  }

  #evict(limit) {
    if (this.map.size <= limit) return;
    for (const k of this.map.keys()) {
      if (this.map.size <= limit) break;
      if (k === this.pinned) continue;
      this.map.delete(k);
      this.evictions++;
    }
  }
}
