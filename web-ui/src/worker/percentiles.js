// Fixed-size sample window for p50/p95 of recent latencies (bounded memory).

export class SampleWindow {
  constructor(cap = 512) {
    this.buf = new Float64Array(cap);
    this.n = 0;
    this.i = 0;
    this.total = 0;
  }
  add(v) {
    this.buf[this.i] = v;
    this.i = (this.i + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
    this.total++;
  }
  quantile(q) {
    if (this.n === 0) return 0;
    const a = Array.from(this.buf.subarray(0, this.n)).sort((x, y) => x - y);
    return a[Math.min(this.n - 1, Math.floor(q * this.n))];
  }
  reset() {
    this.n = 0;
    this.i = 0;
  }
}
