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

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: OperationOutcome;
}

/** The status, headers and OperationOutcome an error is answered with. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof InputError) {
    const status = error.code === 'INPUT_INVALID_JSON' ? 400 : error.code === 'INPUT_TOO_LARGE' ? 413 : error.code === 'INPUT_BAD_SIGNATURE' ? 401 : error.code === 'INPUT_UNSUPPORTED_MEDIA' ? 415 : 422;
    return { status, headers: {}, body: operationOutcome([...error.issues], error.code) };
  }
  if (error instanceof ConduitError && (error.code === 'BACKPRESSURE' || error.code === 'STORE_FAILED')) {
    return { status: 503, headers: { 'Retry-After': '5' }, body: operationOutcome([{ path: '(engine)', code: 'backpressure', message: error.message }], error.code) };
  }
  if (error instanceof ConduitError) {
    return { status: 422, headers: {}, body: operationOutcome([{ path: error.location ?? '(input)', code: 'invalid', message: error.message }], error.code) };
  }
  return { status: 500, headers: {}, body: operationOutcome([{ path: '(engine)', code: 'exception', message: 'internal error; see the engine log' }]) };
}

/** Answers an error on an express response. */
export function sendError(res: Response, error: unknown): void {
  const a = errorAnswer(error);
  res.status(a.status).set(a.headers).json(a.body);
}
