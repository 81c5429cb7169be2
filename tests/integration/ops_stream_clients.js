// Stream-v2 clients for the operations tests (plain Node.js + the `ws` package, found
// through NODE_PATH). N clients in one process, each a well-behaved SPEC 4.2 client:
// snapshot-v2 bootstrap, IDENTIFY, per-channel prev_seq chain, CREDIT, HEARTBEAT, RESUME
// after a lost connection or RECONNECT (full-jitter backoff), rebootstrap after
// INVALID_SESSION, the snapshot + SUBSCRIBE rule after RESYNC_REQUIRED or a gap.
// Usage: node ops_stream_clients.js PORT N SHM INSTANCE READY_FILE STOP_FILE
// Runs until STOP_FILE exists and every client is at the read model's channel seqs, then
// compares each client's state with `mempulse-shm dump` and prints one JSON line:
// {ok, clients, converged, batches, deltas, gaps, resyncs, resumes, reconnects,
//  invalid_sessions:[...], invalid_in_window, ...}. Exit 0 when ok.
'use strict';
const WebSocket = require('ws');
const http = require('http');
const fs = require('fs');
const { execFileSync } = require('child_process');

const [port, nStr, shm, instance, readyFile, stopFile] = process.argv.slice(2);
const N = Number(nStr);
const CHANNELS = ['tx.main', 'feature.main', 'opportunity.main', 'chain.main', 'market.main'];
// Outstanding credit asked per channel (OPS_CLIENT_CREDIT; default: the gateway's 64).
// 50 clients in one Node process cannot parse 50 full-rate streams at 2,000 tx/s on a
// shared 2-core box; with the default credit the gateway coalesces for the slower ones
// (and sends RESYNC_REQUIRED past its backlog cap), which is the protocol working.
const CREDIT = process.env.OPS_CLIENT_CREDIT ? Number(process.env.OPS_CLIENT_CREDIT) : undefined;
const URL = `ws://127.0.0.1:${port}/dashboard/stream-v2`;
const deadline = Date.now() + Number(process.env.CLIENT_TIMEOUT_MS || 600000);

function info() {
  return JSON.parse(execFileSync(shm, ['info', '--json', '--instance', instance]).toString());
}
// GET PATH as JSON; rejects (never hangs) when the gateway dies mid-response: a response
// cut short ends with 'close' without 'end', so both, an error and a deadline settle it.
function getJson(path) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err, v) => { if (settled) return; settled = true; clearTimeout(timer); err ? reject(err) : resolve(v); };
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('error', (e) => settle(e));
      res.on('end', () => {
        if (res.statusCode !== 200) return settle(new Error('HTTP ' + res.statusCode));
        try { settle(null, JSON.parse(b)); } catch (e) { settle(e); }
      });
      res.on('close', () => settle(new Error('response cut short')));
    });
    const timer = setTimeout(() => { req.destroy(); settle(new Error('timeout')); }, 10000);
    req.on('error', (e) => settle(e));
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jitter = (attempt) => Math.random() * Math.min(20000, 500 * 2 ** attempt);

// Full snapshot of some channels, retried while gateways restart.
async function snapshot(channels) {
  for (let attempt = 0; ; attempt++) {
    try { return await getJson('/dashboard/snapshot-v2?channels=' + channels.join(',')); }
    catch (e) { if (Date.now() > deadline) throw e; await sleep(jitter(Math.min(attempt, 3))); }
  }
}
function entities(sec) { return [].concat(sec.items || [], sec.top || [], sec.recent || []); }

const totals = { batches: 0, deltas: 0, gaps: 0, resyncs: 0, resumes: 0, resumed_batches: 0,
  reconnect_msgs: 0, closes: 0, bootstraps: 0, close_codes: {}, close_reasons: {}, invalid: [], errors: [] };

class Client {
  constructor(id) {
    this.id = id;
    this.state = {};
    this.last = {};
    this.used = {};
    this.session = null;
    this.ws = null;
    this.attempt = 0;
    this.paused = new Map(); // channel -> 'fetching' | 'subscribing' (the SPEC 4.2 client rule)
    this.resuming = false;
    this.live = false; // the current connection had READY or RESUMED: other ops may go
    this.gen = 0;
    this.hist = {}; // channel -> the last few events on it, for a gap's report
  }

  note(ch, what) {
    const h = this.hist[ch] || (this.hist[ch] = []);
    h.push(what);
    if (h.length > 8) h.shift();
  }

  async bootstrap() {
    totals.bootstraps++;
    const gen = ++this.gen;
    this.paused.clear();
    const snap = await snapshot(CHANNELS);
    if (gen !== this.gen) return;
    for (const ch of CHANNELS) {
      this.state[ch] = new Map();
      for (const e of entities(snap.channels[ch])) this.state[ch].set(e.id, e.seq);
      this.last[ch] = snap.snapshot_seq;
      this.used[ch] = 0;
    }
    this.session = null;
    this.connect({ op: 'IDENTIFY', subscriptions: CHANNELS, snapshot_seq: snap.snapshot_seq, credit: CREDIT });
  }

  // One connection at a time: a newer one replaces (and silences) the older one, and
  // every handler ignores events of a connection that is no longer current.
  connect(first) {
    if (this.ws) this.drop(this.ws);
    const ws = new WebSocket(URL);
    this.ws = ws;
    this.live = false; // until READY / RESUMED: CREDIT or SUBSCRIBE before RESUME is a 4003
    this.lostAt = this.lostAt || Date.now();
    ws.on('message', (data) => { if (ws === this.ws) this.onMessage(JSON.parse(data.toString()), ws, first); });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      totals.close_codes[code] = (totals.close_codes[code] || 0) + 1;
      if (code !== 1001) totals.close_reasons[code] = String(reason);
      this.lastClose = code;
      this.onClose(ws);
    });
    ws.on('error', () => {});
    ws.on('unexpected-response', () => ws.terminate());
  }

  drop(ws) {
    ws.removeAllListeners('message');
    ws.removeAllListeners('close');
    ws.on('close', () => {});
    ws.terminate();
    if (this.ws === ws) this.ws = null;
  }

  send(m) { if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m)); }

  resumeMsg() {
    const positions = Object.assign({}, this.last);
    return { op: 'RESUME', session_id: this.session.id, resume_token: this.session.token,
      last_seq: Math.min(...Object.values(positions)), subscriptions: CHANNELS, positions, credit: CREDIT };
  }

  onClose(ws) {
    if (ws !== this.ws) return;
    totals.closes++;
    this.ws = null;
    if (this.stopped) return;
    this.lostAt = this.lostAt || Date.now();
    const delay = jitter(this.attempt++);
    const gen = this.gen;
    setTimeout(() => {
      if (this.stopped || gen !== this.gen || this.ws) return;
      if (this.session) { this.resuming = true; this.connect(this.resumeMsg()); }
      else this.bootstrap().catch((e) => totals.errors.push(String(e)));
    }, delay);
  }

  applyBatch(m) {
    const ch = m.channel;
    if (this.paused.has(ch)) return;
    if (m.prev_seq !== this.last[ch]) {
      totals.gaps++;
      totals.errors.length < 20 && totals.errors.push({ client: this.id, gap: { ch, prev_seq: m.prev_seq, last: this.last[ch], seq: m.seq, hist: (this.hist[ch] || []).slice() } });
      this.recover(ch, this.last[ch]);
      return;
    }
    const st = this.state[ch];
    for (const u of m.patch.upsert) if (!st.has(u.id) || u.seq > st.get(u.id)) st.set(u.id, u.seq);
    for (const id of m.patch.remove) if (!st.has(id) || st.get(id) <= m.seq) st.delete(id);
    this.note(ch, `b${m.prev_seq}>${m.seq}`);
    this.last[ch] = m.seq;
    this.used[ch]++;
    totals.batches++;
    totals.deltas += m.patch.upsert.length + m.patch.remove.length;
    if (this.resuming) totals.resumed_batches++;
  }

  // The SPEC 4.2 client rule for one channel: pause it, full snapshot, SUBSCRIBE from its
  // snapshot_seq; batches of the channel are ignored until SUBSCRIBED (or RESUMED) says
  // where the new chain starts.
  async recover(ch) {
    if (this.paused.get(ch) === 'fetching') return;
    this.paused.set(ch, 'fetching');
    const gen = this.gen;
    try {
      const snap = await snapshot([ch]);
      if (gen !== this.gen || this.paused.get(ch) !== 'fetching') return;
      this.state[ch] = new Map();
      for (const e of entities(snap.channels[ch])) this.state[ch].set(e.id, e.seq);
      this.last[ch] = snap.snapshot_seq;
      this.note(ch, `subscribe${snap.snapshot_seq}`);
      this.paused.set(ch, 'subscribing');
      // Not live (reconnecting): the next RESUME carries this position instead.
      if (this.live) this.send({ op: 'SUBSCRIBE', channels: [ch], since_seq: snap.snapshot_seq });
    } catch (e) { totals.errors.push(String(e)); }
  }

  onMessage(m, ws, first) {
    if (m.op === 'HELLO') {
      // RESUME restarts every channel at the positions it carries: replayed batches come
      // before RESUMED and chain from there, so no channel stays paused.
      if (first.op === 'RESUME') {
        first.positions = Object.assign({}, this.last);
        first.last_seq = Math.min(...Object.values(this.last));
        this.paused.clear();
      }
      this.send(first);
      return;
    }
    if (m.op === 'HEARTBEAT_ACK') return;
    if (m.op === 'RECONNECT') {
      totals.reconnect_msgs++;
      if (m.session_id && m.resume_token) this.session = { id: m.session_id, token: m.resume_token };
      return; // the gateway closes the connection; onClose resumes
    }
    if (m.op === 'INVALID_SESSION') {
      let oldest = null, head = null;
      try { const r = info().readmodel; oldest = r.oldest_journal_seq; head = r.journal_seq; } catch (e) { /* busy */ }
      const minPos = Math.min(...Object.values(this.last));
      totals.invalid.push({ client: this.id, reason: m.reason, positions: Object.assign({}, this.last),
        oldest_journal_seq: oldest, journal_seq: head,
        lost_ms: this.lostAt ? Date.now() - this.lostAt : null, in_window: oldest !== null && minPos + 1 >= oldest });
      this.session = null;
      this.resuming = false;
      this.drop(ws);
      this.bootstrap().catch((e) => totals.errors.push(String(e)));
      return;
    }
    if (m.op !== 'DISPATCH') { totals.errors.length < 20 && totals.errors.push({ client: this.id, unexpected: m.op }); return; }
    switch (m.type) {
      case 'READY':
      case 'RESUMED':
        if (m.type === 'RESUMED') totals.resumes++;
        this.session = { id: m.session_id, token: m.resume_token };
        this.resuming = false;
        this.live = true;
        this.paused.clear(); // RESUME / IDENTIFY (re)started every channel at this.last
        for (const ch of CHANNELS) this.note(ch, `${m.type}@${this.last[ch]}`);
        this.attempt = 0;
        this.lostAt = 0;
        for (const ch of CHANNELS) this.used[ch] = 0;
        if (m.type === 'READY')
          for (const ch of CHANNELS) if (m.positions[ch] !== this.last[ch])
            totals.errors.push({ client: this.id, ready_position: { ch, got: m.positions[ch], want: this.last[ch] } });
        break;
      case 'DELTA_BATCH': this.applyBatch(m); break;
      case 'RESYNC_REQUIRED':
        totals.resyncs++;
        this.note(m.channel, `resync${m.since_seq}(${this.paused.get(m.channel) || 'live'})`);
        this.recover(m.channel);
        break;
      case 'SUBSCRIBED':
        for (const ch of m.channels) {
          if (m.positions[ch] !== this.last[ch])
            totals.errors.push({ client: this.id, subscribed_position: { ch, got: m.positions[ch], want: this.last[ch] } });
          this.note(ch, `subscribed${m.positions[ch]}(${this.paused.get(ch) || 'live'})`);
          this.paused.delete(ch);
        }
        break;
      case 'ERROR': totals.errors.length < 20 && totals.errors.push({ client: this.id, error: m }); break;
      default: break;
    }
  }

  tick(now) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.live) return;
    if (!this.lastCredit || now - this.lastCredit >= 1000) {
      const cc = {};
      for (const ch of CHANNELS) { if (this.used[ch]) cc[ch] = this.used[ch]; this.used[ch] = 0; }
      if (Object.keys(cc).length) this.send({ op: 'CREDIT', channel_credit: cc });
      this.lastCredit = now;
    }
    if (!this.lastBeat || now - this.lastBeat >= 5000) {
      this.send({ op: 'HEARTBEAT', last_seq: Math.max(...Object.values(this.last)) });
      this.lastBeat = now;
    }
  }
}

function finish(ok, extra) {
  const invalidInWindow = totals.invalid.filter((x) => x.in_window).length;
  console.log(JSON.stringify(Object.assign({ ok, clients: N, batches: totals.batches, deltas: totals.deltas,
    gaps: totals.gaps, resyncs: totals.resyncs, resumes: totals.resumes, resumed_batches: totals.resumed_batches,
    reconnect_msgs: totals.reconnect_msgs, closes: totals.closes, bootstraps: totals.bootstraps, close_codes: totals.close_codes, close_reasons: totals.close_reasons,
    invalid_sessions: totals.invalid.slice(0, 10), invalid_count: totals.invalid.length,
    invalid_in_window: invalidInWindow, errors: totals.errors.slice(0, 10) }, extra || {})));
  process.exit(ok ? 0 : 1);
}

async function main() {
  const clients = [];
  for (let i = 0; i < N; i++) {
    const c = new Client(i);
    clients.push(c);
    await c.bootstrap();
    await sleep(20);
  }
  const timer = setInterval(() => { const now = Date.now(); for (const c of clients) c.tick(now); }, 100);
  // Every client has a session before the test starts its disturbances.
  while (clients.some((c) => !c.session)) {
    if (Date.now() > deadline) finish(false, { error: 'clients did not all get READY' });
    await sleep(50);
  }
  fs.writeFileSync(readyFile, 'ready');
  // OPS_PROGRESS_FILE: the counters so far, rewritten every 200 ms (tests read them
  // between disturbances).
  if (process.env.OPS_PROGRESS_FILE) {
    const f = process.env.OPS_PROGRESS_FILE;
    setInterval(() => {
      fs.writeFileSync(f + '.tmp', JSON.stringify(Object.assign({}, totals, { invalid: totals.invalid.length, errors: totals.errors.length })));
      fs.renameSync(f + '.tmp', f);
    }, 200).unref();
  }
  while (!fs.existsSync(stopFile)) {
    if (Date.now() > deadline) finish(false, { error: 'no stop file before the deadline' });
    await sleep(200);
  }
  // Converged: every client, connected with a session and no paused channel, is at (or
  // past) the read model's last seq of every channel.
  const want = info().readmodel.channel_seq;
  const t0 = Date.now();
  for (;;) {
    const behind = clients.filter((c) => !c.session || c.resuming || c.paused.size ||
      CHANNELS.some((ch) => c.last[ch] < want[ch]));
    if (!behind.length) break;
    if (Date.now() - t0 > 60000)
      finish(false, { error: 'clients did not reach the final seqs', behind: behind.length,
        sample: behind.slice(0, 3).map((c) => ({ id: c.id, session: !!c.session, resuming: c.resuming, ws: c.ws ? c.ws.readyState : null,
          attempt: c.attempt, last_close: c.lastClose, paused: [...c.paused.entries()], last: c.last })), want });
    await sleep(200);
  }
  clearInterval(timer);
  const dump = {};
  for (const ch of CHANNELS) {
    const d = JSON.parse(execFileSync(shm, ['dump', ch, '--json', '--instance', instance], { maxBuffer: 1 << 28 }).toString());
    dump[ch] = new Map(d.items.map((e) => [e.id, e.seq]));
  }
  let converged = 0;
  const diffs = [];
  for (const c of clients) {
    let same = true;
    for (const ch of CHANNELS) {
      const a = c.state[ch], b = dump[ch];
      let ok = a.size === b.size;
      if (ok) for (const [k, v] of b) if (a.get(k) !== v) { ok = false; break; }
      if (!ok) {
        same = false;
        if (diffs.length < 5) diffs.push({ client: c.id, ch, client_size: a.size, dump_size: b.size });
      }
    }
    if (same) converged++;
    c.stopped = true;
    if (c.ws) c.ws.terminate();
  }
  const sizes = Object.fromEntries(CHANNELS.map((ch) => [ch, dump[ch].size]));
  const ok = converged === N && totals.gaps === 0 && totals.invalid.every((x) => !x.in_window) &&
    totals.errors.length === 0;
  finish(ok, { converged, diffs, dump_sizes: sizes });
}

setTimeout(() => finish(false, { error: 'client deadline passed' }), deadline - Date.now() + 5000).unref();
main().catch((e) => finish(false, { error: String(e && e.stack || e) }));
