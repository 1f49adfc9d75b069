/**
 * Reads a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), as milliseconds
 * from `nowMs`. A date in the past is 0; an absent or unreadable value is undefined.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // IMF-fixdate, or the obsolete RFC 850 and asctime forms, which Date.parse also reads.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
