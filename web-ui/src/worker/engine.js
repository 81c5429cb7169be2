// The stream engine, run inside the Web Worker: one snapshot-v2 bootstrap, then the
// stream-v2 socket (HELLO -> IDENTIFY/RESUME -> DISPATCH), heartbeat and zombie
// detection, RECONNECT / backoff / RESUME, the per-channel gap rule with mini-resync,
// adaptive CREDIT, the coalescing inbound queue, CLIENT_METRICS, the detail cache,
// and one frame in flight to the page at a time (the page acknowledges each commit).
// It talks to the page only through `post` and `onPageMessage`.

import { CHANNELS, DEFAULT_CAPS } from './caps.js';
import { Reducer } from './reducer.js';
import { ChannelSync } from './channel_sync.js';
import { DeltaQueue } from './delta_queue.js';
import { CreditController } from './credit.js';
import { Backoff } from './backoff.js';
import { Heartbeat } from './heartbeat.js';
import { SendBudget } from './send_budget.js';
import { DetailCache } from './detail_cache.js';
import { Fetcher } from './fetcher.js';
import { SampleWindow } from './percentiles.js';
import { normalizeFilter, txMatches, txRow, windowOf, topFeatures } from './views.js';

const INITIAL_CREDIT = 16;
const DRAIN_BUDGET_MS = 8;
const LAG_MS = 500; // a frame unacknowledged this long means the page lags
const HEAP_BUDGET_MB = 48; // main-thread heap past this shrinks the stores
const FRAME_DIAG_MS = 500;

const nowMs = () => performance.timeOrigin + performance.now();

export class Engine {
  constructor({ base, wsUrl, post, WebSocketImpl = globalThis.WebSocket, fetchFn, caps = {}, test = false }) {
    this.base = base;
    this.wsUrl = wsUrl;
    this.post = post;
    this.WS = WebSocketImpl;
    this.test = test;
    this.caps = { ...DEFAULT_CAPS, ...caps };
    this.reducer = new Reducer(this.caps);
    this.sync = new Map(CHANNELS.map((c) => [c, new ChannelSync(c)]));
    this.queue = new DeltaQueue({ softCap: this.caps.queueSoft, hardCap: this.caps.queueHard, maxUpserts: this.caps.txRows });
    this.credit = new CreditController({ channels: CHANNELS, initial: INITIAL_CREDIT });
    this.backoff = new Backoff();
    this.budget = new SendBudget();
    // detail prefetches (hover, keyboard): at most 8 in any 2 s, whatever the page sends
    this.prefetchBudget = new SendBudget({ max: 8, windowMs: 2000 });
    this.details = new DetailCache({ cap: this.caps.detailEntries, ttlMs: this.caps.detailTtlMs });
    this.fetcher = new Fetcher({ base, fetchFn });
    this.hb = new Heartbeat({
      send: () => this.#send({ op: 'HEARTBEAT', last_seq: this.#maxSeq() }),
      onZombie: () => {
        this.stats.zombies++;
        this.#dropSocket('zombie');
      },
    });
    this.ws = null;
    this.session = null; // {id, token}
    this.state = 'idle';
    this.stats = {
      bootstraps: 0, connects: 0, resumes: 0, reconnects: 0, invalidSessions: 0, zombies: 0,
      gaps: 0, miniResyncs: 0, resyncRequired: 0, batches: 0, errors: 0, lastError: '',
      frames: 0, slowFrames: 0, testDropped: 0, pressure: 0, lastClose: 0, prefetches: 0, prefetchesRefused: 0, heldForPage: 0,
    };
    this.resyncLog = []; // last mini-resyncs {channel, from, to}, bounded
    this.journalSeq = 0;
    this.lagMs = 0;
    this.applyMs = new SampleWindow(256);
    this.listLatency = new SampleWindow(512);
    this.benchLatency = new SampleWindow(16384); // drained by the soak bench each sample
    this.pageLatency = new SampleWindow(512);
    this.detailLatency = new SampleWindow(128);
    this.renderMs = new SampleWindow(256);
    this.heapMb = 0;
    this.testDrop = new Set();
    this.detailInflight = new Map(); // hash -> promise, at most a few
    this.detailPending = false;
    this.drainPausedUntil = 0;
    // page-facing view state
    this.views = { tx: { start: 0, count: 40 }, featRecent: { start: 0, count: 20 }, opp: { start: 0, count: 20 } };
    this.filter = normalizeFilter();
    this.paused = false;
    this.selected = null;
    this.sent = { tx: -1, featTop: -1, featRecent: -1, opp: -1, chain: -1, market: -1, fee: -1, diagAt: 0 };
    this.frameInFlight = null; // {id, at, committed: {c: n}, txRecvAt}
    this.pendingCommit = new Map(); // channel -> batches applied since the last frame
    this.txRecvAt = 0; // oldest receipt among tx batches not yet in a frame
    this.frameSeq = 0;
    this.drainScheduled = false;
    this.timers = [];
  }

  start() {
    this.timers.push(setInterval(() => this.#creditTick(), 1000));
    this.timers.push(setInterval(() => this.#metricsTick(), 15000));
    this.timers.push(setInterval(() => this.#lagTick(), 250));
    this.#bootstrap();
  }

  // ---- bootstrap and socket ------------------------------------------------------------

  async #bootstrap() {
    this.state = 'bootstrapping';
    this.stats.bootstraps++;
    this.#dirty();
    try {
      const snap = await this.fetcher.low(`/dashboard/snapshot-v2?channels=${CHANNELS.join(',')}`);
      this.queue.clear(); // anything queued belongs to a session that is gone
      for (const c of CHANNELS) {
        this.reducer.applyChannelSnapshot(c, snap.channels?.[c], snap.mode);
        this.sync.get(c).resetTo(snap.snapshot_seq);
      }
      this.snapshotSeq = snap.snapshot_seq;
      this.journalSeq = snap.watermark?.journal_seq ?? snap.snapshot_seq;
      this.session = null;
      this.#connect();
    } catch (err) {
      this.#fail(`bootstrap: ${err.message}`);
      this.#later(() => this.#bootstrap(), this.backoff.next());
    }
    this.#dirty();
  }

  #connect() {
    this.state = this.session ? 'resuming' : 'connecting';
    this.stats.connects++;
    this.budget.reset();
    let ws;
    try {
      ws = new this.WS(this.wsUrl);
    } catch (err) {
      this.#fail(`socket: ${err.message}`);
      this.#scheduleReconnect(false);
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this.#onMessage(ev.data, nowMs());
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stats.lastClose = ev.code;
      this.hb.stop();
      if (ev.code === 4004) {
        this.state = 'unauthorized';
        this.#fail('gateway refused the token (4004); not reconnecting');
        return;
      }
      this.#scheduleReconnect(false);
    };
    ws.onerror = () => {};
  }

  // Closes the socket on our side now (zombie, RECONNECT, INVALID_SESSION) without
  // waiting for a closing handshake a dead peer would never finish.
  #dropSocket(why, { quick = false, rebootstrap = false } = {}) {
    const ws = this.ws;
    this.ws = null;
    this.hb.stop();
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000, why);
      } catch {
        /* already closed */
      }
    }
    if (rebootstrap) {
      this.session = null;
      this.#later(() => this.#bootstrap(), this.backoff.next());
    } else {
      this.#scheduleReconnect(quick);
    }
  }

  #scheduleReconnect(quick) {
    this.stats.reconnects++;
    this.state = 'backoff';
    // RECONNECT (drain) asks for jitter, not a long wait: first rung of the ladder
    const delay = quick ? Math.floor(Math.random() * this.backoff.baseMs) : this.backoff.next();
    this.#dirty();
    this.#later(() => (this.session ? this.#connect() : this.#bootstrap()), delay);
  }

  #later(fn, ms) {
    setTimeout(fn, ms);
  }

  #send(obj) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(obj));
    this.budget.spend();
    return true;
  }

  #maxSeq() {
    let m = 0;
    for (const s of this.sync.values()) m = Math.max(m, s.lastSeq);
    return m;
  }

  #positions() {
    const p = {};
    let min = Infinity;
    for (const [c, s] of this.sync) {
      p[c] = s.lastSeq;
      min = Math.min(min, s.lastSeq);
    }
    return { p, min };
  }

  #onMessage(text, recvAt) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      this.#fail('unparseable frame');
      return;
    }
    switch (m.op) {
      case 'HELLO':
        this.hello = m;
        this.hb.start(m.heartbeat_interval_ms ?? 15000);
        if (this.session) {
          // a resync in flight is void: RESUME replays from the last good position
          for (const s of this.sync.values()) if (s.state !== 'live') s.resetTo(s.lastSeq);
          const { p, min } = this.#positions();
          this.#send({ op: 'RESUME', session_id: this.session.id, resume_token: this.session.token, last_seq: min, subscriptions: CHANNELS, positions: p });
        } else {
          const credit = {};
          for (const c of CHANNELS) credit[c] = INITIAL_CREDIT;
          this.#send({ op: 'IDENTIFY', subscriptions: CHANNELS, snapshot_seq: this.snapshotSeq, credit });
        }
        return;
      case 'HEARTBEAT_ACK':
        this.hb.ack();
        return;
      case 'RECONNECT':
        if (this.session && m.resume_token) this.session.token = m.resume_token;
        this.#dropSocket('reconnect requested', { quick: true });
        return;
      case 'INVALID_SESSION':
        this.stats.invalidSessions++;
        this.#fail(`invalid session: ${m.reason}`);
        this.queue.clear();
        this.#dropSocket('invalid session', { rebootstrap: true });
        return;
      case 'DISPATCH':
        if (m.type === 'DELTA_BATCH') {
          this.credit.onBatch(m.channel);
          if (this.testDrop.has(m.channel)) {
            this.testDrop.delete(m.channel);
            this.stats.testDropped++;
            return;
          }
          m.recvAt = recvAt;
        }
        this.queue.push(m);
        this.#scheduleDrain();
        return;
      default:
        this.#fail(`unknown op ${m.op}`);
    }
  }

  // ---- reducer loop ----------------------------------------------------------------------

  #scheduleDrain() {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    const wait = Math.max(0, this.drainPausedUntil - Date.now());
    setTimeout(() => {
      this.drainScheduled = false;
      this.#drain();
    }, wait);
  }

  #drain() {
    if (Date.now() < this.drainPausedUntil) {
      this.#scheduleDrain();
      return;
    }
    // The page lags (a frame unacknowledged past LAG_MS, e.g. a long task or a hidden
    // tab): hold the queue, which then coalesces per entity within its caps, until
    // the page acknowledges again.
    const f = this.frameInFlight;
    if (f && performance.now() - f.at > LAG_MS) {
      this.drainHeld = true;
      this.stats.heldForPage++;
      return;
    }
    const t0 = performance.now();
    let m;
    while ((m = this.queue.shift())) {
      this.#dispatch(m);
      if (performance.now() - t0 > (this.detailPending ? 2 : DRAIN_BUDGET_MS)) break;
    }
    if (this.queue.length) this.#scheduleDrain();
    this.#maybeFrame();
  }

  #dispatch(m) {
    switch (m.type) {
      case 'DELTA_BATCH':
        return this.#batch(m);
      case 'READY':
        this.session = { id: m.session_id, token: m.resume_token };
        for (const [c, s] of this.sync) s.resetTo(m.positions?.[c] ?? this.snapshotSeq);
        this.credit.setAll(INITIAL_CREDIT);
        this.state = 'live';
        this.backoff.reset();
        break;
      case 'RESUMED':
        // replayed batches came before this frame and went through the gap rule
        this.session = { id: m.session_id, token: m.resume_token };
        this.credit.setAll(64);
        this.stats.resumes++;
        this.state = 'live';
        this.backoff.reset();
        break;
      case 'SUBSCRIBED':
        for (const c of m.channels ?? []) {
          const s = this.sync.get(c);
          if (s && s.subscribed(m.positions?.[c] ?? s.lastSeq)) {
            this.stats.miniResyncs++;
            const last = this.resyncLog[this.resyncLog.length - 1];
            if (last && last.channel === c) last.done = true;
          }
        }
        break;
      case 'RESYNC_REQUIRED': {
        this.stats.resyncRequired++;
        const s = this.sync.get(m.channel);
        if (s && s.requireResync()) this.#miniResync(m.channel);
        break;
      }
      case 'ERROR':
        this.#fail(`gateway: ${m.code ?? ''} ${m.message ?? ''}`);
        break;
      default:
        break;
    }
    this.#dirty();
  }

  #batch(m) {
    const c = m.channel;
    const s = this.sync.get(c);
    if (!s) return;
    this.stats.batches++;
    if (m.watermark?.journal_seq > this.journalSeq) this.journalSeq = m.watermark.journal_seq;
    const verdict = s.accept(m);
    if (verdict === 'gap') {
      this.stats.gaps++;
      this.#miniResync(c);
      return;
    }
    if (verdict !== 'apply') return;
    const t0 = performance.now();
    this.reducer.applyBatch(m);
    this.applyMs.add(performance.now() - t0);
    this.pendingCommit.set(c, (this.pendingCommit.get(c) ?? 0) + (m.merged ?? 1));
    this.isDirty = true;
    if (c === 'tx.main') {
      if (!this.txRecvAt) this.txRecvAt = m.recvAt;
      const up = m.patch?.upsert;
      if (up?.length) this.lagMs = Math.max(0, Date.now() - (up[up.length - 1].seen_unix_ms ?? Date.now()));
    }
  }

  // Mini-resync of one channel (SPEC 4.2): snapshot since the last good seq at low
  // priority, apply, then SUBSCRIBE from the returned snapshot_seq.
  async #miniResync(c) {
    const s = this.sync.get(c);
    const epoch = s.epoch;
    const from = s.gapFrom;
    const entry = { channel: c, from, to: 0, done: false };
    this.resyncLog.push(entry);
    if (this.resyncLog.length > 32) this.resyncLog.shift();
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        const snap = await this.fetcher.low(`/dashboard/snapshot-v2?channels=${c}&since_seq=${from}`);
        if (s.epoch !== epoch) return;
        this.reducer.applyChannelSnapshot(c, snap.channels?.[c], snap.mode);
        entry.to = snap.snapshot_seq;
        entry.mode = snap.mode;
        // Reconnecting: SUBSCRIBE before RESUME would be closed 4003; the RESUME sent at
        // HELLO restarts this channel from its last good position instead.
        if (this.state !== 'live') return;
        if (s.fetched(epoch)) this.#send({ op: 'SUBSCRIBE', channels: [c], since_seq: snap.snapshot_seq });
        this.#dirty();
        this.#maybeFrame();
        return;
      } catch (err) {
        if (!s.failed(epoch)) return;
        this.#fail(`mini-resync ${c}: ${err.message}`);
        await new Promise((r) => setTimeout(r, this.backoff.baseMs * (attempt + 1)));
      }
    }
  }

  // ---- periodic work --------------------------------------------------------------------

  #creditTick() {
    if (this.state !== 'live' || !this.ws) return;
    if (!this.budget.allow(20)) return; // heartbeats, SUBSCRIBE and RESUME keep headroom
    const g = this.credit.grant();
    if (g) this.#send({ op: 'CREDIT', channel_credit: g });
  }

  metrics() {
    const frames = Math.max(1, this.stats.frames);
    return {
      ui_delta_apply_ms: +this.applyMs.quantile(0.95).toFixed(3),
      ui_stream_gap_count: this.stats.gaps,
      ui_render_drop_ratio: +(this.stats.slowFrames / frames).toFixed(4),
      ui_heap_used_mb: +this.heapMb.toFixed(1),
      ui_detail_open_latency_ms: +this.detailLatency.quantile(0.95).toFixed(1),
      ui_list_update_p95_ms: +this.listLatency.quantile(0.95).toFixed(1),
      ui_list_page_p95_ms: +this.pageLatency.quantile(0.95).toFixed(1),
      ui_render_commit_ms: +this.renderMs.quantile(0.95).toFixed(2),
      ui_delta_queue_depth: this.queue.length,
      ui_queue_coalesced_total: this.queue.coalesced,
      ui_resumes_total: this.stats.resumes,
      ui_mini_resyncs_total: this.stats.miniResyncs,
    };
  }

  #metricsTick() {
    if (this.state !== 'live' || !this.budget.allow(20)) return;
    this.#send({ op: 'CLIENT_METRICS', metrics: this.metrics() });
  }

  #lagTick() {
    const f = this.frameInFlight;
    this.credit.lagging = !!f && performance.now() - f.at > LAG_MS;
    this.#maybeFrame(); // connection panel and diagnostics keep ticking
  }

  #fail(msg) {
    this.stats.errors++;
    this.stats.lastError = msg;
  }

  // ---- frames to the page ------------------------------------------------------------------

  #dirty() {
    this.isDirty = true;
  }

  #maybeFrame() {
    if (this.frameInFlight) return;
    const diagDue = Date.now() - this.sent.diagAt >= FRAME_DIAG_MS;
    if (!this.isDirty && !diagDue) return;
    const f = this.#buildFrame(diagDue);
    if (!f) return;
    this.isDirty = false;
    this.frameInFlight = { id: f.id, at: performance.now(), postAt: nowMs(), committed: this.pendingCommit, txRecvAt: f.txRecvAt };
    this.pendingCommit = new Map();
    this.post(f);
  }

  #buildFrame(diagDue) {
    const r = this.reducer;
    const f = { type: 'frame', id: ++this.frameSeq };
    let any = false;
    // paused: live updates stop, but scrolling and resizing still get their rows
    if (this.viewChanged?.tx || (!this.paused && r.tx.version !== this.sent.tx)) {
      const v = this.views.tx;
      const flt = this.filter;
      const any_ = flt.protocol || flt.category || flt.minEth || flt.address;
      f.tx = windowOf(r.tx, v.start, v.count, any_ ? (e) => txMatches(e, flt) : null, txRow);
      f.tx.capacity = this.caps.txRows;
      f.tx.stored = r.tx.size;
      f.txRecvAt = this.txRecvAt;
      this.txRecvAt = 0;
      this.sent.tx = r.tx.version;
      any = true;
    }
    if (r.featTop.version !== this.sent.featTop) {
      f.featTop = topFeatures(r.featTop, 24);
      this.sent.featTop = r.featTop.version;
      any = true;
    }
    if (r.featRecent.version !== this.sent.featRecent || this.viewChanged?.featRecent) {
      const v = this.views.featRecent;
      f.featRecent = windowOf(r.featRecent, v.start, v.count, null, (e) => e);
      this.sent.featRecent = r.featRecent.version;
      any = true;
    }
    if (r.opp.version !== this.sent.opp || this.viewChanged?.opp) {
      const v = this.views.opp;
      f.opp = windowOf(r.opp, v.start, v.count, null, (e) => e);
      this.sent.opp = r.opp.version;
      any = true;
    }
    if (r.chain.version !== this.sent.chain) {
      f.chain = [];
      r.chain.forEachNewest((e) => {
        f.chain.push(e);
      });
      this.sent.chain = r.chain.version;
      any = true;
    }
    if (r.market.version !== this.sent.market) {
      f.market = [];
      r.market.forEachNewest((e) => {
        f.market.push(e);
      });
      this.sent.market = r.market.version;
      any = true;
    }
    if (r.fee.version !== this.sent.fee) {
      const fe = r.fee;
      f.fee = { t: fe.t.slice(), p50: fe.p50.slice(), p90: fe.p90.slice(), base: fe.base.slice(), next: fe.next.slice() };
      this.sent.fee = fe.version;
      any = true;
    }
    this.viewChanged = null;
    f.conn = this.connState();
    if (diagDue) {
      f.diag = this.diagnostics();
      this.sent.diagAt = Date.now();
    }
    return any || diagDue || this.isDirty ? f : null;
  }

  connState() {
    const ch = {};
    for (const [c, s] of this.sync) ch[c] = { seq: s.lastSeq, state: s.state, gaps: s.gaps, resyncs: s.resyncs };
    const maxSeq = this.#maxSeq();
    return {
      state: this.state,
      session: this.session ? this.session.id.slice(0, 8) : '',
      seq: maxSeq,
      journalSeq: this.journalSeq,
      lagSeq: Math.max(0, this.journalSeq - maxSeq),
      lagMs: this.lagMs,
      gaps: this.stats.gaps,
      resumes: this.stats.resumes,
      reconnects: this.stats.reconnects,
      miniResyncs: this.stats.miniResyncs,
      bootstraps: this.stats.bootstraps,
      zombies: this.stats.zombies,
      lastClose: this.stats.lastClose,
      rttMs: this.hb.rttMs,
      channels: ch,
    };
  }

  diagnostics() {
    return {
      metrics: this.metrics(),
      sizes: this.reducer.sizes(),
      caps: this.caps,
      detailCache: { size: this.details.size, hits: this.details.hits, misses: this.details.misses, evictions: this.details.evictions },
      credit: this.credit.snapshot(),
      queue: { depth: this.queue.length, maxDepth: this.queue.maxDepth, coalesced: this.queue.coalesced, dropped: this.queue.dropped },
      stats: { ...this.stats },
      fetch: { ...this.fetcher.stats, preempted: this.fetcher.preempted },
      resyncLog: this.resyncLog.slice(-8),
      evictions: this.reducer.tx.evictions,
    };
  }

  // ---- page messages ---------------------------------------------------------------------

  onPageMessage(m) {
    switch (m.type) {
      case 'ack':
        return this.#ack(m);
      case 'view': {
        const v = { start: Math.max(0, m.start | 0), count: Math.min(200, Math.max(1, m.count | 0)) };
        const cur = this.views[m.panel];
        if (!cur || (cur.start === v.start && cur.count === v.count)) return;
        this.views[m.panel] = v;
        (this.viewChanged ??= {})[m.panel] = true;
        this.#dirty();
        return this.#maybeFrame();
      }
      case 'filter':
        this.filter = normalizeFilter(m.filter);
        this.views.tx.start = 0;
        (this.viewChanged ??= {}).tx = true;
        this.#dirty();
        return this.#maybeFrame();
      case 'pause':
        this.paused = !!m.paused;
        (this.viewChanged ??= {}).tx = true;
        this.#dirty();
        return this.#maybeFrame();
      case 'detail':
        return this.#openDetail(m.hash);
      case 'prefetch':
        return this.#prefetch(m.hash);
      case 'closeDetail':
        if (this.selected) this.reducer.tx.unpin(this.selected);
        this.selected = null;
        this.details.unpin();
        return;
      case 'detailRendered':
        this.detailLatency.add(m.ms);
        return;
      case 'heap':
        this.heapMb = m.mb;
        if (m.mb > HEAP_BUDGET_MB) this.#pressure();
        return;
      case 'test':
        return this.#testCmd(m);
      default:
        return;
    }
  }

  #ack(m) {
    const f = this.frameInFlight;
    if (!f || f.id !== m.id) return;
    this.frameInFlight = null;
    this.stats.frames++;
    if (m.renderMs > 16.7) this.stats.slowFrames++;
    this.renderMs.add(m.renderMs);
    for (const [c, n] of f.committed) this.credit.onCommitted(c, n);
    if (f.txRecvAt && m.txCommitAt) {
      const ms = Math.max(0, m.txCommitAt - f.txRecvAt);
      this.listLatency.add(ms);
      this.benchLatency.add(ms);
      this.pageLatency.add(Math.max(0, m.txCommitAt - f.postAt)); // frame posted -> DOM commit
    }
    this.credit.lagging = false;
    if (this.drainHeld) {
      this.drainHeld = false;
      this.#scheduleDrain();
    }
    this.#maybeFrame();
  }

  // One request per hash at a time; the result lands in the LRU+TTL cache.
  #fetchDetail(hash) {
    let p = this.detailInflight.get(hash);
    if (p) return p;
    p = this.fetcher
      .high(`/transactions/${hash}`)
      .then((r) => {
        if (r.status === 200) this.details.set(hash, r.body);
        return r;
      })
      .finally(() => this.detailInflight.delete(hash));
    this.detailInflight.set(hash, p);
    return p;
  }

  // Hover / keyboard focus on a row: warm the cache (bounded: two in flight at most, and
  // the prefetch budget per 2 s).
  #prefetch(hash) {
    if (!hash || this.details.map.has(hash) || this.detailInflight.size >= 2) return;
    if (!this.prefetchBudget.allow()) {
      this.stats.prefetchesRefused++;
      return;
    }
    this.prefetchBudget.spend();
    this.stats.prefetches++;
    this.#fetchDetail(hash).catch(() => {});
  }

  async #openDetail(hash) {
    const tRecv = nowMs();
    if (this.selected && this.selected !== hash) this.reducer.tx.unpin(this.selected);
    this.selected = hash;
    this.reducer.tx.pin(hash);
    this.details.pin(hash);
    const linked = () => {
      const out = [];
      this.reducer.opp.forEachNewest((o) => {
        if (o.trigger === hash) out.push(o);
        return out.length < 16;
      });
      return out;
    };
    const row = this.reducer.tx.get(hash) ?? null;
    const cached = this.details.get(hash);
    if (cached) {
      this.post({ type: 'detail', hash, detail: cached, row, linked: linked(), cached: true });
      return;
    }
    // while it is pending the reducer drains in shorter slices so the response is seen
    // sooner (list frames keep flowing: holding them cost more list latency than it saved)
    this.detailPending = true;
    try {
      const { status, body } = await this.#fetchDetail(hash);
      if (status === 200) {
        if (this.selected === hash) this.details.pin(hash);
        this.post({ type: 'detail', hash, detail: body, row, linked: linked(), cached: false, tw: [tRecv, nowMs()] });
      } else {
        this.post({ type: 'detail', hash, detail: null, row, linked: linked(), error: body?.error?.message ?? `HTTP ${status}` });
      }
    } catch (err) {
      this.post({ type: 'detail', hash, detail: null, row, linked: linked(), error: err.message });
    } finally {
      this.detailPending = false;
      this.#maybeFrame();
    }
  }

  // Memory pressure: keep half of every list and of the detail cache; the selected
  // transaction is pinned in both and survives.
  #pressure() {
    this.stats.pressure++;
    this.reducer.shrink(0.5);
    this.details.shrink(Math.floor(this.caps.detailEntries / 2));
    this.#dirty();
  }

  #testCmd(m) {
    if (!this.test) return;
    switch (m.cmd) {
      case 'drop':
        this.testDrop.add(m.channel);
        break;
      case 'pressure':
        this.#pressure();
        break;
      case 'pauseDrain':
        this.drainPausedUntil = Date.now() + (m.ms | 0);
        break;
      case 'takeLatency': {
        const w = this.benchLatency;
        this.post({ type: 'test', cmd: m.cmd, id: m.id, state: { n: w.n, p50: w.quantile(0.5), p95: w.quantile(0.95), max: w.quantile(1) } });
        w.reset();
        return;
      }
      case 'zombie':
        // stop reading: the next heartbeat finds no ACK
        if (this.ws) this.ws.onmessage = null;
        break;
      default:
        break;
    }
    this.post({ type: 'test', cmd: m.cmd, id: m.id, state: this.testState() });
  }

  testState() {
    const tx = this.reducer.tx;
    return {
      conn: this.connState(),
      diag: this.diagnostics(),
      selected: this.selected,
      selectedInStore: this.selected ? !!tx.get(this.selected) : null,
      selectedInCache: this.selected ? this.details.map.has(this.selected) : null,
    };
  }
}
