import type { Response } from 'express';
import { ConduitError, InputError, type InputIssue, inboundAnswer } from '../errors.ts';
import type { LogThrottle } from '../log-throttle.ts';

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

/** The status, headers and OperationOutcome an error is answered with, from the error-code table (src/errors.ts). */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (!(error instanceof ConduitError)) {
    return { status: 500, headers: {}, body: operationOutcome([{ path: '(engine)', code: 'exception', message: 'internal error; see the engine log' }]) };
  }
  const { http } = inboundAnswer(error.code);
  // A client is told when to try again rather than left to guess.
  const headers: Record<string, string> = http === 503 ? { 'Retry-After': '5' } : {};
  if (error instanceof InputError) return { status: http, headers, body: operationOutcome([...error.issues], error.code) };
  const issue: InputIssue =
    http === 503 ? { path: '(engine)', code: 'backpressure', message: error.message } : { path: error.location ?? '(input)', code: 'invalid', message: error.message };
  return { status: http, headers, body: operationOutcome([issue], error.code) };
}

/** Answers an error on an express response. */
export function sendError(res: Response, error: unknown): void {
  const a = errorAnswer(error);
  res.status(a.status).set(a.headers).json(a.body);
}

/**
 * Logs a source's intake error, at most once a second per code (issue 8: a line per refused
 * request floods the log under overload): BACKPRESSURE as a warning, an InputError (the
 * sender's, answered with its issues) not at all, anything else as an error.
 */
export function logIntakeError(throttle: LogThrottle, channel: string, e: unknown, messages: { readonly backlog: string; readonly failed: string }): void {
  if (e instanceof ConduitError && e.code === 'BACKPRESSURE') {
    throttle.warn('BACKPRESSURE', { channel, code: e.code }, messages.backlog);
  } else if (!(e instanceof InputError)) {
    throttle.error(e instanceof ConduitError ? e.code : 'internal', { err: e, channel }, messages.failed);
  }
}
