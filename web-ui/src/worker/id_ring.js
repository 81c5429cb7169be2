// Bounded ring of entity ids in arrival order (newest last). Each slot carries the
// stamp the store gave the entity when it entered, so a slot whose entity was removed
// (or removed and re-added elsewhere in the ring) reads as dead without a scan.

export class IdRing {
  /** @param {number} cap slots; pushing into a full ring overwrites the oldest slot */
  constructor(cap) {
    this.cap = cap;
    this.ids = new Array(cap);
    this.stamps = new Float64Array(cap);
    this.head = 0; // next slot to write
    this.len = 0;
  }

  /** Appends (id, stamp); returns the overwritten {id, stamp} when the ring was full. */
  push(id, stamp) {
    let evicted;
    if (this.len === this.cap) {
      evicted = { id: this.ids[this.head], stamp: this.stamps[this.head] };
    } else {
      this.len++;
    }
    this.ids[this.head] = id;
    this.stamps[this.head] = stamp;
    this.head = (this.head + 1) % this.cap;
    return evicted;
  }

  /** Slot i counted from the newest (0) towards the oldest (len - 1). */
  idAt(i) {
    return this.ids[(this.head - 1 - i + 2 * this.cap) % this.cap];
  }
  stampAt(i) {
    return this.stamps[(this.head - 1 - i + 2 * this.cap) % this.cap];
  }

  /** Drops the oldest slot; returns it or undefined when empty. */
  shift() {
    if (this.len === 0) return undefined;
    const at = (this.head - this.len + this.cap) % this.cap;
    const out = { id: this.ids[at], stamp: this.stamps[at] };
    this.ids[at] = undefined;
    this.len--;
    return out;
  }

  /** Keeps only the slots for which live(id, stamp) holds, in order. O(len), called
   *  only when dead slots pass half the ring (amortized O(1) per removal). */
  compact(live) {
    const keepIds = [];
    const keepStamps = [];
    for (let i = this.len - 1; i >= 0; i--) {
      const id = this.idAt(i);
      const st = this.stampAt(i);
      if (live(id, st)) {
        keepIds.push(id);
        keepStamps.push(st);
      }
    }
    this.ids = new Array(this.cap);
    this.stamps = new Float64Array(this.cap);
    for (let i = 0; i < keepIds.length; i++) {
      this.ids[i] = keepIds[i];
      this.stamps[i] = keepStamps[i];
    }
    this.len = keepIds.length;
    this.head = this.len % this.cap;
  }

  clear() {
    this.ids = new Array(this.cap);
    this.head = 0;
    this.len = 0;
  }
}
