// Chain status: one card per chain id (at most 16).

import { RowPool, setText } from '../vlist.js';
import { short, gwei, num, hhmmss } from '../format.js';

const ROWS = [
  ['chain', (c) => String(c.chain_id)],
  ['head', (c) => `#${num(c.head_number)} ${short(c.head_hash, 6)}`],
  ['head time', (c) => hhmmss(c.head_time_unix_ms)],
  ['base fee', (c) => `${gwei(c.base_fee)} gwei`],
  ['gas used', (c) => `${((c.gas_used_ratio ?? 0) * 100).toFixed(1)} %`],
  // the average needs two blocks; until then there is none to show
  ['block time', (c) => (c.avg_block_time_ms ? `${(c.avg_block_time_ms / 1000).toFixed(1)} s` : '—')],
  ['pending', (c) => num(c.pending_count)],
  // tx_rate_10s / tx_rate_60s are counts of transactions seen in those windows.
  ['tx/s (10 s / 60 s)', (c) => `${((c.tx_rate_10s ?? 0) / 10).toFixed(1)} / ${((c.tx_rate_60s ?? 0) / 60).toFixed(1)}`],
];

export function mountChain(el) {
  const pool = new RowPool(
    el,
    () => {
      const d = document.createElement('dl');
      d.className = 'chain-card';
      for (const [label] of ROWS) {
        const dt = document.createElement('dt');
        dt.textContent = label;
        d.append(dt, document.createElement('dd'));
      }
      return d;
    },
    (d, c) => {
      const dds = d.querySelectorAll('dd');
      ROWS.forEach(([, f], i) => setText(dds[i], f(c)));
    },
  );
  return { update: (items) => pool.update(items.slice().sort((a, b) => a.chain_id - b.chain_id)) };
}
