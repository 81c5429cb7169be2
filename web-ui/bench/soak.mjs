// Soak benchmark: node bench/soak.mjs [minutes=10]
// Starts the real stack (synthetic source, 500 tx/s by default; SOAK_RATE overrides) on a
// private instance, opens the dashboard in Debian's chromium and, every sample period
// (SOAK_SAMPLE_SEC, default 60 s), records after a forced GC: main-thread and worker JS
// heap (CDP Runtime.getHeapUsage on the page and on the worker target), renderer RSS
// (/proc of the chromium renderer processes we started), DOM nodes and event listeners
// (CDP Memory.getDOMCounters), list update latency p50/p95
// (delta receipt in the worker to DOM commit) and detail-open latency p95 (click to
// modal rendered; one open every SOAK_DETAIL_MS, default 3000; 0 disables; SOAK_PAUSE=1
// pauses the list). Prints one line per sample and the slopes. A
// benchmark: it prints figures, it does not pass or fail.
// Targets (10 min): heap < 60 MB and not growing, list p95 < 100 ms, detail p95 < 50 ms
// with no upward trend.

import { chromium } from 'playwright-core';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Stack, CHROMIUM, CHROMIUM_ARGS, webUi } from '../e2e/stack.mjs';

const minutes = Number(process.argv[2] ?? 10);
const sampleSec = Number(process.env.SOAK_SAMPLE_SEC ?? 60);
const rate = Number(process.env.SOAK_RATE ?? 500);
const detailEvery = Number(process.env.SOAK_DETAIL_MS ?? 3000); // 0: no detail opens
// SOAK_PAUSE=1 presses the list's Pause first: the stream and the worker go on, the
// transaction list stops redrawing (to tell what the renderer's memory follows).
const pauseList = process.env.SOAK_PAUSE === '1';
if (!(minutes > 0) || !(sampleSec > 0)) {
  console.error('usage: node bench/soak.mjs [minutes] (SOAK_SAMPLE_SEC, SOAK_RATE, BUILD env)');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const q = (a, p) => {
  if (!a.length) return 0;
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
function slope(ys) {
  const n = ys.length;
  if (n < 2) return 0;
  const xm = (n - 1) / 2;
  const ym = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - xm) * (y - ym);
    den += (x - xm) ** 2;
  });
  return num / den;
}

// Renderer processes descended from this node process (the chromium we launched).
function rendererRssMb() {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch {
      /* gone */
    }
  }
  const mine = [];
  const stack = [process.pid];
  while (stack.length) {
    const p = stack.pop();
    for (const c of kids.get(p) ?? []) {
      mine.push(c);
      stack.push(c);
    }
  }
  let kb = 0;
  for (const p of mine) {
    try {
      if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

const stack = new Stack({ rate, logDir: path.join(webUi, 'bench', 'out') });
process.on('exit', () => stack.killNow());
process.on('SIGINT', () => process.exit(130));

let browser;
const samples = [];
try {
  await stack.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const cdp = await page.context().newCDPSession(page);
  let workerSession = null;
  let nextId = 0;
  const waiting = new Map();
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') workerSession = e.sessionId;
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    waiting.get(m.id)?.(m.result ?? m.error);
    waiting.delete(m.id);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const workerCall = (method, params = {}) =>
    new Promise((res, rej) => {
      const id = ++nextId;
      waiting.set(id, res);
      cdp.send('Target.sendMessageToTarget', { sessionId: workerSession, message: JSON.stringify({ id, method, params }) }).catch(rej);
      setTimeout(() => waiting.has(id) && (waiting.delete(id), rej(new Error(`${method} timed out`))), 10000);
    });

  await page.goto(`${stack.base}/?test=1`);
  await page.waitForFunction(() => !!window.__mp && document.querySelectorAll('#tx-list .vrow:not([hidden])').length > 5, null, { timeout: 30000 });
  const t0 = Date.now();
  for (let i = 0; i < 50 && !workerSession; i++) await sleep(100);
  if (!workerSession) throw new Error('could not attach to the worker target');
  console.log(`soak: ${minutes} min at ${rate} tx/s, sample every ${sampleSec} s, instance ${stack.instance}, ${stack.base}${pauseList ? ', list paused' : ''}`);
  console.log('sample  t_min  main_heap_mb  worker_heap_mb  total_mb  renderer_rss_mb  list_p50_ms  list_p95_ms  list_n  detail_p95_ms  detail_n  gaps  tx_rows  page_part_p95  render_p95  dom_nodes  listeners');

  if (pauseList) await page.click('#tx-pause');
  const end = t0 + minutes * 60000;
  let nextSample = t0 + sampleSec * 1000;
  while (Date.now() < end + 500) {
    // detail opens spread over the period
    // Light-weight input so the harness does not load the page it measures: a raw mouse
    // click at a row's position (no actionability checks), then polling for the dialog.
    if (detailEvery > 0)
      try {
        const box = await page.locator('#tx-list').boundingBox();
        const idx = Math.floor(Math.random() * 8);
        await page.mouse.click(box.x + 200, box.y + idx * 28 + 14);
        const until = Date.now() + 5000;
        while (Date.now() < until && !(await page.evaluate(() => !!document.querySelector('dialog#detail[open] .detail-hash')))) await sleep(50);
        await page.keyboard.press('Escape');
      } catch (e) {
        console.log(`  (detail open failed: ${e.message.split('\n')[0]})`);
        await page.keyboard.press('Escape').catch(() => {});
      }
    const wait = Math.min(detailEvery || 1000, nextSample - Date.now());
    if (wait > 0) await sleep(wait);
    if (Date.now() >= nextSample) {
      nextSample += sampleSec * 1000;
      await cdp.send('HeapProfiler.collectGarbage');
      const main = await cdp.send('Runtime.getHeapUsage');
      await workerCall('HeapProfiler.collectGarbage');
      const wk = await workerCall('Runtime.getHeapUsage');
      const dom = await cdp.send('Memory.getDOMCounters');
      const lat = await page.evaluate(() => window.__mp.takeLatency());
      const det = await page.evaluate(() => (window.__mpDetail ?? []).splice(0));
      const st = await page.evaluate(() => window.__mp.state());
      const s = {
        t: (Date.now() - t0) / 60000,
        mainMb: main.usedSize / 1048576,
        workerMb: wk.usedSize / 1048576,
        rssMb: rendererRssMb(),
        listP50: lat.p50,
        listP95: lat.p95,
        listN: lat.n,
        detailP95: q(det, 0.95),
        detailN: det.length,
        gaps: st.conn.gaps,
        txRows: st.diag.sizes.tx,
        pageP95: st.diag.metrics.ui_list_page_p95_ms,
        renderP95: st.diag.metrics.ui_render_commit_ms,
        domNodes: dom.nodes,
        listeners: dom.jsEventListeners,
      };
      s.totalMb = s.mainMb + s.workerMb;
      samples.push(s);
      console.log(
        [samples.length, s.t.toFixed(2), s.mainMb.toFixed(2), s.workerMb.toFixed(2), s.totalMb.toFixed(2), s.rssMb.toFixed(1), s.listP50.toFixed(1), s.listP95.toFixed(1), s.listN, s.detailP95.toFixed(1), s.detailN, s.gaps, s.txRows, s.pageP95, s.renderP95, s.domNodes, s.listeners]
          .map(String)
          .map((x, i) => x.padStart(i === 0 ? 6 : 8))
          .join(' '),
      );
    }
  }
} finally {
  await browser?.close().catch(() => {});
  await stack.stop().catch(() => stack.killNow());
}

if (samples.length) {
  const steady = samples.length >= 3 ? samples.slice(1) : samples; // first sample is warm-up
  const perMin = 60 / sampleSec;
  const heapSlope = slope(steady.map((s) => s.totalMb)) * perMin;
  const detailSlope = slope(steady.map((s) => s.detailP95)) * perMin;
  const maxHeap = Math.max(...samples.map((s) => s.totalMb));
  const maxList = Math.max(...samples.map((s) => s.listP95));
  const maxDetail = Math.max(...samples.map((s) => s.detailP95));
  console.log(`heap (main+worker) max ${maxHeap.toFixed(2)} MB, slope ${heapSlope.toFixed(3)} MB/min over ${steady.length} samples`);
  console.log(`list update p95 max ${maxList.toFixed(1)} ms; detail open p95 max ${maxDetail.toFixed(1)} ms, slope ${detailSlope.toFixed(2)} ms/min`);
  console.log(`renderer RSS max ${Math.max(...samples.map((s) => s.rssMb)).toFixed(1)} MB, slope ${(slope(steady.map((s) => s.rssMb)) * perMin).toFixed(2)} MB/min; DOM nodes slope ${(slope(steady.map((s) => s.domNodes)) * perMin).toFixed(1)}/min (after GC)`);
  console.log(`targets: heap<60MB ${maxHeap < 60 ? 'met' : 'MISSED'}; list p95<100ms ${maxList < 100 ? 'met' : 'MISSED'}; detail p95<50ms ${maxDetail < 50 ? 'met' : 'MISSED'} (run 10 minutes for the real figure)`);
  mkdirSync(path.join(webUi, 'bench', 'out'), { recursive: true });
  writeFileSync(path.join(webUi, 'bench', 'out', 'soak.json'), JSON.stringify({ minutes, rate, sampleSec, samples, heapSlope, detailSlope }, null, 1));
}
