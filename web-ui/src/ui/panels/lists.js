// Opportunities and recent features: virtualized lists fed by worker windows; the
// top-features table is a short reused pool.

import { VirtualList, RowPool, setText } from '../vlist.js';
import { short, hhmmss, num, eth } from '../format.js';

export function mountOpps(el, countEl, { post, openDetail }) {
  const list = new VirtualList(el, {
    rowHeight: 46,
    role: 'listitem',
    build(r) {
      r.className = 'vrow opp-row';
      r.innerHTML = '<div class="l1"><b class="kind"></b> <span class="score"></span> <span class="proto"></span> <span class="st"></span> <span class="trig mono"></span></div><div class="l2 reason"></div>';
    },
    key: (o) => `${o.id}:${o.seq}`,
    paint(r, o) {
      r.dataset.trigger = o.trigger ?? '';
      setText(r.querySelector('.kind'), o.kind?.replace('_candidate', '') ?? '');
      setText(r.querySelector('.score'), `score ${o.score}`);
      setText(r.querySelector('.proto'), o.protocol ?? '');
      const st = r.querySelector('.st');
      setText(st, o.status ?? '');
      st.className = `st st-${o.status}`;
      setText(r.querySelector('.trig'), `${short(o.trigger)} ${hhmmss(o.detected_unix_ms)}`);
      const reason = r.querySelector('.reason');
      setText(reason, o.reason ?? '');
      reason.title = `${o.reason}\ninputs: ${JSON.stringify(o.inputs ?? {})}`;
    },
    onRange: (start, n) => post({ type: 'view', panel: 'opp', start, count: n }),
    onActivate: (o, elx) => o.trigger && openDetail(o.trigger, elx),
  });
  return {
    update(win) {
      list.update(win);
      setText(countEl, `${win.total}`);
    },
  };
}

export function mountFeatures(topEl, recentEl, { post, openDetail }) {
  const top = new RowPool(
    topEl,
    () => {
      const d = document.createElement('div');
      d.className = 'ft-row';
      d.innerHTML = '<span class="p"></span><span class="c muted"></span><span class="num r"></span><span class="num n"></span>';
      return d;
    },
    (d, f) => {
      const c = d.children;
      setText(c[0], f.protocol);
      setText(c[1], f.category);
      setText(c[2], `${num(f.rate_60s)}/min`);
      setText(c[3], num(f.count));
    },
  );
  const recent = new VirtualList(recentEl, {
    rowHeight: 26,
    role: 'listitem',
    build(r) {
      r.className = 'vrow fr-row';
      r.innerHTML = '<span class="mono h"></span><span class="p"></span><span class="m"></span><span class="num v"></span>';
    },
    key: (f) => `${f.id}:${f.seq}`,
    paint(r, f) {
      const c = r.children;
      setText(c[0], short(f.hash, 4));
      setText(c[1], `${f.protocol}/${f.category}`);
      setText(c[2], f.method ?? '');
      setText(c[3], eth(Number(f.value ?? 0) / 1e18));
    },
    onRange: (start, n) => post({ type: 'view', panel: 'featRecent', start, count: n }),
    onActivate: (f, el) => openDetail(f.hash, el),
  });
  return { top: (items) => top.update(items), recent: (win) => recent.update(win) };
}
