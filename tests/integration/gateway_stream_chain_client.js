// stream-v2 client for gateway_stream_chain.sh (plain Node.js + the `ws` package, found
// through NODE_PATH): a long prev_seq chain at a high rate, RESYNC_REQUIRED and the client
// rule that recovers from it, SUBSCRIBE / UNSUBSCRIBE mid-stream.
// Usage: node gateway_stream_chain_client.js SCENARIO PORT [ARGS...]
// Prints one JSON line of findings; exits 0 when the scenario's checks hold, 1 otherwise.
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');
const { scenario, port, args, CHANNELS, done, fail, sleep, getJson, open: openWith } =
  require('./stream_client_lib.js');
const open = () => openWith(null, true, true);

const send = (c, m) => c.ws.send(JSON.stringify(m));

// Waits for a DISPATCH of `type`, passing every other frame to onOther (which may fail).
async function expectDispatch(c, type, ms, onOther) {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    const m = left > 0 ? await c.next(left) : undefined;
    if (!m) fail('no ' + type, { got: m, close: c.close });
    if (m.op === 'DISPATCH' && m.type === type) return m;
    if (onOther) onOther(m); else if (m.op !== 'HEARTBEAT_ACK') fail('unexpected before ' + type, { m });
  }
}

// Per-channel chain checker: prev_seq must equal the last seq (or position), seq > prev_seq.
function chain(positions) {
  const last = Object.assign({}, positions);
  const counts = { batches: 0, deltas: 0 };
  return {
    last, counts,
    check(m) {
      if (!(m.channel in last)) fail('batch on a channel not followed', { channel: m.channel, seq: m.seq });
      if (m.prev_seq !== last[m.channel])
        fail('prev_seq gap', { channel: m.channel, prev_seq: m.prev_seq, last: last[m.channel], seq: m.seq });
      if (!(m.seq > m.prev_seq)) fail('seq not after prev_seq', { channel: m.channel, seq: m.seq, prev_seq: m.prev_seq });
      last[m.channel] = m.seq;
      counts.batches++;
      counts.deltas += m.patch.upsert.length + m.patch.remove.length;
    },
  };
}

// ---- follow: one client on every channel until MIN deltas, then state == dump -----------
async function follow() {
  const [minDeltas, deadlineS, outFile, reachedFile, stopFile] = args;
  const snap = await getJson('/dashboard/snapshot-v2?channels=' + CHANNELS.join(','));
  const state = {}; const used = {};
  for (const ch of CHANNELS) {
    state[ch] = new Map();
    const sec = snap.channels[ch];
    for (const e of [].concat(sec.items || [], sec.top || [], sec.recent || [])) state[ch].set(e.id, e.seq);
    used[ch] = 0;
  }
  // FOLLOW_TRACE=FILE records the snapshot and every batch (seq, prev_seq, channel, entity
  // ids with their seqs) for a post-mortem of a state that differs from the dump.
  const trace = process.env.FOLLOW_TRACE ? fs.openSync(process.env.FOLLOW_TRACE, 'w') : null;
  if (trace) fs.writeSync(trace, JSON.stringify({ snapshot_seq: snap.snapshot_seq, state: Object.fromEntries(CHANNELS.map((ch) => [ch, Object.fromEntries(state[ch])])) }) + '\n');
  const c = await open();
  // Credit behaviour (environment): the window asked in IDENTIFY [256: at 5,000 tx/s tx.main
  // carries ~14k deltas a second, near what 64 batches of at most 256 entities per
  // one-second CREDIT period hold], the CREDIT period [1000 ms] and the most credit given
  // back per channel per period [all that was spent]. A stingy client is held on zero
  // credit most of the time, which moves its channels off the gateway's shared path.
  const window = Number(process.env.FOLLOW_CREDIT || 256);
  const refillMs = Number(process.env.FOLLOW_REFILL_MS || 1000);
  const refillMax = Number(process.env.FOLLOW_REFILL_MAX || Infinity);
  const quietMs = Number(process.env.FOLLOW_QUIET_MS || 2000);
  send(c, { op: 'IDENTIFY', subscriptions: CHANNELS, snapshot_seq: snap.snapshot_seq, credit: window });
  const ready = await expectDispatch(c, 'READY', 5000);
  for (const ch of CHANNELS)
    if (ready.positions[ch] !== snap.snapshot_seq) fail('READY position', { ch, ready: ready.positions });
  const k = chain(ready.positions);
  const deadline = Date.now() + Number(deadlineS) * 1000;
  let reached = false, lastBatchAt = Date.now(), lastCredit = Date.now(), lastBeat = Date.now();
  for (;;) {
    const m = await c.next(100);
    if (m === null) fail('connection closed', { close: c.close, counts: k.counts });
    if (m && m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') {
      k.check(m);
      if (trace) fs.writeSync(trace, JSON.stringify({ ch: m.channel, seq: m.seq, prev: m.prev_seq, rx: m.rx_ms, up: m.patch.upsert.map((u) => [u.id, u.seq]), rm: m.patch.remove }) + '\n');
      const st = state[m.channel];
      for (const u of m.patch.upsert) {
        if (u.seq > m.seq) fail('upsert newer than its batch seq', { u: u.seq, seq: m.seq });
        if (!st.has(u.id) || u.seq > st.get(u.id)) st.set(u.id, u.seq);
      }
      for (const id of m.patch.remove) if (!st.has(id) || st.get(id) <= m.seq) st.delete(id);
      used[m.channel]++;
      lastBatchAt = Date.now();
    } else if (m && m.op !== 'HEARTBEAT_ACK') {
      fail('unexpected frame', { m, counts: k.counts });
    }
    const now = Date.now();
    // Replenish what was spent once a second (the gateway allows 120 client messages a
    // minute).
    if (now - lastCredit > refillMs) {
      const cc = {};
      for (const ch of CHANNELS) {
        const give = Math.min(used[ch], refillMax);
        if (give) cc[ch] = give;
        used[ch] -= give;
      }
      if (Object.keys(cc).length) send(c, { op: 'CREDIT', channel_credit: cc });
      lastCredit = now;
    }
    if (now - lastBeat > 5000) { send(c, { op: 'HEARTBEAT', last_seq: Math.max(...Object.values(k.last)) }); lastBeat = now; }
    if (!reached && k.counts.deltas >= Number(minDeltas)) {
      reached = true;
      fs.writeFileSync(reachedFile, String(k.counts.deltas));
    }
    if (!reached && now > deadline) fail('too few deltas before the deadline', { counts: k.counts });
    // Done once the stop file exists and nothing came for FOLLOW_QUIET_MS [2000]: a stingy
    // client still draining its backlog on a loaded machine needs longer.
    if (reached && fs.existsSync(stopFile) && now - lastBatchAt > quietMs) break;
  }
  const out = {};
  for (const ch of CHANNELS) out[ch] = Object.fromEntries(state[ch]);
  fs.writeFileSync(outFile, JSON.stringify(out));
  const snapCounts = Object.fromEntries(CHANNELS.map((ch) => {
    const sec = snap.channels[ch];
    return [ch, [].concat(sec.items || [], sec.top || [], sec.recent || []).length];
  }));
  done(true, Object.assign({}, k.counts, { last: k.last, snapshot_seq: snap.snapshot_seq, snapshot_counts: snapCounts }));
}

// ---- resync: credit 0 on tx.main until the window moved past, then the client rule -----
function oldestJournalSeq(shm, instance) {
  const info = JSON.parse(execFileSync(shm, ['info', '--json', '--instance', instance]).toString());
  return info.readmodel.oldest_journal_seq;
}

async function resync() {
  const [shm, instance] = args;
  const c = await open();
  send(c, { op: 'IDENTIFY', subscriptions: ['tx.main'], credit: { 'tx.main': 0 } });
  const ready = await expectDispatch(c, 'READY', 5000);
  const pos = ready.positions['tx.main'];
  if (typeof pos !== 'number') fail('READY without a tx.main position', { ready });
  let resyncMsg = null;
  const watch = (m) => {
    if (m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') fail('batch sent without credit', { seq: m.seq });
    if (m.op === 'DISPATCH' && m.type === 'RESYNC_REQUIRED') {
      if (resyncMsg) fail('second RESYNC_REQUIRED', { m });
      resyncMsg = m;
      return;
    }
    if (m.op !== 'HEARTBEAT_ACK') fail('unexpected frame while held', { m });
  };
  // Hold until the journal window has moved past the client's position (deadline 20 s).
  let oldest = 0;
  const t0hold = Date.now();
  for (const t0 = Date.now(); ; ) {
    oldest = oldestJournalSeq(shm, instance);
    if (oldest > pos + 1) break;
    if (Date.now() - t0 > 20000) fail('journal window did not move', { pos, oldest });
    const m = await c.next(100);
    if (m === null) fail('closed while held', { close: c.close });
    if (m) watch(m);
  }
  // The gateway sends RESYNC_REQUIRED for a held channel with pending changes once its
  // next needed delta leaves the journal window (checked at the follower's tick), or when
  // its coalesced backlog passes MP_GW_STREAM_PENDING_MAX, credit 0 or not. Keep holding
  // until it arrives; no DELTA_BATCH may come before it.
  const t1 = Date.now();
  while (!resyncMsg) {
    if (Date.now() - t1 > 20000) fail('no RESYNC_REQUIRED', { pos, oldest });
    const m = await c.next(200);
    if (m === null) fail('closed waiting for RESYNC_REQUIRED', { close: c.close });
    if (m) watch(m);
  }
  if (resyncMsg.channel !== 'tx.main' || resyncMsg.since_seq !== pos)
    fail('RESYNC_REQUIRED fields', { resyncMsg, pos });
  // CREDIT now: the channel is paused, nothing arrives on it until the client rule's SUBSCRIBE.
  send(c, { op: 'CREDIT', channel_credit: { 'tx.main': 64 } });
  for (const t2 = Date.now(); Date.now() - t2 < 500; ) {
    const m = await c.next(100);
    if (m === null) fail('closed after RESYNC_REQUIRED', { close: c.close });
    if (m && m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') fail('batch on a paused channel', { seq: m.seq });
    if (m && m.op !== 'HEARTBEAT_ACK') fail('unexpected frame after RESYNC_REQUIRED', { m });
  }
  // Client rule: snapshot since since_seq (out of the window: full), then SUBSCRIBE from
  // its snapshot_seq. The window is short at this rate; a new RESYNC_REQUIRED for the
  // SUBSCRIBE position restarts the rule (bounded attempts).
  let since = resyncMsg.since_seq, attempts = 0, sub = null, snapSeq = 0;
  while (!sub) {
    if (++attempts > 5) fail('client rule did not converge', { attempts });
    const snap = await getJson('/dashboard/snapshot-v2?channels=tx.main&since_seq=' + since);
    if (attempts === 1 && snap.mode !== 'full') fail('snapshot since an out-of-window seq is not full', { mode: snap.mode });
    if (!snap.channels || !snap.channels['tx.main']) fail('snapshot lacks tx.main', { keys: Object.keys(snap) });
    snapSeq = snap.snapshot_seq;
    send(c, { op: 'SUBSCRIBE', channels: ['tx.main'], since_seq: snapSeq });
    const s = await expectDispatch(c, 'SUBSCRIBED', 5000);
    if (JSON.stringify(s.channels) !== '["tx.main"]' || s.positions['tx.main'] !== snapSeq)
      fail('SUBSCRIBED fields', { s, snapSeq });
    // A RESYNC_REQUIRED, if any, directly follows SUBSCRIBED.
    const m = await c.next(300);
    if (m === null) fail('closed after SUBSCRIBED', { close: c.close });
    if (m && m.op === 'DISPATCH' && m.type === 'RESYNC_REQUIRED') { since = m.since_seq; continue; }
    if (m) c.queue.unshift(m);
    sub = s;
  }
  const k = chain({ 'tx.main': snapSeq });
  let lastCredit = Date.now(), used = 0;
  while (k.counts.batches < 20) {
    const m = await c.next(5000);
    if (!m) fail('no batches after SUBSCRIBE', { got: m, counts: k.counts });
    if (m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') { k.check(m); used++; }
    else if (m.op !== 'HEARTBEAT_ACK') fail('unexpected frame after SUBSCRIBE', { m });
    if (Date.now() - lastCredit > 1000 && used) { send(c, { op: 'CREDIT', channel_credit: { 'tx.main': used } }); used = 0; lastCredit = Date.now(); }
  }
  done(true, { pos, oldest, resync_after_ms: resyncMsg.rx_ms - t0hold, since_seq: resyncMsg.since_seq, attempts, snapshot_seq: snapSeq, counts: k.counts });
}

// ---- subscribe: UNSUBSCRIBE tx.main mid-stream, then SUBSCRIBE it again -------------------
async function subscribe() {
  const c = await open();
  send(c, { op: 'IDENTIFY', subscriptions: CHANNELS });
  const ready = await expectDispatch(c, 'READY', 5000);
  const k = chain(ready.positions);
  const spent = {};
  let lastCredit = Date.now();
  const onBatch = (m) => {
    if (m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') {
      k.check(m);
      spent[m.channel] = (spent[m.channel] || 0) + 1;
      if (Date.now() - lastCredit > 1000) {
        send(c, { op: 'CREDIT', channel_credit: Object.assign({}, spent) });
        for (const ch in spent) delete spent[ch];
        lastCredit = Date.now();
      }
      return;
    }
    if (m.op !== 'HEARTBEAT_ACK') fail('unexpected frame', { m });
  };
  let tx = 0;
  for (const t0 = Date.now(); tx < 3; ) {
    if (Date.now() - t0 > 10000) fail('no tx.main batches', { counts: k.counts });
    const m = await c.next(1000);
    if (m === null) fail('closed', { close: c.close });
    if (m) { onBatch(m); if (m.channel === 'tx.main') tx++; }
  }
  send(c, { op: 'UNSUBSCRIBE', channels: ['tx.main'] });
  const u = await expectDispatch(c, 'UNSUBSCRIBED', 5000, onBatch);
  if (JSON.stringify(u.channels) !== '["tx.main"]') fail('UNSUBSCRIBED fields', { u });
  // Frames are ordered: after UNSUBSCRIBED no tx.main batch, while other channels go on.
  delete k.last['tx.main'];
  const before = k.counts.batches;
  for (const t1 = Date.now(); Date.now() - t1 < 1500; ) {
    const m = await c.next(100);
    if (m === null) fail('closed after UNSUBSCRIBE', { close: c.close });
    if (m) onBatch(m); // a tx.main batch fails: the channel is no longer followed
  }
  const others = k.counts.batches - before;
  send(c, { op: 'SUBSCRIBE', channels: ['tx.main'] });
  const s = await expectDispatch(c, 'SUBSCRIBED', 5000, onBatch);
  const p = s.positions && s.positions['tx.main'];
  if (typeof p !== 'number' || JSON.stringify(s.channels) !== '["tx.main"]') fail('SUBSCRIBED fields', { s });
  k.last['tx.main'] = p;
  tx = 0;
  for (const t2 = Date.now(); tx < 3; ) {
    if (Date.now() - t2 > 10000) fail('no tx.main batches after SUBSCRIBE', { counts: k.counts });
    const m = await c.next(1000);
    if (m === null) fail('closed', { close: c.close });
    if (m) { onBatch(m); if (m.channel === 'tx.main') tx++; }
  }
  done(true, { others_while_unsubscribed: others, subscribed_at: p, counts: k.counts });
}

// ---- longresume: a RESUME after a gap holding far more changes than one batch map ------
// (thousands of distinct entities at 5,000 tx/s) replays them in order and then RESUMED;
// the chain continues live afterwards.
async function longResume() {
  const [gapMs] = args;
  const c = await open();
  send(c, { op: 'IDENTIFY', subscriptions: CHANNELS, credit: 256 });
  const ready = await expectDispatch(c, 'READY', 5000);
  const k = chain(ready.positions);
  const onBatch = (m) => { if (m.op === 'DISPATCH' && m.type === 'DELTA_BATCH') k.check(m); };
  for (const t0 = Date.now(); Date.now() - t0 < 1000; ) onBatch((await c.next(100)) || {});
  c.ws.close();
  await sleep(Number(gapMs));
  const d = await open();
  send(d, { op: 'RESUME', session_id: ready.session_id, resume_token: ready.resume_token,
            last_seq: Math.max(...Object.values(k.last)), subscriptions: CHANNELS,
            positions: Object.assign({}, k.last) });
  const before = k.counts.deltas;
  let replayed = 0;
  for (;;) {
    const m = await d.next(20000);
    if (!m) fail('no RESUMED after the replay', { got: m, close: d.close, replayed });
    if (m.op === 'INVALID_SESSION') fail('INVALID_SESSION inside the window', { m });
    if (m.op !== 'DISPATCH') continue;
    if (m.type === 'RESUMED') break;
    if (m.type !== 'DELTA_BATCH') fail('unexpected frame during the replay', { m });
    k.check(m);
    replayed++;
  }
  const replayedDeltas = k.counts.deltas - before;
  let live = 0;
  for (const t0 = Date.now(); Date.now() - t0 < 1000; ) {
    const m = await d.next(100);
    if (m && m.type === 'DELTA_BATCH') { k.check(m); live++; }
  }
  if (!live) fail('no live batches after RESUMED');
  done(true, { gap_ms: Number(gapMs), replayed_batches: replayed, replayed_deltas: replayedDeltas, live_batches: live });
}

const scenarios = { follow, resync, subscribe, longresume: longResume };
if (!scenarios[scenario]) fail('unknown scenario');
setTimeout(() => fail('scenario timed out'), Number(process.env.CLIENT_TIMEOUT_MS || 150000)).unref();
scenarios[scenario]().catch((e) => fail(String(e && e.stack || e)));
