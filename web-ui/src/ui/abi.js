// Minimal ABI decoder for the detail modal: splits a signature such as
// "swap(uint256,address[],address,uint256)" into types and decodes the head words of
// the calldata (static types; one level of dynamic bytes/string/T[] of static T).
// Truncated input (the gateway keeps 4 KiB) decodes what is present.

export function parseSignature(sig) {
  const m = /^([A-Za-z0-9_$]+)\((.*)\)$/.exec(sig ?? '');
  if (!m) return null;
  const types = [];
  let depth = 0;
  let cur = '';
  for (const ch of m[2]) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      types.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) types.push(cur);
  return { name: m[1], types };
}

const word = (hex, i) => (hex.length >= (i + 1) * 64 ? hex.slice(i * 64, (i + 1) * 64) : null);

function decodeStatic(type, w) {
  if (w === null) return '(truncated)';
  if (type === 'address') return '0x' + w.slice(24);
  if (type === 'bool') return BigInt('0x' + w) !== 0n ? 'true' : 'false';
  if (/^uint\d*$/.test(type)) return BigInt('0x' + w).toString();
  if (/^int\d*$/.test(type)) {
    const v = BigInt('0x' + w);
    return (v >= 2n ** 255n ? v - 2n ** 256n : v).toString();
  }
  if (/^bytes\d+$/.test(type)) return '0x' + w.slice(0, 2 * Number(type.slice(5)));
  return '0x' + w;
}

const isDynamic = (t) => t === 'bytes' || t === 'string' || t.endsWith('[]') || t.startsWith('(');

/** Decodes input ("0x" + selector + args) against signature; returns
 *  {name, args: [{type, value}]} or null when the signature is unknown. */
export function decodeCall(signature, input) {
  const sig = parseSignature(signature);
  if (!sig) return null;
  const hex = (input ?? '').replace(/^0x/, '').slice(8);
  const args = sig.types.map((type, i) => {
    const w = word(hex, i);
    if (!isDynamic(type)) return { type, value: decodeStatic(type, w) };
    if (w === null) return { type, value: '(truncated)' };
    const off = Number(BigInt('0x' + w)) / 32;
    const lenW = word(hex, off);
    if (lenW === null || !Number.isSafeInteger(off)) return { type, value: '(truncated)' };
    const len = Number(BigInt('0x' + lenW));
    if (type === 'bytes' || type === 'string') {
      const data = hex.slice((off + 1) * 64, (off + 1) * 64 + 2 * Math.min(len, 256));
      return { type, value: `0x${data}${len > 256 ? '…' : ''} (${len} bytes)` };
    }
    if (type.endsWith('[]') && !type.startsWith('(')) {
      const inner = type.slice(0, -2);
      if (isDynamic(inner)) return { type, value: `[${len} items]` };
      const items = [];
      for (let k = 0; k < Math.min(len, 16); k++) items.push(decodeStatic(inner, word(hex, off + 1 + k)));
      return { type, value: `[${items.join(', ')}${len > 16 ? ', …' : ''}]` };
    }
    return { type, value: '(tuple)' };
  });
  return { name: sig.name, args };
}
