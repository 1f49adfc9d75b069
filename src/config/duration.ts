import { z } from 'zod';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A length of time as written in channel files: a whole number and a unit, `45s`, `90m`,
 * `12h`, `30d`; parsed to milliseconds.
 */
export const Duration = z
  .string({ error: "expected a duration such as '30d', '12h', '90m' or '45s'" })
  .regex(/^[1-9]\d{0,5}[smhd]$/, "expected a duration such as '30d', '12h', '90m' or '45s' (a whole number, then s, m, h or d)")
  .transform((text) => Number(text.slice(0, -1)) * UNIT_MS[text.at(-1) as keyof typeof UNIT_MS]);
