// HTTP scheduler with two priorities. High (detail modal) starts at once; low (bootstrap
// and mini-resyncs) runs one at a time, and a high request aborts the running low one,
// which is retried when no high request remains (SPEC 5 "preempting low-priority sync").

export class Fetcher {
  constructor({ base = '', fetchFn = (...a) => fetch(...a), maxLowQueue = 16 } = {}) {
    this.base = base;
    this.fetchFn = fetchFn;
    this.maxLowQueue = maxLowQueue;
    this.lowQ = []; // {url, resolve, reject}
    this.lowActive = null; // {job, ctrl}
    this.highActive = 0;
    this.preempted = 0;
    this.stats = { high: 0, low: 0 };
  }

  /** GET url as JSON at high priority; resolves {status, body}. */
  async high(url) {
    this.highActive++;
    this.stats.high++;
    if (this.lowActive) {
      this.preempted++;
      const { job, ctrl } = this.lowActive;
      this.lowActive = null;
      job.aborted = true;
      ctrl.abort();
      this.lowQ.unshift(job);
    }
    try {
      const r = await this.fetchFn(this.base + url, { priority: 'high', cache: 'no-store' });
      const body = r.status === 200 ? await r.json() : await r.json().catch(() => null);
      return { status: r.status, body };
    } finally {
      this.highActive--;
      this.#pump();
    }
  }

  /** GET url as JSON at low priority (queued, one in flight). Same url queued twice
   *  shares one request. */
  low(url) {
    const dup = this.lowQ.find((j) => j.url === url);
    if (dup) return dup.promise;
    if (this.lowQ.length >= this.maxLowQueue) return Promise.reject(new Error('low-priority queue full'));
    const job = { url };
    job.promise = new Promise((res, rej) => {
      job.resolve = res;
      job.reject = rej;
    });
    this.lowQ.push(job);
    this.#pump();
    return job.promise;
  }

  #pump() {
    if (this.lowActive || this.highActive > 0 || this.lowQ.length === 0) return;
    const job = this.lowQ.shift();
    job.aborted = false;
    const ctrl = new AbortController();
    this.lowActive = { job, ctrl };
    this.stats.low++;
    this.fetchFn(this.base + job.url, { signal: ctrl.signal, priority: 'low', cache: 'no-store' })
      .then(async (r) => {
        const body = await r.json();
        if (job.aborted) return;
        if (r.status !== 200) throw new Error(`${job.url}: HTTP ${r.status}`);
        job.resolve(body);
      })
      .catch((err) => {
        if (!job.aborted) job.reject(err);
      })
      .finally(() => {
        if (this.lowActive?.job === job) this.lowActive = null;
        this.#pump();
      });
  }
}
