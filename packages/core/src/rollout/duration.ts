/**
 * Durations in plans read like `30s`, `10m`, `2h`, `1d`, or compounds such as `1h30m`.
 * Plans keep the text as written (so a plan round-trips); the reducer works in milliseconds.
 */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
type DurationUnit = keyof typeof UNIT_MS;

export const DURATION_PATTERN = /^(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/;

/** Milliseconds in `text`, or undefined when it is not a duration (empty, unknown unit, bad order). */
export function parseDuration(text: string): number | undefined {
  if (text === '' || !DURATION_PATTERN.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([dhms])/g)) ms += Number(n) * UNIT_MS[unit as DurationUnit];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest compound text for `ms` (whole seconds): 5400000 → `1h30m`; 0 → `0s`. */
export function formatDuration(ms: number): string {
  let rest = Math.floor(ms / 1000) * 1000;
  if (rest <= 0) return '0s';
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return out;
}
