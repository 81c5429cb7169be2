import { describe, it, expect } from 'vitest';
import { Fetcher } from '../src/worker/fetcher.js';
import { EntityStore } from '../src/worker/entity_store.js';
import { windowOf, txMatches, normalizeFilter } from '../src/worker/views.js';
import { decodeCall } from '../src/ui/abi.js';

function fakeFetch() {
  const calls = [];
  const fn = (url, opts) =>
    new Promise((resolve, reject) => {
      const c = { url, opts, resolve: (body) => resolve({ status: 200, json: async () => body }) };
      opts?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      calls.push(c);
    });
  return { calls, fn };
}

describe('fetch priorities', () => {
  it('a high-priority detail preempts the running low-priority sync, which retries after', async () => {
    const f = fakeFetch();
    const fx = new Fetcher({ fetchFn: f.fn });
    const low = fx.low('/dashboard/snapshot-v2?channels=tx.main');
    expect(f.calls).toHaveLength(1);
    const high = fx.high('/transactions/0xabc');
    expect(fx.preempted).toBe(1);
    expect(f.calls).toHaveLength(2);
    f.calls[1].resolve({ hash: '0xabc' });
    expect((await high).body.hash).toBe('0xabc');
    await new Promise((r) => setTimeout(r, 0));
    expect(f.calls).toHaveLength(3);
    expect(f.calls[2].url).toContain('snapshot-v2');
    f.calls[2].resolve({ snapshot_seq: 5 });
    expect((await low).snapshot_seq).toBe(5);
  });

  it('one low-priority request in flight at a time', async () => {
    const f = fakeFetch();
    const fx = new Fetcher({ fetchFn: f.fn });
    fx.low('/a');
    fx.low('/b');
    expect(f.calls).toHaveLength(1);
  });
});

describe('views and filters', () => {
  const s = new EntityStore({ cap: 100 });
  for (let i = 0; i < 50; i++)
    s.upsert({ id: `h${i}`, seq: i + 1, protocol: i % 2 ? 'uniswap-v2' : 'erc20', category: 'swap', from: `0xf${i}`, to: '0xto', _eth: i / 10 });

  it('windows newest-first without copying rows outside the window', () => {
    const w = windowOf(s, 5, 3, null, (e) => e.id);
    expect(w.total).toBe(50);
    expect(w.rows).toEqual(['h44', 'h43', 'h42']);
  });

  it('filters by protocol, minimum value and address', () => {
    const f = normalizeFilter({ protocol: 'uniswap-v2', minEth: '2' });
    const w = windowOf(s, 0, 100, (e) => txMatches(e, f), (e) => e);
    expect(w.total).toBe(15); // odd i in 20..49
    expect(w.rows.every((e) => e.protocol === 'uniswap-v2' && e._eth >= 2)).toBe(true);
    const a = normalizeFilter({ address: '0xF7' });
    expect(windowOf(s, 0, 10, (e) => txMatches(e, a)).total).toBe(1);
  });
});

describe('ABI decoding for the modal', () => {
  it('decodes static and address[] arguments', () => {
    const input =
      '0xb6f9de95' +
      '0000000000000000000000000000000000000000000000000ce7da7cb949a380' +
      '0000000000000000000000000000000000000000000000000000000000000080' +
      '000000000000000000000000f7726d355b65728311fad565ed86709193c049f6' +
      '000000000000000000000000000000000000000000000000000000006b0949e1' +
      '0000000000000000000000000000000000000000000000000000000000000002' +
      '000000000000000000000000c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2' +
      '000000000000000000000000fdb759d7c46e0d72793a2806df6c30e6f47105a7';
    const d = decodeCall('swapExactETHForTokensSupportingFeeOnTransferTokens(uint256,address[],address,uint256)', input);
    expect(d.name).toBe('swapExactETHForTokensSupportingFeeOnTransferTokens');
    expect(d.args[0].value).toBe(BigInt('0x0ce7da7cb949a380').toString());
    expect(d.args[1].value).toBe('[0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2, 0xfdb759d7c46e0d72793a2806df6c30e6f47105a7]');
    expect(d.args[2].value).toBe('0xf7726d355b65728311fad565ed86709193c049f6');
    expect(decodeCall('transfer(address,uint256)', '0xa9059cbb').args[0].value).toBe('(truncated)');
  });
});
