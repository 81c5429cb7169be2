// Adaptive CREDIT (SPEC 4.2 "Backpressure"): per channel we track the credit the
// server still holds for us (granted - batches received) and top it up to a target
// window sized from measured commit throughput: batches whose changes reached the DOM
// (acknowledged frames) per second. When the page lags the target drops to the
// minimum, so the gateway coalesces for us instead of flooding the worker.

export class CreditController {
  constructor({ channels, min = 4, max = 64, initial = 16, horizonMs = 1500, now = () => Date.now() }) {
    this.min = min;
    this.max = max;
    this.initial = initial;
    this.horizonMs = horizonMs;
    this.now = now;
    this.ch = new Map();
    for (const c of channels)
      this.ch.set(c, { outstanding: initial, committed: 0, rate: 0, lastRecv: now(), target: initial });
    this.lastTick = now();
    this.lagging = false;
    this.granted = 0;
  }

  /** Server credit after READY (our IDENTIFY credit) or RESUMED / SUBSCRIBE (its max). */
  setOutstanding(c, n) {
    const s = this.ch.get(c);
    if (s) s.outstanding = Math.min(this.max, n);
  }

  setAll(n) {
    for (const c of this.ch.keys()) this.setOutstanding(c, n);
  }

  /** One DELTA_BATCH received on c (costs one credit). */
  onBatch(c) {
    const s = this.ch.get(c);
    if (!s) return;
    s.outstanding = Math.max(0, s.outstanding - 1);
    s.lastRecv = this.now();
  }

  /** n batches of c were committed to the DOM. */
  onCommitted(c, n) {
    const s = this.ch.get(c);
    if (s) s.committed += n;
  }

  /** Computes grants; returns {channel: n} or null when nothing is worth sending.
   *  Called about once a second (the send budget allows ~1.6 messages/s). */
  grant() {
    const t = this.now();
    const dt = Math.max(1, t - this.lastTick);
    this.lastTick = t;
    let out = null;
    for (const [c, s] of this.ch) {
      const measured = (s.committed * 1000) / dt;
      s.committed = 0;
      s.rate = s.rate === 0 ? measured : 0.5 * s.rate + 0.5 * measured;
      let target = Math.ceil((2 * s.rate * this.horizonMs) / 1000) + this.min;
      if (this.lagging) target = this.min;
      target = Math.max(this.min, Math.min(this.max, target));
      s.target = target;
      // a channel silent for a while may have lost credit we think it holds
      if (t - s.lastRecv > 5000 && s.outstanding > 0 && !this.lagging) s.outstanding = 0;
      const n = target - s.outstanding;
      if (n >= Math.max(1, Math.floor(target / 4))) {
        s.outstanding += n;
        this.granted += n;
        (out ??= {})[c] = n;
      }
    }
    return out;
  }

  snapshot() {
    const o = {};
    for (const [c, s] of this.ch) o[c] = { outstanding: s.outstanding, target: s.target, rate: +s.rate.toFixed(1) };
    return o;
  }
}
