import type { Observation } from '../../canonical/report.ts';
import { type FieldInput, HL7_NULL, isoToDtm } from '../../protocols/hl7v2/index.ts';

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
  /** OBX-2, HL7 table 0125. */
  type: string;
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

/**
 * OBX-2 and OBX-5 of a value that came with a declared type (HL7 v2 OBX-2), keeping that
 * type wherever the text fits it: an NM stays NM (its padding dropped, since an NM has no
 * spaces: v2.5.1 section 2.A.47), an SN stays SN (a plain number as ^n), text types and
 * codes as sent, DT/TS/DTM back to their HL7 form. A value its declared type cannot carry
 * (an NM '>90') is typed from its text, and `retyped` says so. Without a declared type
 * (platform events), the type comes from the text (`typeValue`). A value sent as the HL7
 * null goes back as `""`.
 */
export function declaredValue(o: Observation): TypedValue & { retyped?: string } {
  const declared = o.valueType?.toUpperCase();
  if (o.nulls?.includes('value')) return { type: declared || 'ST', value: HL7_NULL };
  if (!declared) return typeValue(o.value);
  // Nothing sent (a pending result): OBX-2 as declared, OBX-5 empty.
  if (o.value === '') return { type: declared, value: '' };
  const lines = o.value.split('\n');
  const repeat = (values: string[]): FieldInput => (values.length === 1 ? values[0]! : { repeat: values });
  switch (declared) {
    case 'NM': {
      const numbers = lines.map((l) => l.trim());
      if (numbers.every((n) => NUMBER.test(n))) return { type: 'NM', value: repeat(numbers) };
      break;
    }
    case 'SN': {
      const typed = typeValue(o.value);
      if (typed.type === 'SN') return typed;
      if (typed.type === 'NM') return { type: 'SN', value: [null, o.value] };
      break;
    }
    case 'ST':
    case 'TX':
    case 'FT':
    case 'IS':
    case 'ID':
    case 'TM':
      return { type: declared, value: o.value };
    case 'DT':
    case 'TS':
    case 'DTM':
      return { type: declared, value: repeat(lines.map((l) => (l === '' ? '' : isoToDtm(l)))) };
  }
  const typed = typeValue(o.value);
  return { ...typed, retyped: `declared ${declared}, sent as ${typed.type}: the value is not a ${declared}` };
}

/** A warning for each value sent with another type than the one declared (no value in it: never patient data). */
export function retypeWarnings(observations: readonly Observation[]): string[] {
  return observations.flatMap((o, i) => {
    const retyped = o.valueCoding ? undefined : declaredValue(o).retyped;
    return retyped ? [`observation ${i + 1} (OBX-2): ${retyped}`] : [];
  });
}
