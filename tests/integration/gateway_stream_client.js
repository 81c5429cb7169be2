// stream-v2 test client for gateway_stream.sh (plain Node.js + the `ws` package, found
// through NODE_PATH). Usage: node gateway_stream_client.js SCENARIO PORT [ARGS...]
// Prints one JSON line of findings; exits 0 when the scenario's checks hold, 1 otherwise.
'use strict';
const fs = require('fs');
const http = require('http');
const crypto = require('crypto');
const { scenario, port, args, URL, CHANNELS, done, fail, sleep, getJson, open } =
  require('./stream_client_lib.js');

const send = (c, m) => c.ws.send(typeof m === 'string' ? m : JSON.stringify(m));

function checkHello(h) {
  const want = ['op', 'heartbeat_interval_ms', 'session_id', 'server_time_unix_ms', 'resume_token_ttl_ms',
    'max_payload_bytes', 'channels'];
  for (const k of want) if (!(k in h)) fail('HELLO lacks ' + k, { hello: h });
  if (JSON.stringify(h.channels) !== JSON.stringify(CHANNELS)) fail('HELLO channels', { hello: h });
  if (h.max_payload_bytes !== 4096 || typeof h.session_id !== 'string' || h.session_id.length < 20) fail('HELLO values', { hello: h });
}

// ---- converge: snapshot + stream (+ RESUME after the gateway dies) == dump ----------
async function converge() {
  const [outFile, stopFile] = args;
  const snap = await getJson('/dashboard/snapshot-v2?channels=' + CHANNELS.join(','));
  const state = {}; const last = {}; const used = {};
  for (const ch of CHANNELS) {
    state[ch] = new Map();
    const sec = snap.channels[ch];
    for (const e of [].concat(sec.items || [], sec.top || [], sec.recent || [])) state[ch].set(e.id, e.seq);
    used[ch] = 0;
  }
  let c = await open();
  checkHello(c.hello);
  send(c, { op: 'IDENTIFY', subscriptions: CHANNELS, snapshot_seq: snap.snapshot_seq });
  const ready = await c.next(5000);
  if (!ready || ready.op !== 'DISPATCH' || ready.type !== 'READY') fail('no READY', { got: ready });
  for (const k of ['session_id', 'resume_token', 'subscriptions', 'positions'])
    if (!(k in ready)) fail('READY lacks ' + k, { ready });
  if (ready.session_id !== c.hello.session_id) fail('READY session id differs from HELLO');
  for (const ch of CHANNELS) {
    if (ready.positions[ch] !== snap.snapshot_seq) fail('READY position', { ready });
    last[ch] = ready.positions[ch];
  }
  let session = { id: ready.session_id, token: ready.resume_token };
  let batches = 0, resumed = 0, lastBatchAt = Date.now(), resumedBatches = 0;
  const apply = (m) => {
    if (m.prev_seq !== last[m.channel]) fail('prev_seq gap', { channel: m.channel, prev_seq: m.prev_seq, last: last[m.channel], seq: m.seq });
    if (!(m.seq > m.prev_seq)) fail('seq not after prev_seq', { m: m.seq, p: m.prev_seq });
    if (m.patch.upsert.length + m.patch.remove.length > 256) fail('batch over 256');
    for (const k of ['latest_ingest_seq', 'journal_seq']) if (!(k in m.watermark)) fail('watermark');
    const st = state[m.channel];
    let maxSeq = 0;
    for (const u of m.patch.upsert) {
      maxSeq = Math.max(maxSeq, u.seq);
      if (!st.has(u.id) || u.seq > st.get(u.id)) st.set(u.id, u.seq);
    }
    for (const id of m.patch.remove) if (!st.has(id) || st.get(id) <= m.seq) st.delete(id);
    if (maxSeq > m.seq) fail('upsert newer than its batch seq');
    last[m.channel] = m.seq;
    used[m.channel]++;
    batches++;
    lastBatchAt = Date.now();
  };
  let lastCredit = Date.now(), lastBeat = Date.now();
  for (;;) {
    const m = await c.next(100);
    if (m === null) {
      // Connection lost (the gateway was killed): RESUME on the port (another process).
      let r = null;
      for (let i = 0; i < 50 && !r; i++) {
        await sleep(100);
        try { r = await open(); } catch (e) { r = null; }
      }
      if (!r) fail('cannot reconnect');
      c = r;
      const positions = {}; for (const ch of CHANNELS) positions[ch] = last[ch];
      send(c, { op: 'RESUME', session_id: session.id, resume_token: session.token,
        last_seq: Math.min(...Object.values(last)), subscriptions: CHANNELS, positions });
      for (;;) {
        const x = await c.next(5000);
        if (!x) fail('no RESUMED', { got: x });
        if (x.op === 'DISPATCH' && x.type === 'DELTA_BATCH') { apply(x); resumedBatches++; continue; }
        if (x.op === 'DISPATCH' && x.type === 'RESUMED') { session.token = x.resume_token; resumed++; break; }
        fail('unexpected while resuming', { got: x });
      }
      for (const ch of CHANNELS) used[ch] = 0;
      continue;
    }
    if (m && m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') apply(m);
    else if (m && m.op === 'DISPATCH' && m.type === 'RESYNC_REQUIRED') fail('resync required', { m });
    else if (m && m.op !== 'HEARTBEAT_ACK') fail('unexpected frame', { m });
    const now = Date.now();
    if (now - lastCredit > 1000) {
      const cc = {}; for (const ch of CHANNELS) { if (used[ch]) cc[ch] = used[ch]; used[ch] = 0; }
      if (Object.keys(cc).length) send(c, { op: 'CREDIT', channel_credit: cc });
      lastCredit = now;
    }
    if (now - lastBeat > 5000) { send(c, { op: 'HEARTBEAT', last_seq: Math.max(...Object.values(last)) }); lastBeat = now; }
    if (fs.existsSync(stopFile) && now - lastBatchAt > 2000) break;
  }
  const out = {};
  for (const ch of CHANNELS) out[ch] = Object.fromEntries(state[ch]);
  fs.writeFileSync(outFile, JSON.stringify(out));
  done(true, { batches, resumed, resumedBatches });
}

// ---- credit: zero credit holds batches; CREDIT releases one coalesced batch ------------
async function credit() {
  const c = await open();
  send(c, { op: 'IDENTIFY', subscriptions: ['tx.main'], credit: { 'tx.main': 0 } });
  const ready = await c.next(5000);
  if (!ready || ready.type !== 'READY') fail('no READY', { ready });
  const t0 = Date.now();
  while (Date.now() - t0 < 1500) {
    const m = await c.next(100);
    if (m && m.type === 'DELTA_BATCH') fail('batch sent without credit');
  }
  send(c, { op: 'CREDIT', channel_credit: { 'tx.main': 1 } });
  const b = await c.next(1000);
  if (!b || b.type !== 'DELTA_BATCH') fail('no batch after CREDIT', { b });
  if (b.prev_seq !== ready.positions['tx.main']) fail('catch-up prev_seq', { b: b.prev_seq, ready: ready.positions });
  const ids = b.patch.upsert.map((u) => u.id).concat(b.patch.remove);
  if (new Set(ids).size !== ids.length) fail('catch-up batch not coalesced');
  const t1 = Date.now();
  while (Date.now() - t1 < 500) {
    const m = await c.next(100);
    if (m && m.type === 'DELTA_BATCH') fail('second batch on one credit');
  }
  done(true, { entities: ids.length });
}

// ---- window: IDENTIFY's credit sizes the window; without it CREDIT caps at 64 -----------
// Counts the batches that arrive until none came for `quietMs` (bounded by `limitMs`).
async function countBatches(c, quietMs, limitMs) {
  let n = 0, last = Date.now();
  const t0 = Date.now();
  while (Date.now() - last < quietMs) {
    if (Date.now() - t0 > limitMs) fail('batches kept coming past the credit', { n });
    const m = await c.next(100);
    if (m === null) fail('closed', { close: c.close });
    if (m && m.type === 'DELTA_BATCH') { n++; last = Date.now(); }
  }
  return n;
}

async function windowCase() {
  const a = await open();
  send(a, { op: 'IDENTIFY', subscriptions: ['tx.main'], credit: 100 });
  const ra = await a.next(5000);
  if (!ra || ra.type !== 'READY') fail('no READY', { ra });
  const wide = await countBatches(a, 2500, 20000);
  if (wide !== 100) fail('IDENTIFY credit 100: expected exactly 100 batches', { wide });
  const b = await open();
  send(b, { op: 'IDENTIFY', subscriptions: ['tx.main'], credit: { 'tx.main': 0 } });
  const rb = await b.next(5000);
  if (!rb || rb.type !== 'READY') fail('no READY', { rb });
  send(b, { op: 'CREDIT', channel_credit: { 'tx.main': 500 } });
  const capped = await countBatches(b, 2500, 20000);
  if (capped !== 64) fail('CREDIT 500 on the default window: expected 64 batches', { capped });
  done(true, { wide, capped });
}

// ---- close codes ------------------------------------------------------------------
async function closeCase() {
  const [kind, expected, token] = args;
  const c = await open();
  const identify = { op: 'IDENTIFY', subscriptions: ['chain.main'] };
  if (token) identify.token = token;
  switch (kind) {
    case 'oversize': send(c, JSON.stringify({ op: 'HEARTBEAT', pad: 'x'.repeat(5000) })); break;
    case 'badjson': send(c, '{"op":'); break;
    case 'unknownop': send(c, { op: 'FROBNICATE' }); break;
    case 'noidentify': break;
    case 'badtoken': send(c, Object.assign({}, identify, { token: 'wrong' })); break;
    case 'second': send(c, identify); send(c, identify); break;
    case 'rate': for (let i = 0; i < 125; i++) send(c, { op: 'HEARTBEAT', last_seq: 0 }); break;
    case 'binary': c.ws.send(Buffer.from('{"op":"HEARTBEAT"}'), { binary: true }); break;
    case 'badutf8': c.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false }); break;
    case 'heartbeat': send(c, identify); break;
    case 'unknownchannel': {
      send(c, identify);
      await c.next(2000);
      send(c, { op: 'SUBSCRIBE', channels: ['nope.main'] });
      const e = await c.next(2000);
      if (!e || e.type !== 'ERROR') fail('no ERROR for an unknown channel', { e });
      send(c, { op: 'HEARTBEAT', last_seq: 0 });
      for (;;) {
        const a = await c.next(2000);
        if (!a) fail('connection not kept after unknown channel');
        if (a.op === 'HEARTBEAT_ACK') done(true, {});
      }
    }
    default: fail('unknown case ' + kind);
  }
  const code = await c.closed(15000);
  done(String(code) === expected, { kind, code, expected: Number(expected) });
}

// ---- expired resume token -> INVALID_SESSION (token minted with the shared key) -------
async function expired() {
  const [keyFile] = args;
  const key = fs.readFileSync(keyFile);
  const c = await open();
  const sid = c.hello.session_id;
  const nonce = Buffer.from(sid, 'base64url').subarray(0, 16);
  const payload = Buffer.alloc(33);
  payload[0] = 1; nonce.copy(payload, 1);
  const now = BigInt(Date.now());
  payload.writeBigUInt64BE(now - 200000n, 17);
  payload.writeBigUInt64BE(now - 80000n, 25);
  const mac = crypto.createHmac('sha256', key).update(Buffer.concat([Buffer.from('tok'), payload])).digest();
  const token = Buffer.concat([payload, mac]).toString('base64url');
  send(c, { op: 'RESUME', session_id: sid, resume_token: token, last_seq: 1, subscriptions: ['chain.main'] });
  const m = await c.next(3000);
  if (!m || m.op !== 'INVALID_SESSION' || m.reason !== 'token_expired') fail('expired token not refused', { m });
  // The same key with a live expiry is accepted: the forged-format check is not vacuous.
  payload.writeBigUInt64BE(now + 60000n, 25);
  const mac2 = crypto.createHmac('sha256', key).update(Buffer.concat([Buffer.from('tok'), payload])).digest();
  send(c, { op: 'RESUME', session_id: sid, resume_token: Buffer.concat([payload, mac2]).toString('base64url'),
    last_seq: 0, subscriptions: ['chain.main'] });
  const m2 = await c.next(3000);
  // Accepted: replayed batches / RESUMED, or refused for the window (seq 0), never for the token.
  const accepted = m2 && (m2.type === 'DELTA_BATCH' || m2.type === 'RESUMED' ||
    (m2.op === 'INVALID_SESSION' && m2.reason === 'out_of_window'));
  if (!accepted) fail('valid token refused', { m2 });
  done(true, { reason: m.reason, second: m2.op + '/' + (m2.type || m2.reason) });
}

// ---- SIGTERM: RECONNECT then close ---------------------------------------------------
async function reconnect() {
  const [readyFile, token] = args;
  const c = await open();
  send(c, { op: 'IDENTIFY', subscriptions: ['chain.main'], token });
  const r = await c.next(3000);
  if (!r || r.type !== 'READY') fail('no READY', { r });
  fs.writeFileSync(readyFile, 'ready');
  let beat = setInterval(() => send(c, { op: 'HEARTBEAT', last_seq: 0 }), 200);
  for (;;) {
    const m = await c.next(20000);
    if (!m) fail('closed without RECONNECT', { code: c.close });
    if (m.op === 'RECONNECT') {
      clearInterval(beat);
      if (!m.resume_token || !m.session_id) fail('RECONNECT without resume data', { m });
      const code = await c.closed(5000);
      done(code === 1001, { code });
    }
  }
}

// ---- CLIENT_METRICS -> ui_* gauges at /metrics (a single gateway process on PORT) ------
async function clientMetrics() {
  const [token] = args;
  const c = await open();
  send(c, { op: 'IDENTIFY', subscriptions: ['chain.main'], token });
  const r = await c.next(3000);
  if (!r || r.type !== 'READY') fail('no READY', { r });
  send(c, { op: 'CLIENT_METRICS', metrics: { render_ms: 12.5, 'Bad-Name': 1 } });
  for (let i = 0; i < 40; i++) {
    await sleep(50);
    const text = await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let b = ''; res.on('data', (x) => { b += x; }); res.on('end', () => resolve(b));
    }));
    if (/^ui_render_ms 12\.5$/m.test(text)) {
      if (/Bad-Name/i.test(text)) fail('invalid metric name exported');
      for (const k of ['stream_v2_credit_exhausted_total', 'stream_v2_gap_events_total',
        'stream_v2_resume_success_total', 'stream_v2_dispatch_latency_ms_count', 'dashboard_stream_backlog'])
        if (!text.includes(k + ' ')) fail('metrics lack ' + k);
      done(true, {});
    }
  }
  fail('ui_render_ms not exported');
}

// ---- Origin outside the allow-list: the upgrade is refused -----------------------------
async function origin() {
  const [allowed] = args;
  try { await open({ origin: 'http://evil.example' }); } catch (e) {
    if (!/HTTP 400/.test(String(e))) fail('refusal is not HTTP 400', { e: String(e) });
    const c = await open({ origin: allowed });
    c.ws.close();
    done(true, {});
  }
  fail('foreign Origin accepted');
}

// ---- a client that stops reading: the gateway closes it with 4010 (seen in /metrics) ----
async function stall() {
  const [token] = args;
  const c = await open();
  send(c, { op: 'IDENTIFY', token });
  const r = await c.next(3000);
  if (!r || r.type !== 'READY') fail('no READY', { r });
  c.ws._socket.pause(); // stop reading; keep sending heartbeats (writes still flow)
  setInterval(() => send(c, { op: 'HEARTBEAT', last_seq: 0 }), 200).unref();
  for (let i = 0; i < 300; i++) {
    await sleep(100);
    const text = await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let b = ''; res.on('data', (x) => { b += x; }); res.on('end', () => resolve(b));
    }));
    if (/^stream_v2_closes_total\{code="4010"\} [1-9]/m.test(text)) done(true, { after_ms: i * 100 });
  }
  fail('no close 4010 for a stalled reader');
}

const scenarios = { stall, converge, credit, window: windowCase, close: closeCase, expired, reconnect, metrics: clientMetrics, origin };
if (!scenarios[scenario]) fail('unknown scenario');
setTimeout(() => fail('scenario timed out'), Number(process.env.CLIENT_TIMEOUT_MS || 120000)).unref();
scenarios[scenario]().catch((e) => fail(String(e && e.stack || e)));
