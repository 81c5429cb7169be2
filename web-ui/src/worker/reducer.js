// The reducer: applies snapshots and DELTA_BATCH patches to the bounded stores, one
// store per panel, last-write-wins by (id, seq). Ordering (the gap rule) is decided by
// ChannelSync before a batch gets here; this module only changes state.

import { EntityStore } from './entity_store.js';
import { DEFAULT_CAPS } from './caps.js';

function deriveTx(e) {
  // computed once per upsert so filters never parse strings per frame
  const v = Number(e.value ?? 0);
  e._eth = Number.isFinite(v) ? v / 1e18 : 0;
  const fee = e.max_priority_fee || e.gas_price || 0;
  e._feeGwei = fee / 1e9;
}

export class Reducer {
  constructor(caps = {}) {
    const c = (this.caps = { ...DEFAULT_CAPS, ...caps });
    this.tx = new EntityStore({ cap: c.txRows, derive: deriveTx });
    this.featTop = new EntityStore({ cap: c.featureTop });
    this.featRecent = new EntityStore({ cap: c.featureRecent });
    this.opp = new EntityStore({ cap: c.opportunities });
    this.chain = new EntityStore({ cap: c.chains });
    this.market = new EntityStore({ cap: c.market });
    this.fee = { cap: c.feeHistory, t: [], p50: [], p90: [], base: [], next: [], chainId: null, last: 0, version: 0 };
    this.applied = { upserts: 0, removes: 0, stale: 0 };
  }

  /** Store(s) of a channel, for clearing on a full snapshot. */
  storesOf(channel) {
    switch (channel) {
      case 'tx.main': return [this.tx];
      case 'feature.main': return [this.featTop, this.featRecent];
      case 'opportunity.main': return [this.opp];
      case 'chain.main': return [this.chain];
      case 'market.main': return [this.market];
      default: return [];
    }
  }

  #upsert(channel, e) {
    let s;
    switch (channel) {
      case 'tx.main': s = this.tx; break;
      case 'feature.main': s = e.kind === 'top' ? this.featTop : this.featRecent; break;
      case 'opportunity.main': s = this.opp; break;
      case 'chain.main': s = this.chain; break;
      case 'market.main':
        s = this.market;
        break;
      default: return;
    }
    if (s.upsert(e)) {
      this.applied.upserts++;
      if (channel === 'market.main' && e.kind === 'fee_market') this.#feePoint(e);
    } else {
      this.applied.stale++;
    }
  }

  #remove(channel, id, seq) {
    let ok;
    if (channel === 'feature.main') {
      // top ids are "protocol/category", recent ids are tx hashes
      ok = (id.startsWith('0x') ? this.featRecent : this.featTop).remove(id, seq);
    } else {
      const s = this.storesOf(channel)[0];
      ok = s ? s.remove(id, seq) : false;
    }
    if (ok) this.applied.removes++;
  }

  // Fee-market history for the chart: bounded parallel arrays (uPlot's data shape),
  // one point per update of the first chain seen. Trimmed in place when full.
  #feePoint(e) {
    const f = this.fee;
    if (f.chainId === null) f.chainId = e.chain_id;
    if (e.chain_id !== f.chainId) return;
    const t = Math.floor((e.updated_unix_ms ?? 0) / 1000);
    if (t <= f.last) return;
    f.last = t;
    f.t.push(t);
    f.p50.push((e.priority_fee?.p50 ?? 0) / 1e9);
    f.p90.push((e.priority_fee?.p90 ?? 0) / 1e9);
    f.base.push((e.base_fee ?? 0) / 1e9);
    f.next.push((e.next_base_fee ?? 0) / 1e9);
    if (f.t.length > f.cap) {
      const k = f.t.length - f.cap;
      for (const a of [f.t, f.p50, f.p90, f.base, f.next]) a.splice(0, k);
    }
    f.version++;
  }

  /** Applies one DELTA_BATCH patch (already accepted by the gap rule). */
  applyBatch(b) {
    const ch = b.channel;
    for (const e of b.patch?.upsert ?? []) this.#upsert(ch, e);
    for (const id of b.patch?.remove ?? []) this.#remove(ch, id, b.seq);
  }

  /** Applies one channel of a snapshot-v2 response. Full mode replaces the channel's
   *  stores (pins survive); delta mode patches them. Items are applied oldest first so
   *  the id rings keep arrival order. */
  applyChannelSnapshot(channel, body, mode) {
    if (!body) return;
    if (mode === 'full') for (const s of this.storesOf(channel)) s.clear();
    const items =
      mode === 'full'
        ? channel === 'feature.main'
          ? [...(body.top ?? []), ...(body.recent ?? [])]
          : (body.items ?? [])
        : (body.upsert ?? []);
    const sorted = items.slice().sort((a, b) => a.seq - b.seq);
    for (const e of sorted) this.#upsert(channel, e);
    for (const id of body.remove ?? []) this.#remove(channel, id, body.seq ?? Infinity);
  }

  /** Memory pressure: keep a fraction of every list (pinned entities survive). */
  shrink(fraction) {
    let n = 0;
    for (const s of [this.tx, this.featRecent, this.opp]) n += s.shrink(Math.floor(s.size * fraction));
    return n;
  }

  sizes() {
    return {
      tx: this.tx.size,
      featureTop: this.featTop.size,
      featureRecent: this.featRecent.size,
      opportunities: this.opp.size,
      chains: this.chain.size,
      market: this.market.size,
      feePoints: this.fee.t.length,
    };
  }
}
