import { describe, it, expect } from 'vitest';
import { DeltaQueue, mergeBatches } from '../src/worker/delta_queue.js';

const b = (channel, prev_seq, seq, upsert = [], remove = []) => ({ type: 'DELTA_BATCH', channel, prev_seq, seq, patch: { upsert, remove } });
const e = (id, seq, v) => ({ id, seq, v });

describe('coalescing under lag', () => {
  it('below the soft cap nothing merges', () => {
    const q = new DeltaQueue({ softCap: 4, hardCap: 8 });
    for (let i = 0; i < 4; i++) q.push(b('tx.main', i, i + 1, [e(`x${i}`, i + 1)]));
    expect(q.length).toBe(4);
    expect(q.coalesced).toBe(0);
  });

  it('past the soft cap batches merge per channel and keep the prev_seq chain', () => {
    const q = new DeltaQueue({ softCap: 2, hardCap: 4 });
    q.push(b('tx.main', 0, 1, [e('a', 1, 'a1')]));
    q.push(b('feature.main', 0, 2, [e('f', 2)]));
    for (let s = 3; s < 103; s++) q.push(b('tx.main', s - 1 === 2 ? 1 : s - 1, s, [e('a', s, `a${s}`), e(`n${s}`, s)]));
    expect(q.length).toBeLessThanOrEqual(4);
    expect(q.coalesced).toBeGreaterThan(90);
    const items = [];
    for (let m; (m = q.shift()); ) items.push(m);
    const tx = items.filter((m) => m.channel === 'tx.main');
    // chain: first prev_seq 0, each next prev_seq equals the previous seq
    let last = 0;
    for (const m of tx) {
      expect(m.prev_seq).toBe(last);
      last = m.seq;
    }
    expect(last).toBe(102);
    const all = tx.flatMap((m) => m.patch.upsert).filter((x) => x.id === 'a');
    expect(all[all.length - 1].v).toBe('a102');
  });

  it('merge: newest seq wins, upsert then remove is remove, remove then upsert is upsert', () => {
    const m = mergeBatches(b('tx.main', 10, 12, [e('a', 11, 'old'), e('b', 12)]), b('tx.main', 12, 15, [e('a', 15, 'new'), e('c', 14)], ['b']), 100);
    expect(m.prev_seq).toBe(10);
    expect(m.seq).toBe(15);
    expect(m.patch.upsert.find((x) => x.id === 'a').v).toBe('new');
    expect(m.patch.upsert.find((x) => x.id === 'b')).toBeUndefined();
    expect(m.patch.remove).toContain('b');
    const m2 = mergeBatches(b('tx.main', 1, 2, [], ['z']), b('tx.main', 2, 3, [e('z', 3)]), 100);
    expect(m2.patch.remove).not.toContain('z');
    expect(m2.patch.upsert.map((x) => x.id)).toEqual(['z']);
  });

  it('merged upserts are capped, keeping the newest', () => {
    const up1 = Array.from({ length: 50 }, (_, i) => e(`a${i}`, i + 1));
    const up2 = Array.from({ length: 50 }, (_, i) => e(`b${i}`, 100 + i));
    const m = mergeBatches(b('tx.main', 0, 50, up1), b('tx.main', 50, 149, up2), 60);
    expect(m.patch.upsert).toHaveLength(60);
    expect(Math.min(...m.patch.upsert.map((x) => x.seq))).toBe(41); // a41..a50 and all 50 of b
  });

  it('control messages are never merged across', () => {
    const q = new DeltaQueue({ softCap: 1, hardCap: 8 });
    q.push(b('tx.main', 0, 1));
    q.push({ type: 'SUBSCRIBED', channels: ['tx.main'] });
    q.push(b('tx.main', 5, 6));
    expect(q.length).toBe(3);
  });
});
