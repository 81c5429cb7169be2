import { describe, it, expect } from 'vitest';
import { CreditController } from '../src/worker/credit.js';
import { Backoff } from '../src/worker/backoff.js';
import { SendBudget } from '../src/worker/send_budget.js';
import { Heartbeat } from '../src/worker/heartbeat.js';

describe('adaptive credit', () => {
  const mk = () => {
    let t = 0;
    const c = new CreditController({ channels: ['tx.main', 'chain.main'], initial: 16, min: 4, max: 64, horizonMs: 1500, now: () => t });
    return { c, tick: (ms) => (t += ms) };
  };

  it('grows the window with measured commit throughput, capped at max', () => {
    const { c, tick } = mk();
    for (let i = 0; i < 16; i++) c.onBatch('tx.main');
    c.onCommitted('tx.main', 16);
    tick(1000);
    const g = c.grant();
    expect(g['tx.main']).toBeGreaterThan(16);
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 40; i++) c.onBatch('tx.main');
      c.onCommitted('tx.main', 40);
      tick(1000);
      c.grant();
    }
    expect(c.snapshot()['tx.main'].target).toBe(64);
    expect(c.snapshot()['tx.main'].outstanding).toBeLessThanOrEqual(64);
  });

  it('drops to the minimum when the page lags and grants nothing beyond it', () => {
    const { c, tick } = mk();
    c.lagging = true;
    for (let i = 0; i < 16; i++) c.onBatch('tx.main');
    tick(1000);
    const g = c.grant();
    expect(c.snapshot()['tx.main'].target).toBe(4);
    expect(g['tx.main']).toBe(4);
    tick(1000);
    expect(c.grant()?.['tx.main']).toBeUndefined();
  });

  it('does not spam grants for a quiet channel holding enough credit', () => {
    const { c, tick } = mk();
    tick(1000);
    const g = c.grant();
    expect(g?.['chain.main']).toBeUndefined();
  });
});

describe('backoff bounds', () => {
  it('full jitter within [0, min(cap, base*2^n)]', () => {
    const b = new Backoff({ baseMs: 500, capMs: 20000 });
    for (let n = 0; n < 30; n++) {
      const ceil = Math.min(20000, 500 * 2 ** n);
      expect(b.ceiling()).toBe(ceil);
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(ceil);
    }
    b.reset();
    expect(b.ceiling()).toBe(500);
  });

  it('uses the whole range (jitter), extremes at random() 0 and ~1', () => {
    const lo = new Backoff({ random: () => 0 });
    const hi = new Backoff({ random: () => 0.999999 });
    for (let i = 0; i < 10; i++) {
      lo.next();
      hi.next();
    }
    expect(lo.next()).toBe(0);
    expect(hi.next()).toBe(19999);
  });
});

describe('send budget and heartbeat', () => {
  it('keeps deferrable messages under the gateway rate limit', () => {
    let t = 0;
    const s = new SendBudget({ max: 100, windowMs: 60000, now: () => t });
    let sent = 0;
    for (let i = 0; i < 1000; i++) {
      if (s.allow(20)) {
        s.spend();
        sent++;
      }
      t += 10;
    }
    expect(sent).toBe(80);
    t += 60000;
    expect(s.allow(20)).toBe(true);
  });

  it('a beat without an ACK since the previous one declares a zombie', () => {
    const timers = [];
    let zombie = 0;
    let sent = 0;
    const hb = new Heartbeat({ send: () => sent++, onZombie: () => zombie++, random: () => 0.5, setTimer: (fn) => timers.push(fn), clearTimer: () => {} });
    hb.start(1000);
    timers.shift()(); // first beat
    expect(sent).toBe(1);
    hb.ack();
    timers.shift()(); // second beat, first was acked
    expect(zombie).toBe(0);
    timers.shift()(); // third beat, second not acked
    expect(zombie).toBe(1);
    expect(sent).toBe(2);
  });
});
