// Connection state strip (always visible): state, seq, lag, gaps, resumes.

import { setText } from '../vlist.js';

const FIELDS = [
  ['state', 'state'], ['seq', 'seq'], ['lagSeq', 'lag seq'], ['lagMs', 'lag ms'], ['gaps', 'gaps'],
  ['resumes', 'resumes'], ['reconnects', 'reconnects'], ['miniResyncs', 'mini-resyncs'], ['session', 'session'],
];

export function mountConn(el) {
  const cells = {};
  for (const [k, label] of FIELDS) {
    const d = document.createElement('span');
    d.className = `kv k-${k}`;
    d.innerHTML = `<span class="k"></span> <b class="v" data-k="${k}"></b>`;
    d.firstChild.textContent = label;
    el.appendChild(d);
    cells[k] = d.querySelector('b');
  }
  return {
    update(c) {
      for (const [k] of FIELDS) {
        let v = c[k];
        if (k === 'lagMs') v = Math.round(v);
        setText(cells[k], String(v ?? ''));
      }
      el.dataset.state = c.state;
    },
  };
}
