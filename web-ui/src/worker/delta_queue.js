// Bounded inbound queue between the socket and the reducer. Normally it only holds
// what arrived since the last drain. When the reducer lags (long frame, busy worker)
// and the queue passes softCap, a new DELTA_BATCH merges into the newest queued batch
// of its channel: per entity the newest seq wins, upsert then remove is remove, and
// the merged batch keeps the first prev_seq and the last seq, so the gap rule still
// holds. Merged upserts are capped (the oldest go: the store would evict them anyway).

export function mergeBatches(a, b, maxUpserts) {
  const up = new Map();
  for (const e of a.patch?.upsert ?? []) up.set(e.id, e);
  const rm = new Map();
  for (const id of a.patch?.remove ?? []) rm.set(id, a.seq);
  for (const id of b.patch?.remove ?? []) {
    up.delete(id);
    rm.set(id, b.seq);
  }
  for (const e of b.patch?.upsert ?? []) {
    const cur = up.get(e.id);
    if (cur && cur.seq >= e.seq) continue;
    up.delete(e.id);
    up.set(e.id, e);
    const r = rm.get(e.id);
    if (r !== undefined && r < e.seq) rm.delete(e.id);
  }
  let upsert = [...up.values()];
  if (upsert.length > maxUpserts) {
    upsert.sort((x, y) => x.seq - y.seq);
    upsert = upsert.slice(upsert.length - maxUpserts);
  }
  return {
    ...b,
    prev_seq: a.prev_seq,
    seq: Math.max(a.seq, b.seq),
    patch: { upsert, remove: [...rm.keys()] },
    merged: (a.merged ?? 1) + (b.merged ?? 1),
    recvAt: a.recvAt ?? b.recvAt, // latency counts from the oldest receipt
  };
}

export class DeltaQueue {
  /** @param {{softCap?: number, hardCap?: number, maxUpserts?: number}} o */
  constructor({ softCap = 64, hardCap = 256, maxUpserts = 2048 } = {}) {
    this.softCap = softCap;
    this.hardCap = hardCap;
    this.maxUpserts = maxUpserts;
    this.items = [];
    this.head = 0;
    this.coalesced = 0;
    this.dropped = 0;
    this.maxDepth = 0;
  }

  get length() {
    return this.items.length - this.head;
  }

  /** Queues a dispatch message; merges when over softCap (see above). */
  push(m) {
    if (m.type === 'DELTA_BATCH' && this.length >= this.softCap) {
      // newest queued batch of the same channel with no control message after it
      for (let i = this.items.length - 1; i >= this.head; i--) {
        const q = this.items[i];
        if (q.type !== 'DELTA_BATCH') break;
        if (q.channel === m.channel) {
          this.items[i] = mergeBatches(q, m, this.maxUpserts);
          this.coalesced++;
          return;
        }
      }
      if (this.length >= this.hardCap) {
        // nothing to merge into: drop it; the channel's gap rule will resync it
        this.dropped++;
        return;
      }
    }
    this.items.push(m);
    if (this.length > this.maxDepth) this.maxDepth = this.length;
  }

  shift() {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  clear() {
    this.items = [];
    this.head = 0;
  }
}
