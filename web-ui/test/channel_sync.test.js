import { describe, it, expect } from 'vitest';
import { ChannelSync } from '../src/worker/channel_sync.js';

const batch = (prev_seq, seq) => ({ channel: 'tx.main', prev_seq, seq });

describe('gap rule (prev_seq)', () => {
  it('applies batches chained by prev_seq', () => {
    const s = new ChannelSync('tx.main');
    s.resetTo(100);
    expect(s.accept(batch(100, 110))).toBe('apply');
    expect(s.accept(batch(110, 111))).toBe('apply');
    expect(s.lastSeq).toBe(111);
    expect(s.gaps).toBe(0);
  });

  it('a prev_seq mismatch is a gap that pauses only this channel', () => {
    const tx = new ChannelSync('tx.main');
    const feat = new ChannelSync('feature.main');
    tx.resetTo(100);
    feat.resetTo(100);
    expect(tx.accept(batch(105, 120))).toBe('gap');
    expect(tx.gaps).toBe(1);
    expect(tx.gapFrom).toBe(100);
    expect(tx.state).toBe('fetching');
    expect(tx.accept(batch(120, 130))).toBe('drop');
    expect(feat.accept({ prev_seq: 100, seq: 121 })).toBe('apply');
    expect(feat.state).toBe('live');
  });

  it('mini-resync: fetched then SUBSCRIBED re-chains from the snapshot seq', () => {
    const s = new ChannelSync('tx.main');
    s.resetTo(100);
    s.accept(batch(99, 120));
    const ep = s.epoch;
    expect(s.fetched(ep)).toBe(true);
    expect(s.accept(batch(120, 125))).toBe('drop'); // in flight before SUBSCRIBE took effect
    expect(s.subscribed(140)).toBe(true);
    expect(s.state).toBe('live');
    expect(s.resyncs).toBe(1);
    expect(s.accept(batch(140, 150))).toBe('apply');
  });

  it('a reconnect voids a resync in flight (stale epoch)', () => {
    const s = new ChannelSync('tx.main');
    s.resetTo(100);
    s.accept(batch(1, 120));
    const ep = s.epoch;
    s.resetTo(100); // RESUME replays from the last good seq
    expect(s.fetched(ep)).toBe(false);
    expect(s.accept(batch(100, 130))).toBe('apply');
  });

  it('RESYNC_REQUIRED starts a resync without counting a client gap', () => {
    const s = new ChannelSync('market.main');
    s.resetTo(5);
    expect(s.requireResync()).toBe(true);
    expect(s.requireResync()).toBe(false);
    expect(s.gaps).toBe(0);
    expect(s.state).toBe('fetching');
  });
});
