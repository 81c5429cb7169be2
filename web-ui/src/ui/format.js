// Display formatting shared by the panels (pure functions).

export const short = (h, n = 6) => (h ? `${h.slice(0, n + 2)}…${h.slice(-4)}` : '—');

export function hhmmss(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toISOString().slice(11, 19);
}

export function eth(v) {
  if (!v) return '0';
  if (v >= 1000) return v.toFixed(0);
  if (v >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

export const gwei = (wei) => (wei ? (wei / 1e9).toFixed(wei < 1e9 ? 3 : 2) : '0');

export function num(n) {
  if (n === undefined || n === null) return '—';
  return typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 2 }) : String(n);
}

export function weiToEth(s) {
  try {
    const b = BigInt(s ?? 0);
    const whole = b / 10n ** 18n;
    const frac = (b % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
    return frac ? `${whole}.${frac}` : `${whole}`;
  } catch {
    return String(s);
  }
}
