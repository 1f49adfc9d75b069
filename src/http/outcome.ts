import type { Response } from 'express';
import { ConduitError, InputError, type InputIssue } from '../errors.ts';

/** FHIR OperationOutcome issue types (http://hl7.org/fhir/issue-type) for our issue codes. */
function issueType(code: string): string {
  switch (code) {
    case 'required':
      return 'required';
    case 'invalid_json':
    case 'yaml_syntax':
      return 'structure';
    case 'too_large':
      return 'too-costly';
    case 'signature':
      return 'security';
    case 'backpressure':
      return 'throttled';
    default:
      return 'invalid';
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{ severity: 'error' | 'warning'; code: string; diagnostics: string; expression?: string[]; details?: { text: string } }>;
}

export function operationOutcome(issues: InputIssue[], errorCode?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: 'error',
      code: issueType(i.code),
      diagnostics: `${i.path}: ${i.message}`,
      ...(i.path.startsWith('(') ? {} : { expression: [i.path] }),
      ...(errorCode ? { details: { text: errorCode } } : {}),
    })),
  };
}

/** Answers an error as an OperationOutcome with the status its code calls for. */
export function sendError(res: Response, error: unknown): void {
  if (error instanceof InputError) {
    const status = error.code === 'INPUT_INVALID_JSON' ? 400 : error.code === 'INPUT_TOO_LARGE' ? 413 : error.code === 'INPUT_BAD_SIGNATURE' ? 401 : error.code === 'INPUT_UNSUPPORTED_MEDIA' ? 415 : 422;
    res.status(status).json(operationOutcome([...error.issues], error.code));
    return;
  }
  if (error instanceof ConduitError && (error.code === 'BACKPRESSURE' || error.code === 'STORE_FAILED')) {
    res.status(503).set('Retry-After', '5').json(operationOutcome([{ path: '(engine)', code: 'backpressure', message: error.message }], error.code));
    return;
  }
  if (error instanceof ConduitError) {
    res.status(422).json(operationOutcome([{ path: error.location ?? '(input)', code: 'invalid', message: error.message }], error.code));
    return;
  }
  res.status(500).json(operationOutcome([{ path: '(engine)', code: 'exception', message: 'internal error; see the engine log' }]));
}
