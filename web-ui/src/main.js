// Page entry: starts the worker, renders its frames at most once per animation frame,
// acknowledges each commit (the worker's credit and latency figures depend on it) and
// forwards user intent (ranges, filters, pause, detail). No state of its own beyond
// what is on screen.

import './styles.css';
import { mountTx } from './ui/panels/tx.js';
import { mountConn } from './ui/panels/conn.js';
import { mountChain } from './ui/panels/chain.js';
import { mountMarket } from './ui/panels/market.js';
import { mountOpps, mountFeatures } from './ui/panels/lists.js';
import { mountDiag } from './ui/panels/diag.js';
import { mountModal } from './ui/modal.js';

const params = new URLSearchParams(location.search);
const testMode = params.get('test') === '1';
const worker = new Worker(new URL('./worker/worker.js', import.meta.url), { type: 'module' });
const post = (m) => worker.postMessage(m);
const $ = (id) => document.getElementById(id);
const page = { heapMb: 0, frames: 0 };

const modal = mountModal({ post });
const openDetail = (hash, from) => modal.open(hash, from);
const tx = mountTx({ post, openDetail });
const conn = mountConn($('conn'));
const chain = mountChain($('chain'));
const market = mountMarket($('fee-chart'), $('market'));
const opps = mountOpps($('opp-list'), $('opp-count'), { post, openDetail });
const feats = mountFeatures($('feat-top'), $('feat-recent'), { post, openDetail });
const diag = mountDiag($('diag'));

let pending = null;
let rafQueued = false;

function render() {
  rafQueued = false;
  const f = pending;
  pending = null;
  if (!f) return;
  const t0 = performance.now();
  if (f.tx) tx.update(f.tx);
  if (f.featTop) feats.top(f.featTop);
  if (f.featRecent) feats.recent(f.featRecent);
  if (f.opp) opps.update(f.opp);
  if (f.chain) chain.update(f.chain);
  if (f.market) market.update(f.market);
  if (f.fee) market.chart(f.fee);
  conn.update(f.conn);
  if (f.diag) diag.update(f.diag, page);
  page.frames++;
  const commitAt = performance.timeOrigin + performance.now();
  post({ type: 'ack', id: f.id, renderMs: performance.now() - t0, txCommitAt: f.tx ? commitAt : 0 });
}

const testWaiters = new Map();
let testId = 0;

worker.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === 'frame') {
    pending = m; // one frame in flight: the worker waits for our ack
    if (!rafQueued) {
      rafQueued = true;
      requestAnimationFrame(render);
    }
  } else if (m.type === 'detail') {
    m.recvAt = performance.timeOrigin + performance.now();
    modal.show(m);
  } else if (m.type === 'test') {
    const w = testWaiters.get(m.id);
    testWaiters.delete(m.id);
    w?.(m.state);
  }
};

post({
  type: 'init',
  base: location.origin,
  wsUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/dashboard/stream-v2`,
  test: testMode,
});

// Heap report for the memory-pressure rule and the diagnostics panel.
setInterval(() => {
  const mem = performance.memory;
  if (mem) {
    page.heapMb = mem.usedJSHeapSize / 1048576;
    post({ type: 'heap', mb: page.heapMb });
  }
}, 2000);

if (testMode) {
  // Test hooks for e2e and the soak bench (only with ?test=1).
  const call = (cmd, extra = {}) =>
    new Promise((res) => {
      const id = ++testId;
      testWaiters.set(id, res);
      post({ type: 'test', cmd, id, ...extra });
    });
  window.__mp = {
    state: () => call('state'),
    drop: (channel) => call('drop', { channel }),
    pressure: () => call('pressure'),
    pauseDrain: (ms) => call('pauseDrain', { ms }),
    zombie: () => call('zombie'),
    takeLatency: () => call('takeLatency'),
    frames: () => page.frames,
  };
}
