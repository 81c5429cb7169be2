// Diagnostics: the ui_* metrics (also sent as CLIENT_METRICS), store sizes against
// their caps, queue, credit and detail-cache figures.

import { keyValueRows } from '../vlist.js';

export function mountDiag(el) {
  const pool = keyValueRows(el, 'dg-row');
  return {
    update(dg, page) {
      const rows = [];
      for (const [k, v] of Object.entries(dg.metrics)) rows.push([k, String(v)]);
      rows.push(['main heap MB', page.heapMb.toFixed(1)]);
      rows.push(['frames rendered', String(page.frames)]);
      const s = dg.sizes;
      const c = dg.caps;
      rows.push(['tx rows', `${s.tx} / ${c.txRows}`]);
      rows.push(['features top / recent', `${s.featureTop} / ${c.featureTop}, ${s.featureRecent} / ${c.featureRecent}`]);
      rows.push(['opportunities', `${s.opportunities} / ${c.opportunities}`]);
      rows.push(['fee points', `${s.feePoints} / ${c.feeHistory}`]);
      rows.push(['detail cache', `${dg.detailCache.size} / ${c.detailEntries} (hit ${dg.detailCache.hits}, miss ${dg.detailCache.misses}, ttl ${c.detailTtlMs / 1000} s)`]);
      rows.push(['queue depth / max / coalesced', `${dg.queue.depth} / ${dg.queue.maxDepth} / ${dg.queue.coalesced}`]);
      rows.push(['tx evictions', String(dg.evictions)]);
      rows.push(['credit tx (held/target/rate)', (() => { const x = dg.credit['tx.main']; return `${x.outstanding} / ${x.target} / ${x.rate}/s`; })()]);
      rows.push(['fetch high / low / preempted', `${dg.fetch.high} / ${dg.fetch.low} / ${dg.fetch.preempted}`]);
      rows.push(['batches / errors', `${dg.stats.batches} / ${dg.stats.errors}`]);
      if (dg.stats.lastError) rows.push(['last error', dg.stats.lastError]);
      pool.update(rows);
    },
  };
}
