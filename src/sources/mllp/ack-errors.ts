import { type ConduitError, InputError, type InputIssue, inboundAnswer } from '../../errors.ts';
import { type AckError, ErrorCondition } from '../../protocols/hl7v2/index.ts';

/** Issue reasons whose ERR-3 is more specific than their error code's (HL7 table 0357). */
const ISSUE_CONDITIONS: Readonly<Record<string, ErrorCondition>> = {
  required: ErrorCondition.requiredFieldMissing,
  segment_missing: ErrorCondition.segmentSequenceError,
  table_value: ErrorCondition.tableValueNotFound,
};

function ackError(issue: InputIssue, fallback: ErrorCondition): AckError {
  return {
    code: ISSUE_CONDITIONS[issue.code] ?? fallback,
    ...issue.hl7,
    text: `${issue.path}: ${issue.message}`,
  };
}

/**
 * The ERR segments for an error refused at intake: ERR-2 from each issue's structured HL7
 * location, ERR-3 from the error-code table (src/errors.ts) unless the issue says more.
 */
export function ackErrors(error: ConduitError): AckError[] {
  const { condition } = inboundAnswer(error.code);
  if (error instanceof InputError) return error.issues.map((i) => ackError(i, condition));
  return [{ code: condition, text: error.message }];
}
