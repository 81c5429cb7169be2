// Detail modal (<dialog>): decoded method and arguments, fields, input, features,
// linked opportunities and status history. Escape closes (native dialog cancel);
// focus returns to the element that opened it.

import { decodeCall } from './abi.js';
import { weiToEth, gwei, hhmmss, num } from './format.js';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function kvTable(pairs) {
  const dl = el('dl', 'kv-table');
  for (const [k, v] of pairs) dl.append(el('dt', null, k), el('dd', 'mono', v === undefined || v === null ? '—' : String(v)));
  return dl;
}

export function mountModal({ post }) {
  const dlg = document.getElementById('detail');
  const body = document.getElementById('detail-body');
  let opener = null;
  let current = null;
  document.getElementById('detail-close').addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => {
    post({ type: 'closeDetail' });
    current = null;
    if (opener?.isConnected) opener.focus();
    else document.getElementById('tx-list').focus();
  });

  return {
    open(hash, from) {
      opener = from?.closest?.('[tabindex]') ?? document.activeElement;
      current = { hash, t0: performance.now(), a0: performance.timeOrigin + performance.now() };
      body.replaceChildren(el('p', 'muted', `Loading ${hash}…`));
      dlg.dataset.hash = hash;
      if (!dlg.open) dlg.showModal();
      post({ type: 'detail', hash });
    },
    show(m) {
      if (!current || current.hash !== m.hash) return;
      const d = m.detail;
      const r = d ?? m.row ?? {};
      const parts = [];
      parts.push(el('p', 'mono detail-hash', m.hash));
      if (!d) parts.push(el('p', 'warn', `Detail unavailable: ${m.error ?? 'unknown'}${m.row ? ' (showing the streamed summary)' : ''}`));
      const decoded = d?.method_signature ? decodeCall(d.method_signature, d.input) : null;
      const sec = (title) => {
        const s = el('section', 'dsec');
        s.append(el('h3', null, title));
        parts.push(s);
        return s;
      };
      const m1 = sec('Method');
      m1.append(el('p', 'method-name', decoded ? decoded.name : (r.method ?? 'unknown')));
      if (d?.method_signature) m1.append(el('p', 'mono muted', d.method_signature));
      if (decoded) m1.append(kvTable(decoded.args.map((a, i) => [`${i}: ${a.type}`, a.value])));
      sec('Fields').append(
        kvTable([
          ['status', r.status], ['chain', r.chain_id], ['from', r.from], ['to', r.to ?? '(deploy)'], ['nonce', r.nonce],
          ['value ETH', weiToEth(r.value)], ['gas limit', num(r.gas_limit)], ['type', r.tx_type],
          ['gas price gwei', gwei(r.gas_price)], ['max fee gwei', gwei(r.max_fee)], ['max priority gwei', gwei(r.max_priority_fee)],
          ['seen', hhmmss(r.seen_unix_ms)], ['block', r.block_number],
        ]),
      );
      sec('Features').append(kvTable([['protocol', r.protocol], ['category', r.category], ['method', r.method], ['selector', r.selector]]));
      const inp = sec(`Input (${num(r.input_len)} bytes${d?.input_truncated ? ', truncated' : ''})`);
      inp.append(el('pre', 'mono input', d?.input ?? '(not available)'));
      const opps = new Map();
      for (const o of d?.opportunities ?? []) opps.set(o.id ?? JSON.stringify(o), o);
      for (const o of m.linked ?? []) opps.set(o.id, o);
      const os = sec(`Linked opportunities (${opps.size})`);
      for (const o of opps.values()) os.append(el('p', null, `${o.kind ?? ''} · score ${o.score ?? '?'} · ${o.status ?? ''} — ${o.reason ?? ''}`));
      const hs = sec(`Status history${d?.history_total > (d?.history?.length ?? 0) ? ` (${d.history.length} of ${d.history_total})` : ''}`);
      const ol = el('ol', 'history');
      for (const h of d?.history ?? []) ol.append(el('li', null, `${hhmmss(h.unix_ms)} ${h.status} (seq ${h.seq})`));
      hs.append(ol);
      body.replaceChildren(...parts);
      const ms = performance.now() - current.t0;
      dlg.dataset.cached = String(!!m.cached);
      post({ type: 'detailRendered', hash: m.hash, ms });
      if (m.tw) {
        const parts = (window.__mpDetailParts ??= []);
        parts.push([m.tw[0] - current.a0, m.tw[1] - current.a0, m.recvAt - current.a0, ms].map((x) => Math.round(x)));
        if (parts.length > 64) parts.shift();
      }
      const w = (window.__mpDetail ??= []);
      w.push(ms);
      if (w.length > 256) w.shift();
    },
  };
}
