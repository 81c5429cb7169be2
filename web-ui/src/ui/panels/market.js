// Fee market: uPlot chart over time (priority fee p50 / p90, base fee, next base fee)
// from the worker's bounded history, plus the latest percentiles and price ticks.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { keyValueRows } from '../vlist.js';
import { gwei, num } from '../format.js';

const MIN_SPAN_S = 60;

export function mountMarket(chartEl, tableEl) {
  let plot = null;
  const make = (data) => {
    const w = Math.max(240, chartEl.clientWidth || 400);
    plot = new uPlot(
      {
        width: w,
        height: 170,
        legend: { show: true, live: false },
        cursor: { show: false },
        // at least the last minute on the time axis: a young history is not stretched
        // into sub-second ticks
        scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - MIN_SPAN_S), max] }, y: { distr: 3 } },
        axes: [{ stroke: '#9aa4b2', grid: { stroke: '#273040' } }, { stroke: '#9aa4b2', grid: { stroke: '#273040' }, size: 50 }],
        series: [
          {},
          { label: 'prio p50', stroke: '#4fc3f7', width: 1.5 },
          { label: 'prio p90', stroke: '#ffb74d', width: 1.5 },
          { label: 'base', stroke: '#81c784', width: 1.5 },
          { label: 'next base', stroke: '#e57373', width: 1, dash: [4, 4] },
        ],
      },
      data,
      chartEl,
    );
  };
  new ResizeObserver(() => {
    if (plot) plot.setSize({ width: Math.max(240, chartEl.clientWidth), height: 170 });
  }).observe(chartEl);

  const pool = keyValueRows(tableEl, 'mk-row');

  return {
    chart(fee) {
      const pos = (a) => a.map((v) => (v > 0 ? v : null)); // log scale: no block yet is a gap, not 0
      const data = [fee.t, pos(fee.p50), pos(fee.p90), pos(fee.base), pos(fee.next)];
      if (!plot) {
        if (fee.t.length < 2) return;
        make(data);
      } else plot.setData(data);
    },
    update(items) {
      const rows = [];
      for (const e of items) {
        if (e.kind === 'fee_market') {
          const p = e.priority_fee ?? {};
          const m = e.max_fee ?? {};
          rows.push([`chain ${e.chain_id} prio p10/p50/p90`, `${gwei(p.p10)} / ${gwei(p.p50)} / ${gwei(p.p90)}`]);
          rows.push([`chain ${e.chain_id} max fee p50/p90`, `${gwei(m.p50)} / ${gwei(m.p90)}`]);
          rows.push([`chain ${e.chain_id} base → next`, `${gwei(e.base_fee)} → ${gwei(e.next_base_fee)}`]);
          rows.push([`samples (${Math.round((e.window_ms ?? 0) / 1000)} s)`, num(e.samples)]);
        }
      }
      for (const e of items) if (e.kind === 'price') rows.push([e.symbol, `${num(e.price)} (${e.change_1m >= 0 ? '+' : ''}${num(e.change_1m)} 1m)`]);
      pool.update(rows);
    },
  };
}
