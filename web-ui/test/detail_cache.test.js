import { describe, it, expect } from 'vitest';
import { DetailCache } from '../src/worker/detail_cache.js';

describe('detail cache LRU + TTL', () => {
  it('evicts the least recently used past the cap', () => {
    let t = 0;
    const c = new DetailCache({ cap: 3, ttlMs: 1000, now: () => t });
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    expect(c.get('a')).toBe(1); // a is now most recent
    c.set('d', 4);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.size).toBe(3);
  });

  it('expires entries after the TTL', () => {
    let t = 0;
    const c = new DetailCache({ cap: 10, ttlMs: 1000, now: () => t });
    c.set('a', 1);
    t = 999;
    expect(c.get('a')).toBe(1);
    t = 2001; // get() does not refresh the insertion time
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('the pinned entry survives the cap, the TTL and shrink', () => {
    let t = 0;
    const c = new DetailCache({ cap: 2, ttlMs: 100, now: () => t });
    c.set('sel', 'x');
    c.pin('sel');
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i);
    expect(c.size).toBeLessThanOrEqual(2);
    t = 1000;
    c.shrink(0);
    expect(c.get('sel')).toBe('x');
    c.unpin();
    t = 2000;
    expect(c.get('sel')).toBeUndefined();
  });

  it('stays bounded under many distinct keys', () => {
    const c = new DetailCache({ cap: 64, ttlMs: 60000 });
    for (let i = 0; i < 10000; i++) c.set(`h${i}`, { i });
    expect(c.size).toBe(64);
    expect(c.evictions).toBe(10000 - 64);
  });
});
