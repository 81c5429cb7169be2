// Engine protocol flow against a fake socket and a fake HTTP server: IDENTIFY after the
// bootstrap, the gap rule's per-channel mini-resync, RECONNECT -> RESUME with positions.
import { describe, it, expect, afterEach } from 'vitest';
import { Engine } from '../src/worker/engine.js';
import { CHANNELS } from '../src/worker/caps.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms = 3000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(5);
  }
  throw new Error('condition not reached');
}

class FakeWS {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    this.sent = [];
    FakeWS.all.push(this);
  }
  send(s) {
    this.sent.push(JSON.parse(s));
  }
  close() {
    this.readyState = 3;
  }
  recv(obj) {
    this.onmessage?.({ data: JSON.stringify(obj) });
  }
}

function fakeFetch(log) {
  return async (url) => {
    log.push(url);
    const u = new URL(url);
    const chans = (u.searchParams.get('channels') ?? '').split(',');
    const since = u.searchParams.get('since_seq');
    const body = { snapshot_seq: since ? 500 : 100, mode: since ? 'delta' : 'full', watermark: { journal_seq: 100 }, channels: {} };
    for (const c of chans) body.channels[c] = since ? { seq: 500, upsert: [{ id: 'r1', hash: 'r1', seq: 450, value: '0' }], remove: [] } : { seq: 90, items: [{ id: 'a', hash: 'a', seq: 90, value: '0' }], top: [], recent: [] };
    return { status: 200, json: async () => body };
  };
}

let engine;
afterEach(() => {
  for (const t of engine?.timers ?? []) clearInterval(t);
  FakeWS.all = [];
});

function make(fetchFn) {
  const fetched = [];
  const posted = [];
  // The page acknowledges every frame, as src/main.js does: an unacknowledged frame older
  // than the engine's lag limit (500 ms) would hold its queue, as for a page that lags.
  const post = (m) => {
    posted.push(m);
    if (m.type === 'frame') setTimeout(() => engine.onPageMessage({ type: 'ack', id: m.id, renderMs: 1 }), 0);
  };
  engine = new Engine({ base: 'http://gw', wsUrl: 'ws://gw/dashboard/stream-v2', post, WebSocketImpl: FakeWS, fetchFn: fetchFn ?? fakeFetch(fetched), test: true });
  engine.start();
  return { fetched, posted };
}

async function live(fetchFn) {
  const io = make(fetchFn);
  await until(() => FakeWS.all.length === 1);
  const ws = FakeWS.all[0];
  ws.recv({ op: 'HELLO', heartbeat_interval_ms: 60000, session_id: 's1' });
  const positions = Object.fromEntries(CHANNELS.map((c) => [c, 100]));
  ws.recv({ op: 'DISPATCH', type: 'READY', session_id: 's1', resume_token: 't1', positions });
  await until(() => engine.state === 'live');
  return { ...io, ws };
}

describe('engine protocol flow', () => {
  it('bootstraps once, then IDENTIFY with snapshot_seq, subscriptions and credit', async () => {
    const { fetched, ws } = await live();
    expect(fetched).toHaveLength(1);
    expect(fetched[0]).toContain('/dashboard/snapshot-v2?channels=tx.main,feature.main,opportunity.main,chain.main,market.main');
    const id = ws.sent.find((m) => m.op === 'IDENTIFY');
    expect(id).toMatchObject({ snapshot_seq: 100, subscriptions: CHANNELS });
    expect(id.credit['tx.main']).toBeGreaterThan(0);
    expect(engine.reducer.tx.get('a')).toBeTruthy();
  });

  it('a gap on one channel mini-resyncs that channel only, then SUBSCRIBE from the snapshot seq', async () => {
    const { fetched, ws } = await live();
    ws.recv({ op: 'DISPATCH', type: 'DELTA_BATCH', channel: 'tx.main', seq: 110, prev_seq: 100, patch: { upsert: [{ id: 'b', hash: 'b', seq: 110, value: '0' }] } });
    ws.recv({ op: 'DISPATCH', type: 'DELTA_BATCH', channel: 'tx.main', seq: 130, prev_seq: 120, patch: { upsert: [] } });
    ws.recv({ op: 'DISPATCH', type: 'DELTA_BATCH', channel: 'chain.main', seq: 131, prev_seq: 100, patch: { upsert: [{ id: 'chain:1', seq: 131 }] } });
    await until(() => ws.sent.some((m) => m.op === 'SUBSCRIBE'));
    expect(fetched.slice(1)).toEqual(['http://gw/dashboard/snapshot-v2?channels=tx.main&since_seq=110']);
    expect(ws.sent.find((m) => m.op === 'SUBSCRIBE')).toEqual({ op: 'SUBSCRIBE', channels: ['tx.main'], since_seq: 500 });
    expect(engine.reducer.tx.get('r1')).toBeTruthy();
    expect(engine.sync.get('chain.main').lastSeq).toBe(131);
    ws.recv({ op: 'DISPATCH', type: 'SUBSCRIBED', channels: ['tx.main'], positions: { 'tx.main': 500 } });
    ws.recv({ op: 'DISPATCH', type: 'DELTA_BATCH', channel: 'tx.main', seq: 510, prev_seq: 500, patch: { upsert: [{ id: 'c', hash: 'c', seq: 510, value: '0' }] } });
    await until(() => engine.reducer.tx.get('c'));
    expect(engine.stats.gaps).toBe(1);
    expect(engine.stats.miniResyncs).toBe(1);
  });

  it('RECONNECT: a new socket sends RESUME with the last positions and the fresh token', async () => {
    const { ws } = await live();
    ws.recv({ op: 'DISPATCH', type: 'DELTA_BATCH', channel: 'tx.main', seq: 120, prev_seq: 100, patch: { upsert: [] } });
    await until(() => engine.sync.get('tx.main').lastSeq === 120);
    ws.recv({ op: 'RECONNECT', session_id: 's1', resume_token: 't2' });
    await until(() => FakeWS.all.length === 2, 2000);
    const ws2 = FakeWS.all[1];
    ws2.recv({ op: 'HELLO', heartbeat_interval_ms: 60000, session_id: 'x' });
    const r = ws2.sent.find((m) => m.op === 'RESUME');
    expect(r).toMatchObject({ session_id: 's1', resume_token: 't2', last_seq: 100 });
    expect(r.positions['tx.main']).toBe(120);
    expect(r.positions['chain.main']).toBe(100);
    ws2.recv({ op: 'DISPATCH', type: 'RESUMED', session_id: 's1', resume_token: 't3', positions: r.positions });
    await until(() => engine.stats.resumes === 1 && engine.state === 'live');
    expect(engine.stats.bootstraps).toBe(1);
  });

  it('a mini-resync that ends while reconnecting sends no SUBSCRIBE before RESUME (4003)', async () => {
    const log = [];
    const plain = fakeFetch(log);
    let release;
    const held = new Promise((r) => { release = r; });
    // the channel snapshot of the mini-resync is answered only once the socket was replaced
    const asked = [];
    const fetchFn = async (url) => {
      asked.push(url);
      return url.includes('since_seq') ? held.then(() => plain(url)) : plain(url);
    };
    const { ws } = await live(fetchFn);
    ws.recv({ op: 'DISPATCH', type: 'DELTA_BATCH', channel: 'tx.main', seq: 130, prev_seq: 120, patch: { upsert: [] } });
    await until(() => asked.some((u) => u.includes('since_seq')));
    ws.recv({ op: 'RECONNECT', session_id: 's1', resume_token: 't2' });
    await until(() => FakeWS.all.length === 2, 2000);
    const ws2 = FakeWS.all[1];
    release();
    await sleep(50);
    expect(ws2.sent.filter((m) => m.op === 'SUBSCRIBE')).toEqual([]);
    ws2.recv({ op: 'HELLO', heartbeat_interval_ms: 60000, session_id: 'x' });
    const r = ws2.sent.find((m) => m.op === 'RESUME');
    expect(r.positions['tx.main']).toBe(100); // the last good position: the replay covers the gap
    ws2.recv({ op: 'DISPATCH', type: 'RESUMED', session_id: 's1', resume_token: 't3', positions: r.positions });
    await until(() => engine.state === 'live' && engine.sync.get('tx.main').state === 'live');
    expect(ws2.sent.filter((m) => m.op === 'SUBSCRIBE')).toEqual([]);
  });

  it('detail prefetches are rate-bounded: at most 8 in 2 s, however many the page asks', async () => {
    const { fetched } = await live();
    let now = 1_000_000;
    engine.prefetchBudget.now = () => now;
    const details = () => fetched.filter((u) => u.includes('/transactions/')).length;
    for (let i = 0; i < 20; i++) {
      engine.onPageMessage({ type: 'prefetch', hash: `0x${i}` });
      await sleep(1); // each fetch answers at once: the in-flight bound is not what stops them
    }
    expect(details()).toBe(8);
    expect(engine.stats.prefetchesRefused).toBe(12);
    engine.onPageMessage({ type: 'prefetch', hash: '0x3' }); // cached: no fetch, no budget
    now += 2000;
    for (let i = 20; i < 30; i++) {
      engine.onPageMessage({ type: 'prefetch', hash: `0x${i}` });
      await sleep(1);
    }
    expect(details()).toBe(16);
  });
});
