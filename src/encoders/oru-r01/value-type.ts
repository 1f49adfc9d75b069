import type { FieldInput } from '../../protocols/hl7v2/index.ts';

/**
 * Chooses OBX-2 and OBX-5 for a value as sent, without changing the text:
 * a plain number is NM, a comparator, range or ratio is SN (v2.5.1 section 2.A.75),
 * anything else is ST, or TX when it has line breaks or exceeds ST's 199 characters.
 */
// No whitespace anywhere: NM and SN components are rejoined without it, so a value with
// spaces (' 5.4', '< 0.5') goes out as ST to keep its text exactly as sent.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const COMPARATOR = /^(<=|>=|<>|<|>|=)([+-]?(?:\d+\.?\d*|\.\d+))$/;
const RANGE_OR_RATIO = /^([+-]?(?:\d+\.?\d*|\.\d+))([-:/+])([+-]?(?:\d+\.?\d*|\.\d+))$/;

export interface TypedValue {
  type: 'NM' | 'SN' | 'ST' | 'TX';
  value: FieldInput;
}

export function typeValue(value: string): TypedValue {
  if (NUMBER.test(value)) return { type: 'NM', value };
  const cmp = COMPARATOR.exec(value);
  if (cmp) return { type: 'SN', value: [cmp[1], cmp[2]] };
  const rr = RANGE_OR_RATIO.exec(value);
  // A leading minus belongs to the number; '5-10' is a range, '1:128' a ratio.
  if (rr) return { type: 'SN', value: [null, rr[1], rr[2], rr[3]] };
  if (/[\r\n]/.test(value) || value.length > 199) return { type: 'TX', value };
  return { type: 'ST', value };
}
