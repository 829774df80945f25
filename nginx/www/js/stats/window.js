// The statistics pages' window: a few presets (the last 24 hours by hour,
// 7, 30 or 90 days by day) kept in the address bar as ?range=, turned into
// the API's since and bucket.

export const RANGES = [
  { key: '24h', label: 'Last 24 hours', hours: 24, bucket: 'hour' },
  { key: '7d', label: 'Last 7 days', hours: 7 * 24, bucket: 'day' },
  { key: '30d', label: 'Last 30 days', hours: 30 * 24, bucket: 'day' },
  { key: '90d', label: 'Last 90 days', hours: 90 * 24, bucket: 'day' },
];

export const DEFAULT_RANGE = '7d';

export function rangeOf(params) {
  const key = params.get('range');
  return RANGES.find((r) => r.key === key) || RANGES.find((r) => r.key === DEFAULT_RANGE);
}

/** The API's query for a range, ending now. */
export function apiQuery(range, now = Date.now()) {
  const since = new Date(now - range.hours * 3600 * 1000);
  return { since: since.toISOString().replace(/\.\d{3}Z$/, 'Z'), bucket: range.bucket };
}
