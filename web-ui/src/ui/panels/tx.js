// Transactions panel: virtualized rows, filters and pause. Data windows come from the
// worker; we only send the visible range and the filter.

import { VirtualList, setText } from '../vlist.js';
import { short, hhmmss, eth } from '../format.js';

const PROTOCOLS = ['uniswap-v2', 'uniswap-v3', 'universal-router', '1inch', '0x', 'seaport', 'aave', 'compound', 'curve', 'balancer', 'lido', 'ens', 'bridge-across', 'bridge-arbitrum', 'bridge-base', 'bridge-op', 'bridge-polygon', 'chainlink', 'safe', 'erc4337', 'erc20', 'nft', 'weth', 'eth-transfer', 'deploy', 'unknown'];
const CATEGORIES = ['swap', 'transfer', 'approval', 'liquidity', 'lending', 'liquidation', 'nft', 'bridge', 'oracle', 'staking', 'naming', 'wallet', 'deploy', 'other'];

export function mountTx({ post, openDetail }) {
  const $ = (id) => document.getElementById(id);
  const protoSel = $('f-protocol');
  const catSel = $('f-category');
  for (const p of PROTOCOLS) protoSel.add(new Option(p, p));
  for (const c of CATEGORIES) catSel.add(new Option(c, c));
  const count = $('tx-count');
  const pauseBtn = $('tx-pause');
  let paused = false;

  const list = new VirtualList($('tx-list'), {
    rowHeight: 28,
    build(r) {
      r.className = 'vrow tx-row';
      r.innerHTML = '<span class="c-t"></span><span class="c-hash mono"></span><span class="c-from mono"></span><span class="c-to"></span><span class="c-method"></span><span class="num c-val"></span><span class="num c-fee"></span><span class="c-status"></span>';
    },
    key: (row) => `${row.hash}:${row.seq}`,
    paint(r, row) {
      const c = r.children;
      r.dataset.hash = row.hash;
      r.dataset.protocol = row.protocol;
      r.dataset.category = row.category;
      r.dataset.eth = String(row.eth);
      r.dataset.from = row.from ?? '';
      r.dataset.to = row.to ?? '';
      setText(c[0], hhmmss(row.t));
      setText(c[1], short(row.hash));
      setText(c[2], short(row.from, 4));
      setText(c[3], row.protocol && row.protocol !== 'unknown' ? row.protocol : short(row.to, 4));
      setText(c[4], row.method ?? '');
      setText(c[5], eth(row.eth));
      setText(c[6], row.fee.toFixed(2));
      setText(c[7], row.status);
      c[7].className = `c-status st-${row.status}`;
    },
    onRange: (start, n) => post({ type: 'view', panel: 'tx', start, count: n }),
    onActivate: (row, el) => openDetail(row.hash, el),
    onHover: (row) => post({ type: 'prefetch', hash: row.hash }),
  });

  const sendFilter = () =>
    post({ type: 'filter', filter: { protocol: protoSel.value, category: catSel.value, minEth: $('f-min').value, address: $('f-addr').value } });
  for (const el of [protoSel, catSel, $('f-min'), $('f-addr')]) el.addEventListener('input', sendFilter);
  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    pauseBtn.setAttribute('aria-pressed', String(paused));
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    post({ type: 'pause', paused });
  });

  return {
    list,
    update(win) {
      list.update(win);
      setText(count, `${win.total.toLocaleString('en-US')} shown of ${win.stored} (cap ${win.capacity})`);
    },
  };
}
