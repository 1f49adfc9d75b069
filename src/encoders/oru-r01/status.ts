import type { LabReport, Observation, ResultStatus } from '../../canonical/report.ts';
import { InputError, type InputIssue } from '../../errors.ts';

/**
 * OBX-11 and OBR-25 of the ORU^R01. A report that came as HL7 v2 carries its codes as sent
 * (`statusText`), so a LIS's own code or a D (delete) is not turned into another one. Other
 * reports (platform events, JSON) get the code of the canonical status from these tables;
 * `unknown` has no code in either, and is refused rather than sent as anything.
 */

/**
 * HL7 table 0085, observation result status (v2.5.1 section 7.4.2.11). v2.5.1 has no code
 * for an amended result (A is v2.6+): C, a correction of a final result, is the nearest.
 * entered-in-error is W, "post original as wrong" (D would delete the OBX at the receiver).
 */
export const OBX_STATUS: Readonly<Record<Exclude<ResultStatus, 'unknown'>, string>> = {
  registered: 'I',
  preliminary: 'P',
  final: 'F',
  corrected: 'C',
  amended: 'C',
  cancelled: 'X',
  'entered-in-error': 'W',
};

/**
 * HL7 table 0123, result status (v2.5.1 section 4.5.3.25), for a report whose source sent no
 * OBR-25 code (OBR-25 is required in an ORU^R01). The table has no code for a report entered
 * in error: its results were sent before and are now withdrawn (each OBX-11 W, "post original
 * as wrong"), which is C, a correction to results. X would say the order was cancelled and no
 * results exist, which is not what happened.
 */
export const OBR_STATUS: Readonly<Record<Exclude<ResultStatus, 'unknown'>, string>> = {
  registered: 'I',
  preliminary: 'P',
  final: 'F',
  corrected: 'C',
  amended: 'C',
  cancelled: 'X',
  'entered-in-error': 'C',
};

export interface StatusCodes {
  readonly obr: string;
  /** OBX-11 of each observation, in order. */
  readonly obx: readonly string[];
}

/** The status codes of a report, or an ENCODING_FAILED error naming every status without one. */
export function statusCodes(report: LabReport): StatusCodes {
  const hl7 = report.provenance.kind === 'hl7v2';
  const issues: InputIssue[] = [];
  const code = (table: typeof OBX_STATUS, status: ResultStatus, text: string | undefined, path: string, field: string): string => {
    if (hl7 && text !== undefined) return text;
    if (status !== 'unknown') return table[status];
    const sent = text === undefined ? '' : ` (sent as '${text}')`;
    issues.push({
      path,
      code: 'invalid_value',
      message: `status 'unknown'${sent} has no ${field} code; map the source's status to one the table knows (final, preliminary …) instead of unknown`,
    });
    return '';
  };
  const obr = code(OBR_STATUS, report.status, report.statusText, 'report.status', 'OBR-25 (HL7 table 0123)');
  const obx = report.observations.map((o: Observation, i) => code(OBX_STATUS, o.status, o.statusText, `report.observations[${i}].status`, 'OBX-11 (HL7 table 0085)'));
  if (issues.length > 0) throw new InputError('ENCODING_FAILED', issues);
  return { obr, obx };
}

/** OBX-11 of an attached document (ED): the report's own status in table 0085. */
export function documentStatus(report: LabReport): string {
  if (report.status === 'unknown') throw new InputError('ENCODING_FAILED', [{ path: 'report.status', code: 'invalid_value', message: "status 'unknown' has no OBX-11 (HL7 table 0085) code" }]);
  return OBX_STATUS[report.status];
}
