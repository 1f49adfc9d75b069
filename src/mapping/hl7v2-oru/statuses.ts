import type { ResultStatus } from '../../canonical/report.ts';
import { HL7_NULL } from '../../protocols/hl7v2/index.ts';
import { at, type Issues, isHl7Null, type Located, leaf } from './fields.ts';
import { lookup } from './patient.ts';

/**
 * OBX-11 and OBR-25 by their meaning: each code through its table (HL7 table 0085 or 0123,
 * plus the mapping's own rows). A code the table does not know is refused, naming the field
 * and the code: guessing would risk sending a result as final that was not.
 */

export interface ReadStatus {
  /** The code as sent; undefined when the field is empty. */
  readonly text: string | undefined;
  /** Its meaning; undefined when the field is empty or the code is refused. */
  readonly status: ResultStatus | undefined;
  readonly refused: boolean;
}

function read(s: Located, field: 11 | 25, table: Readonly<Record<string, ResultStatus>>, issues: Issues): ReadStatus {
  // The HL7 null is no status code: it is refused like any code the tables do not know.
  const text = isHl7Null(s.segment, field) ? HL7_NULL : leaf(s.segment, field);
  if (text === undefined) return { text, status: undefined, refused: false };
  const status = lookup(table, text);
  if (status !== undefined) return { text, status, refused: false };
  const [name, hl7Table, setting] = field === 11 ? ['observation result status', '0085', 'observationStatuses'] : ['result status', '0123', 'resultStatuses'];
  issues.add(
    at(s, field),
    'invalid_value',
    `${s.segment.name}-${field} (${name}) '${text}' is not in HL7 table ${hl7Table} or the mapping's ${setting}: add a row there to say what it means`,
  );
  return { text, status: undefined, refused: true };
}

/** OBX-11 through table 0085 and `observationStatuses`. */
export function observationStatus(obx: Located, table: Readonly<Record<string, ResultStatus>>, issues: Issues): ReadStatus {
  return read(obx, 11, table, issues);
}

/** OBR-25 through table 0123 and `resultStatuses`. */
export function resultStatus(obr: Located, table: Readonly<Record<string, ResultStatus>>, issues: Issues): ReadStatus {
  return read(obr, 25, table, issues);
}

/**
 * The report's status when OBR-25 is empty: the observations' common status; else unknown
 * when any is (only a mapping row gives that), preliminary while any is pending or
 * preliminary, corrected when any was corrected, final when any is final, and cancelled when
 * all that is left are cancelled and deleted results. Undefined without any OBX-11.
 */
export function deriveStatus(statuses: ResultStatus[]): ResultStatus | undefined {
  if (statuses.length === 0) return undefined;
  if (statuses.every((s) => s === statuses[0])) return statuses[0]!;
  if (statuses.includes('unknown')) return 'unknown';
  if (statuses.some((s) => s === 'registered' || s === 'preliminary')) return 'preliminary';
  if (statuses.some((s) => s === 'corrected' || s === 'amended')) return 'corrected';
  if (statuses.some((s) => s === 'final')) return 'final';
  return 'cancelled';
}
