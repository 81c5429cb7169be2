// Browser tests: playwright-core driving Debian's chromium against the real stack
// (synthetic source at 200 tx/s). Prints one line per case and, last,
// "browser: N passed, N failed"; writes e2e/out/results.json for run-tests.

import { chromium } from 'playwright-core';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Stack, CHROMIUM, CHROMIUM_ARGS, webUi } from './stack.mjs';

const OUT = path.join(webUi, 'e2e', 'out');
const DOCS = path.join(webUi, 'docs');
mkdirSync(OUT, { recursive: true });
mkdirSync(DOCS, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
/** Polls fn until it returns a truthy value or the deadline passes. */
async function until(fn, what, timeoutMs = 15000, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const stack = new Stack({ rate: 200, gatewayEnv: { MEMPULSE_STREAM_HEARTBEAT_MS: '3000' } });
process.on('exit', () => stack.killNow());
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stack.killNow();
    process.exit(130);
  });

const results = [];
let browser;
let page;
const requests = [];

const state = () => page.evaluate(() => window.__mp.state());
const visibleRows = () =>
  page.$$eval('#tx-list .vrow:not([hidden])', (els) =>
    els.sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index)).map((e) => ({ index: Number(e.dataset.index), hash: e.dataset.hash, protocol: e.dataset.protocol, eth: Number(e.dataset.eth), from: e.dataset.from, to: e.dataset.to, method: e.querySelector('.c-method').textContent })),
  );
async function setFilter(sel, value) {
  if (sel.startsWith('select')) await page.selectOption(sel.slice(6), value);
  else await page.fill(sel, value);
}
async function clearFilters() {
  await page.selectOption('#f-protocol', '');
  await page.selectOption('#f-category', '');
  await page.fill('#f-min', '');
  await page.fill('#f-addr', '');
}

const cases = [
  ['rows stream in (virtualized)', async () => {
    await until(async () => (await visibleRows()).length > 10, 'transaction rows', 20000);
    const first = (await visibleRows())[0].hash;
    await until(async () => (await visibleRows())[0].hash !== first, 'a new top row', 10000);
    const s = await state();
    assert(s.conn.state === 'live', `connection live (is ${s.conn.state})`);
    const total = await page.$$eval('#tx-list .vrow', (els) => els.length);
    assert(s.diag.sizes.tx > 200, `worker holds many rows (${s.diag.sizes.tx})`);
    assert(total < 80, `only visible rows are in the DOM (${total})`);
    assert(s.diag.sizes.tx <= s.diag.caps.txRows, 'tx store within its cap');
  }],

  ['desktop screenshot once a block is in (1280x800)', async () => {
    await until(async () => Number((await page.textContent('#chain dd:nth-of-type(2)')).replace(/[^0-9]/g, '').slice(0, 8)) > 0, 'a block head', 30000, 500);
    await until(async () => (await page.$$('#fee-chart .uplot')).length === 1, 'fee chart drawn', 15000);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 1280, `no horizontal overflow at 1280 (${w})`);
    await page.evaluate(() => document.activeElement?.blur());
    await page.screenshot({ path: path.join(DOCS, 'screenshot.png') });
  }],

  ['filter by protocol', async () => {
    await setFilter('select#f-protocol', 'uniswap-v2');
    const rows = await until(async () => {
      const r = await visibleRows();
      return r.length > 0 && r.every((x) => x.protocol === 'uniswap-v2') ? r : null;
    }, 'only uniswap-v2 rows');
    assert(rows.length >= 3, `several uniswap-v2 rows (${rows.length})`);
    const txt = await page.textContent('#tx-count');
    await clearFilters();
    await until(async () => new Set((await visibleRows()).map((r) => r.protocol)).size > 1, 'mixed protocols after clearing');
    assert(/shown of/.test(txt), 'count shows matches');
  }],

  ['filter by minimum value and address', async () => {
    await setFilter('#f-min', '1');
    await until(async () => {
      const r = await visibleRows();
      return r.length > 0 && r.every((x) => x.eth >= 1);
    }, 'rows >= 1 ETH');
    await clearFilters();
    const addr = (await visibleRows())[3].from;
    await setFilter('#f-addr', addr);
    const rows = await until(async () => {
      const r = await visibleRows();
      return r.length > 0 && r.every((x) => x.from === addr || x.to === addr) ? r : null;
    }, `rows of ${addr}`);
    assert(rows.length >= 1, 'address filter keeps the address rows');
    await clearFilters();
  }],

  ['pause freezes the list', async () => {
    await page.click('#tx-pause');
    await sleep(300);
    const a = (await visibleRows()).map((r) => r.hash).join();
    await sleep(1500);
    const b = (await visibleRows()).map((r) => r.hash).join();
    assert(a === b, 'rows unchanged while paused');
    await page.click('#tx-pause');
    await until(async () => (await visibleRows()).map((r) => r.hash).join() !== b, 'rows move after resume');
  }],

  ['click opens the detail modal with the right hash and decoded method', async () => {
    // pick a row whose method is a decoded name (not a bare selector)
    await setFilter('select#f-protocol', 'uniswap-v2');
    await until(async () => (await visibleRows()).length > 2, 'uniswap rows');
    await page.click('#tx-pause'); // rows hold still so the reopen hits the same tx
    await sleep(200);
    const row = page.locator('#tx-list .vrow[data-index="1"]:not([hidden])');
    const hash = await row.getAttribute('data-hash');
    await row.click();
    await page.waitForSelector('dialog#detail[open] .method-name', { timeout: 10000 });
    const shown = await page.textContent('dialog#detail .detail-hash');
    assert(shown === hash, `modal hash ${shown} == clicked ${hash}`);
    const detail = await (await fetch(`${stack.base}/transactions/${hash}`)).json();
    const method = await page.textContent('dialog#detail .method-name');
    assert(method === detail.method_signature.split('(')[0], `decoded method ${method} matches ${detail.method_signature}`);
    const args = await page.$$eval('dialog#detail .kv-table', (t) => t[0].querySelectorAll('dt').length);
    assert(args === detail.method_signature.split('(')[1].split(',').length, `one row per argument (${args})`);
    const hist = await page.$$eval('dialog#detail .history li', (l) => l.length);
    assert(hist >= 1, 'status history shown');
    await page.keyboard.press('Escape');
    await until(async () => !(await page.$('dialog#detail[open]')), 'modal closed by Escape');
    // reopening is served from the detail cache (no new request)
    const high0 = (await state()).diag.fetch.high;
    await row.click();
    await until(async () => (await page.getAttribute('dialog#detail', 'data-cached')) === 'true' && (await page.$('dialog#detail[open] .method-name')), 'reopen from cache');
    assert((await page.textContent('dialog#detail .detail-hash')) === hash, 'same tx reopened');
    assert((await state()).diag.fetch.high === high0, 'no request for the cached detail');
    await page.keyboard.press('Escape');
    await page.click('#tx-pause');
    await clearFilters();
  }],

  ['keyboard: Tab to the rows, Enter opens, Escape closes', async () => {
    await page.evaluate(() => document.activeElement?.blur());
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement?.id === 'tx-list');
    }
    assert(found, 'Tab reaches the transaction list');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForSelector('dialog#detail[open] .detail-hash', { timeout: 10000 });
    const hash = await page.textContent('dialog#detail .detail-hash');
    assert(/^0x[0-9a-f]{64}$/.test(hash), `modal for a tx (${hash})`);
    await page.keyboard.press('Escape');
    await until(async () => !(await page.$('dialog#detail[open]')), 'modal closed');
    assert(await page.evaluate(() => document.activeElement?.closest('#tx-list') !== null), 'focus returns to the list');
  }],

  ['hover prefetch: a resting pointer warms one detail; rows streaming under it do not', async () => {
    const box = await page.locator('#tx-list').boundingBox();
    await page.mouse.move(box.x + 200, box.y - 40); // off the list
    const p0 = (await state()).diag.stats.prefetches;
    await page.mouse.move(box.x + 200, box.y + 3 * 28 + 14, { steps: 4 });
    const seen = await page.evaluate(() => {
      const l = document.querySelector('#tx-list');
      window.__overs = 0;
      l.addEventListener('pointerover', () => window.__overs++);
      return true;
    });
    await sleep(2500); // rows keep sliding under the parked pointer (200 tx/s)
    const overs = await page.evaluate(() => window.__overs);
    const p1 = (await state()).diag.stats.prefetches;
    assert(seen && overs >= 5, `rows slid under the pointer (${overs} pointerover)`);
    assert(p1 - p0 <= 1, `at most the rested-on row prefetched (${p1 - p0} for ${overs} rows sliding by)`);
    // a move to another row and a rest there: that row is fetched once
    await page.click('#tx-pause', { position: { x: 5, y: 5 } });
    await sleep(200);
    await page.mouse.move(box.x + 200, box.y + 6 * 28 + 14, { steps: 3 });
    await until(async () => (await state()).diag.stats.prefetches === p1 + 1, 'a prefetch for the row rested on', 3000, 50);
    await page.mouse.move(box.x + 200, box.y - 40);
    await page.click('#tx-pause');
  }],

  ['selected transaction survives memory-pressure eviction', async () => {
    await page.click('#tx-pause');
    await sleep(200);
    const row = page.locator('#tx-list .vrow[data-index="5"]:not([hidden])');
    const hash = await row.getAttribute('data-hash');
    await row.click();
    await page.waitForSelector('dialog#detail[open] .method-name', { timeout: 10000 });
    const before = (await state()).diag.sizes.tx;
    for (let i = 0; i < 6; i++) await page.evaluate(() => window.__mp.pressure());
    const s = await state();
    assert(s.diag.sizes.tx < before, `pressure dropped rows (${before} -> ${s.diag.sizes.tx})`);
    assert(s.selected === hash && s.selectedInStore && s.selectedInCache, `selected tx kept in store and detail cache (${JSON.stringify([s.selected, hash, s.selectedInStore, s.selectedInCache])})`);
    assert((await page.textContent('dialog#detail .detail-hash')) === hash, 'modal still shows it');
    await page.keyboard.press('Escape');
    await page.click('#tx-pause');
  }],

  ['gateway SIGTERM + new gateway: resumes without reload and without a gap', async () => {
    await page.evaluate(() => (window.__marker = 'no-reload-' + Math.random()));
    const marker = await page.evaluate(() => window.__marker);
    const s0 = await state();
    assert(s0.conn.gaps === 0, `no gaps before (${s0.conn.gaps})`);
    await stack.stopGateway();
    await sleep(500);
    await stack.startGateway();
    const s1 = await until(async () => {
      const s = await state();
      return s.conn.resumes > s0.conn.resumes && s.conn.state === 'live' ? s : null;
    }, 'RESUMED', 30000);
    await until(async () => (await state()).conn.seq > s1.conn.seq, 'seq advancing after resume', 15000);
    const s2 = await state();
    assert((await page.evaluate(() => window.__marker)) === marker, 'page did not reload');
    assert(s2.conn.gaps === 0, `no gap counted (${s2.conn.gaps})`);
    assert(s2.conn.bootstraps === 1, `no re-bootstrap (${s2.conn.bootstraps})`);
    assert(s2.diag.stats.invalidSessions === 0, 'session stayed valid');
    const shown = await page.textContent('#conn [data-k="resumes"]');
    assert(Number(shown) >= 1, `resume visible in connection state (${shown})`);
  }],

  ['induced gap on one channel: mini-resync of that channel only', async () => {
    const s0 = await state();
    requests.length = 0;
    await page.evaluate(() => window.__mp.drop('tx.main'));
    const s1 = await until(async () => {
      const s = await state();
      return s.conn.channels['tx.main'].resyncs > s0.conn.channels['tx.main'].resyncs && s.conn.channels['tx.main'].state === 'live' ? s : null;
    }, 'tx.main mini-resync', 20000);
    assert(s1.diag.stats.testDropped === s0.diag.stats.testDropped + 1, 'one batch dropped');
    assert(s1.conn.gaps === s0.conn.gaps + 1, `exactly one gap counted (${s0.conn.gaps} -> ${s1.conn.gaps})`);
    for (const c of ['feature.main', 'opportunity.main', 'chain.main', 'market.main']) {
      assert(s1.conn.channels[c].resyncs === s0.conn.channels[c].resyncs, `${c} not resynced`);
      assert(s1.conn.channels[c].gaps === 0, `${c} no gap`);
    }
    const snaps = requests.filter((u) => u.includes('/dashboard/snapshot-v2'));
    assert(snaps.length === 1 && /channels=tx\.main&since_seq=\d+/.test(snaps[0]), `one snapshot request for tx.main only: ${JSON.stringify(snaps)}`);
    assert(s1.diag.stats.bootstraps === 1, 'no full re-bootstrap');
    const first = (await visibleRows())[0].hash;
    await until(async () => (await visibleRows())[0].hash !== first, 'rows stream after the resync');
  }],

  ['page lag: the inbound queue coalesces per entity, stays bounded, no gap', async () => {
    const s0 = await state();
    // a 3 s long task on the main thread: no animation frame, no frame acknowledgement
    await page.evaluate(() => {
      const t = performance.now();
      while (performance.now() - t < 3000);
    });
    const s1 = await until(async () => {
      const s = await state();
      return s.diag.queue.depth === 0 ? s : null;
    }, 'queue drained', 10000);
    assert(s1.diag.stats.heldForPage > s0.diag.stats.heldForPage, 'worker held the queue while the page lagged');
    assert(s1.diag.queue.coalesced > s0.diag.queue.coalesced, `batches merged (${s0.diag.queue.coalesced} -> ${s1.diag.queue.coalesced})`);
    assert(s1.diag.queue.maxDepth <= s1.diag.caps.queueHard + 8, `queue depth bounded (${s1.diag.queue.maxDepth})`);
    assert(s1.conn.gaps === s0.conn.gaps, 'merged batches keep the prev_seq chain: no gap');
    const first = (await visibleRows())[0].hash;
    await until(async () => (await visibleRows())[0].hash !== first, 'rows stream after the lag');
  }],

  ['zombie connection (no HEARTBEAT_ACK) is closed and resumed', async () => {
    const s0 = await state();
    await page.evaluate(() => window.__mp.zombie());
    const s1 = await until(async () => {
      const s = await state();
      return s.conn.zombies > s0.conn.zombies && s.conn.resumes > s0.conn.resumes && s.conn.state === 'live' ? s : null;
    }, 'zombie detected and resumed', 20000);
    assert(s1.conn.gaps === s0.conn.gaps, 'no gap from the resume');
  }],

  ['new session key (resume refused): INVALID_SESSION -> re-bootstrap without reload', async () => {
    await page.evaluate(() => (window.__marker2 = 'still-here'));
    const s0 = await state();
    await stack.stopGateway();
    rmSync(`/dev/shm/mempulse.${stack.instance}.session-key`, { force: true }); // our private instance only
    await stack.startGateway();
    const s1 = await until(async () => {
      const s = await state();
      return s.diag.stats.invalidSessions > s0.diag.stats.invalidSessions && s.conn.bootstraps > s0.conn.bootstraps && s.conn.state === 'live' ? s : null;
    }, 'INVALID_SESSION then a new bootstrap', 30000);
    assert((await page.evaluate(() => window.__marker2)) === 'still-here', 'page did not reload');
    assert(s1.conn.session !== s0.conn.session, 'new session');
    const first = (await visibleRows())[0].hash;
    await until(async () => (await visibleRows())[0].hash !== first, 'rows stream in the new session');
  }],

  ['phone width (390 px): no horizontal overflow, rows readable', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(800);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 391, `page width ${w} <= 390`);
    const rows = await visibleRows();
    assert(rows.length > 5, 'rows visible at phone width');
    const hashVisible = await page.$eval('#tx-list .vrow:not([hidden]) .c-hash', (e) => e.getBoundingClientRect().width > 40);
    assert(hashVisible, 'hash column visible');
    await page.screenshot({ path: path.join(DOCS, 'screenshot-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  }],

  ['client stays within its caps and reports CLIENT_METRICS', async () => {
    const s = await state();
    const { sizes, caps } = s.diag;
    assert(sizes.tx <= caps.txRows && sizes.featureRecent <= caps.featureRecent && sizes.opportunities <= caps.opportunities, 'stores within caps');
    assert(s.diag.detailCache.size <= caps.detailEntries, 'detail cache within cap');
    assert(s.diag.queue.maxDepth <= caps.queueHard + 8, `queue bounded (${s.diag.queue.maxDepth})`);
    const m = await until(async () => {
      const t = await (await fetch(`${stack.base}/metrics`)).text();
      return /ui_list_update_p95_ms/.test(t) ? t : null;
    }, 'ui_* metrics at /metrics', 25000, 1000);
    assert(/ui_stream_gap_count/.test(m), 'gap count exported');
  }],
];

async function main() {
  await stack.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  ctx.on('request', (r) => requests.push(r.url()));
  await page.goto(`${stack.base}/?test=1`);
  await page.waitForFunction(() => !!window.__mp, null, { timeout: 10000 });
  for (const [name, fn] of cases) {
    // every case starts from the same page state, whatever the previous one left
    await page.keyboard.press('Escape').catch(() => {});
    if ((await page.getAttribute('#tx-pause', 'aria-pressed')) === 'true') await page.click('#tx-pause');
    await clearFilters().catch(() => {});
    await page.setViewportSize({ width: 1280, height: 800 });
    const t0 = Date.now();
    try {
      await Promise.race([fn(), sleep(90000).then(() => { throw new Error('case timed out (90 s)'); })]);
      results.push({ name, ok: true, ms: Date.now() - t0 });
      console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push({ name, ok: false, ms: Date.now() - t0, error: e.message });
      console.log(`not ok - ${name}: ${e.message}`);
      await page.screenshot({ path: path.join(OUT, `fail-${results.length}.png`) }).catch(() => {});
    }
  }
  const name = 'no uncaught page or worker errors';
  if (errors.length) {
    results.push({ name, ok: false, error: errors.slice(0, 3).join(' | ') });
    console.log(`not ok - ${name}: ${errors.slice(0, 3).join(' | ')}`);
  } else {
    results.push({ name, ok: true });
    console.log(`ok - ${name}`);
  }
}

let fatal = null;
try {
  await main();
} catch (e) {
  fatal = e;
  console.log(`not ok - browser test setup: ${e.message}`);
  results.push({ name: 'setup', ok: false, error: e.message });
} finally {
  await browser?.close().catch(() => {});
  await stack.stop().catch(() => stack.killNow());
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ passed, failed, results }, null, 1));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed || fatal ? 1 : 0);
