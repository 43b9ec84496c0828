// How figures read on every page.

export const formatMs = (ms) => {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
};

export const formatTime = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? String(iso)
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
};

export const formatCount = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '–');

export const formatPercent = (part, whole) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '–');

/** Relative time ranges offered by the filters, as the API's `from`. */
export const SINCE_CHOICES = [
  ['', 'all time'],
  ['15m', 'last 15 minutes'],
  ['1h', 'last hour'],
  ['6h', 'last 6 hours'],
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
];

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export const sinceToFromMs = (since) => {
  const match = /^(\d+)([mhd])$/.exec(since ?? '');
  return match ? Date.now() - Number(match[1]) * UNIT_MS[match[2]] : undefined;
};

/** Query parameters of the current page's URL. */
export const pageParams = () => new URLSearchParams(location.search);
