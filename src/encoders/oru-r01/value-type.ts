import type { FieldInput } from '../../protocols/hl7v2/index.ts';

/**
 * Chooses OBX-2 and OBX-5 for a value as sent, without changing the text:
 * a plain number is NM, a comparator, range or ratio is SN (v2.5.1 section 2.A.75),
 * anything else is ST, or TX when it has line breaks or exceeds ST's 199 characters.
 */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const COMPARATOR = /^(<=|>=|<>|<|>|=)\s*([+-]?(?:\d+\.?\d*|\.\d+))$/;
const RANGE_OR_RATIO = /^([+-]?(?:\d+\.?\d*|\.\d+))\s*([-:/+])\s*([+-]?(?:\d+\.?\d*|\.\d+))$/;

export interface TypedValue {
  type: 'NM' | 'SN' | 'ST' | 'TX';
  value: FieldInput;
}

export function typeValue(value: string): TypedValue {
  const v = value.trim();
  if (NUMBER.test(v)) return { type: 'NM', value: v };
  const cmp = COMPARATOR.exec(v);
  if (cmp) return { type: 'SN', value: [cmp[1], cmp[2]] };
  const rr = RANGE_OR_RATIO.exec(v);
  // A leading minus belongs to the number; '5-10' is a range, '1:128' a ratio.
  if (rr) return { type: 'SN', value: [null, rr[1], rr[2], rr[3]] };
  if (/[\r\n]/.test(value) || value.length > 199) return { type: 'TX', value };
  return { type: 'ST', value };
}
