import { describe, it, expect } from 'vitest';
import { EntityStore } from '../src/worker/entity_store.js';
import { Reducer } from '../src/worker/reducer.js';

const tx = (id, seq, extra = {}) => ({ id, hash: id, seq, value: '0', ...extra });

describe('last-write-wins by (id, seq)', () => {
  it('applies only newer seqs', () => {
    const s = new EntityStore({ cap: 10 });
    expect(s.upsert(tx('a', 5, { status: 'pending' }))).toBe(true);
    expect(s.upsert(tx('a', 4, { status: 'old' }))).toBe(false);
    expect(s.upsert(tx('a', 5, { status: 'same' }))).toBe(false);
    expect(s.get('a').status).toBe('pending');
    expect(s.upsert(tx('a', 9, { status: 'mined' }))).toBe(true);
    expect(s.get('a').status).toBe('mined');
  });

  it('a remove older than the entity is ignored, a newer one wins', () => {
    const s = new EntityStore({ cap: 10 });
    s.upsert(tx('a', 10));
    expect(s.remove('a', 9)).toBe(false);
    expect(s.get('a')).toBeTruthy();
    expect(s.remove('a', 11)).toBe(true);
    expect(s.get('a')).toBeUndefined();
  });

  it('a stale upsert cannot resurrect a removed entity (tombstone), a newer one can', () => {
    const s = new EntityStore({ cap: 10 });
    s.upsert(tx('a', 10));
    s.remove('a', 12);
    expect(s.upsert(tx('a', 11))).toBe(false);
    expect(s.upsert(tx('a', 13))).toBe(true);
    expect(s.size).toBe(1);
  });

  it('a fuzzy snapshot converges with deltas in any order', () => {
    const r1 = new Reducer({ txRows: 50 });
    const r2 = new Reducer({ txRows: 50 });
    const batches = [
      { channel: 'tx.main', seq: 3, patch: { upsert: [tx('a', 2, { status: 'pending' }), tx('b', 3)] } },
      { channel: 'tx.main', seq: 6, patch: { upsert: [tx('a', 6, { status: 'mined' })], remove: ['b'] } },
    ];
    r1.applyChannelSnapshot('tx.main', { items: [tx('a', 6, { status: 'mined' })] }, 'full');
    for (const b of batches) r1.applyBatch(b);
    for (const b of batches) r2.applyBatch(b);
    expect(r1.tx.get('a').status).toBe('mined');
    expect(r2.tx.get('a').status).toBe('mined');
    expect(r1.tx.get('b')).toBeUndefined();
    expect(r2.tx.get('b')).toBeUndefined();
  });
});

describe('caps and eviction', () => {
  it('never holds more than cap entities; the oldest go first', () => {
    const s = new EntityStore({ cap: 100 });
    for (let i = 0; i < 1000; i++) s.upsert(tx(`h${i}`, i + 1));
    expect(s.size).toBe(100);
    expect(s.get('h899')).toBeUndefined();
    expect(s.get('h900')).toBeTruthy();
    expect(s.evictions).toBe(900);
    const order = [];
    s.forEachNewest((e) => {
      order.push(e.id);
      return order.length < 3;
    });
    expect(order).toEqual(['h999', 'h998', 'h997']);
  });

  it('tombstones are bounded too', () => {
    const s = new EntityStore({ cap: 10, tombstones: 16 });
    for (let i = 0; i < 500; i++) {
      s.upsert(tx(`h${i}`, 2 * i + 1));
      s.remove(`h${i}`, 2 * i + 2);
    }
    expect(s.tomb.size).toBeLessThanOrEqual(16);
    expect(s.ring.len).toBeLessThanOrEqual(10);
  });

  it('removed slots compact and a re-added id appears once', () => {
    const s = new EntityStore({ cap: 8 });
    for (let i = 0; i < 8; i++) s.upsert(tx(`h${i}`, i + 1));
    s.remove('h3', 100);
    s.upsert(tx('h3', 101));
    const ids = [];
    s.forEachNewest((e) => {
      ids.push(e.id);
    });
    expect(ids.filter((x) => x === 'h3')).toHaveLength(1);
    expect(ids[0]).toBe('h3');
    for (let i = 0; i < 8; i++) s.remove(`h${i}`, 1000);
    expect(s.size).toBe(0);
    expect(s.ring.len).toBeLessThanOrEqual(8);
  });

  it('the pinned (selected) entity survives eviction and memory-pressure shrink', () => {
    const s = new EntityStore({ cap: 10 });
    s.upsert(tx('sel', 1));
    expect(s.pin('sel')).toBe(true);
    for (let i = 0; i < 50; i++) s.upsert(tx(`h${i}`, i + 2));
    expect(s.get('sel')).toBeTruthy();
    s.shrink(2);
    expect(s.size).toBe(2);
    expect(s.get('sel')).toBeTruthy();
    s.unpin('sel');
    expect(s.get('sel')).toBeUndefined();
  });

  it('reducer caps every panel store', () => {
    const r = new Reducer({ txRows: 20, featureRecent: 10, featureTop: 5, opportunities: 7 });
    for (let i = 0; i < 200; i++) {
      r.applyBatch({ channel: 'tx.main', seq: i + 1, patch: { upsert: [tx(`0x${i}`, i + 1)] } });
      r.applyBatch({ channel: 'feature.main', seq: i + 1, patch: { upsert: [{ id: `0x${i}`, kind: 'recent', seq: i + 1 }, { id: `p${i}/swap`, kind: 'top', seq: i + 1 }] } });
      r.applyBatch({ channel: 'opportunity.main', seq: i + 1, patch: { upsert: [{ id: `o${i}`, seq: i + 1 }] } });
    }
    expect(r.sizes()).toMatchObject({ tx: 20, featureRecent: 10, featureTop: 5, opportunities: 7 });
  });
});
