// Normalized, capped entity store for one panel: a Map by id, an IdRing in arrival
// order, last-write-wins by (id, seq), bounded tombstones so a stale upsert cannot
// resurrect a removed entity, and pins that survive eviction (the selected tx).

import { IdRing } from './id_ring.js';

const MAX_PINS = 8;

export class EntityStore {
  /**
   * @param {object} o
   * @param {number} o.cap        most live entities (and ring slots)
   * @param {number} [o.tombstones] remembered removals (id -> seq), default cap
   * @param {(e: object) => void} [o.derive] adds derived fields once per upsert
   */
  constructor({ cap, tombstones, derive }) {
    this.cap = cap;
    this.map = new Map(); // id -> {e, stamp}
    this.ring = new IdRing(cap);
    this.tomb = new Map(); // id -> seq of the removal
    this.tombCap = tombstones ?? cap;
    this.pins = new Map(); // id -> entity kept past eviction
    this.derive = derive;
    this.nextStamp = 1;
    this.dead = 0; // ring slots whose entity is gone
    this.evictions = 0;
    this.version = 0; // bumps on every visible change
  }

  get size() {
    return this.map.size;
  }

  get(id) {
    const r = this.map.get(id);
    if (r) return r.e;
    return this.pins.get(id);
  }

  /** Applies an upsert when e.seq is newer than what we hold. Returns true if applied. */
  upsert(e) {
    const id = e.id;
    const cur = this.map.get(id);
    if (cur) {
      if (!(e.seq > cur.e.seq)) return false;
      if (this.derive) this.derive(e);
      cur.e = e;
      if (this.pins.has(id)) this.pins.set(id, e);
      this.version++;
      return true;
    }
    const t = this.tomb.get(id);
    if (t !== undefined && !(e.seq > t)) return false;
    if (t !== undefined) this.tomb.delete(id);
    if (this.derive) this.derive(e);
    const stamp = this.nextStamp++;
    this.map.set(id, { e, stamp });
    if (this.pins.has(id)) this.pins.set(id, e);
    const ev = this.ring.push(id, stamp);
    if (ev) this.#dropSlot(ev.id, ev.stamp, true);
    this.version++;
    return true;
  }

  /** Removes id when seq (the batch's seq) is newer than the entity. */
  remove(id, seq) {
    const cur = this.map.get(id);
    if (cur && !(seq > cur.e.seq)) return false;
    this.#tombstone(id, seq);
    if (!cur) return false;
    this.map.delete(id);
    this.pins.delete(id);
    this.dead++;
    this.version++;
    this.#maybeCompact();
    return true;
  }

  #tombstone(id, seq) {
    const t = this.tomb.get(id);
    if (t !== undefined) this.tomb.delete(id);
    this.tomb.set(id, Math.max(seq, t ?? 0));
    if (this.tomb.size > this.tombCap) this.tomb.delete(this.tomb.keys().next().value);
  }

  // A ring slot fell off: delete its entity if the slot was the live one.
  #dropSlot(id, stamp, evicted) {
    const cur = this.map.get(id);
    if (cur && cur.stamp === stamp) {
      this.map.delete(id);
      if (evicted) this.evictions++;
    } else {
      this.dead = Math.max(0, this.dead - 1);
    }
  }

  #maybeCompact() {
    if (this.dead > this.cap / 2) {
      this.ring.compact((id, st) => this.map.get(id)?.stamp === st);
      this.dead = 0;
    }
  }

  /** Keeps the entity with this id even after eviction or shrink (bounded, oldest pin
   *  released first). */
  pin(id) {
    const e = this.get(id);
    if (!e) return false;
    this.pins.delete(id);
    this.pins.set(id, e);
    if (this.pins.size > MAX_PINS) this.pins.delete(this.pins.keys().next().value);
    return true;
  }

  unpin(id) {
    this.pins.delete(id);
  }

  /** Memory pressure: drops the oldest entities until at most keep remain. Pinned
   *  entities leave the ring but stay readable through get(). */
  shrink(keep) {
    let dropped = 0;
    while (this.map.size > keep && this.ring.len > 0) {
      const s = this.ring.shift();
      const cur = this.map.get(s.id);
      if (cur && cur.stamp === s.stamp) {
        this.map.delete(s.id);
        dropped++;
      } else {
        this.dead = Math.max(0, this.dead - 1);
      }
    }
    if (dropped) this.version++;
    this.evictions += dropped;
    return dropped;
  }

  /** Empties the store (full resync); pins are kept. */
  clear() {
    this.map.clear();
    this.ring.clear();
    this.tomb.clear();
    this.dead = 0;
    this.version++;
  }

  /** Calls fn(entity) from the newest to the oldest until fn returns false. No
   *  allocation: the view builder uses it to pick a window of rows. */
  forEachNewest(fn) {
    const ring = this.ring;
    for (let i = 0; i < ring.len; i++) {
      const id = ring.idAt(i);
      const cur = this.map.get(id);
      if (!cur || cur.stamp !== ring.stampAt(i)) continue;
      if (fn(cur.e) === false) return;
    }
  }
}
