// Windows of rows for the virtualized lists: the main thread asks for (start, count)
// under a filter; we walk the store newest-first without building arrays of the whole
// list, counting matches and copying only the rows inside the window.

export function normalizeFilter(f = {}) {
  return {
    protocol: (f.protocol ?? '').trim(),
    category: (f.category ?? '').trim(),
    minEth: Number(f.minEth) > 0 ? Number(f.minEth) : 0,
    address: (f.address ?? '').trim().toLowerCase(),
  };
}

export function txMatches(e, f) {
  if (f.protocol && e.protocol !== f.protocol) return false;
  if (f.category && e.category !== f.category) return false;
  if (f.minEth && !(e._eth >= f.minEth)) return false;
  if (f.address) {
    const a = f.address;
    if (!(e.from?.includes(a) || e.to?.includes(a))) return false;
  }
  return true;
}

export function txRow(e) {
  return {
    hash: e.hash,
    seq: e.seq,
    t: e.seen_unix_ms,
    from: e.from,
    to: e.to,
    protocol: e.protocol,
    category: e.category,
    method: e.method,
    eth: e._eth,
    fee: e._feeGwei,
    status: e.status,
  };
}

/** Rows [start, start+count) of store under predicate match, plus the match total. */
export function windowOf(store, start, count, match, toRow) {
  const rows = [];
  let total = 0;
  const end = start + count;
  store.forEachNewest((e) => {
    if (match && !match(e)) return true;
    if (total >= start && total < end) rows.push(toRow ? toRow(e) : e);
    total++;
    return true;
  });
  return { total, start, rows };
}

/** Top features by 60 s rate (at most limit rows; the store holds <= 256). */
export function topFeatures(store, limit) {
  const all = [];
  store.forEachNewest((e) => {
    all.push(e);
  });
  all.sort((a, b) => (b.rate_60s ?? 0) - (a.rate_60s ?? 0) || (b.count ?? 0) - (a.count ?? 0));
  return all.slice(0, limit);
}
