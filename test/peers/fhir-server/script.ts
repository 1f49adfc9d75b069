import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** A request as a script sees it, before the peer handles it. */
export interface ScriptedRequest {
  /** 0 for the first request the peer received. */
  readonly index: number;
  readonly method: string;
  /** Path and query, relative to the peer's base. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * What the peer does with one request:
 * - an answer: sent as is (an object body as JSON);
 * - 'drop': the socket is destroyed without an answer;
 * - 'hang': no answer, ever (until the peer closes);
 * - 'pass' or undefined: the peer handles the request normally.
 */
export type ScriptedAnswer =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string | object }
  | 'drop'
  | 'hang'
  | 'pass'
  | undefined;

export type Script = (request: ScriptedRequest) => ScriptedAnswer | Promise<ScriptedAnswer>;

/** A script answering the next requests with `answers`, one each, then passing every later one. */
export function sequence(...answers: ScriptedAnswer[]): Script {
  const left = [...answers];
  return () => left.shift();
}

/** An OperationOutcome with one error issue, for scripted answers. */
export function operationOutcome(code: string, text: string): object {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

/** Applies a scripted answer. Returns false when the request is to be handled normally. */
export function applyScripted(answer: ScriptedAnswer, req: IncomingMessage, res: ServerResponse, contentType: string): boolean {
  if (answer === undefined || answer === 'pass') return false;
  if (answer === 'drop') {
    req.socket.destroy();
    return true;
  }
  if (answer === 'hang') return true;
  const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...(body === '' ? {} : { 'content-type': contentType }), ...answer.headers });
  res.end(body);
  return true;
}

/** The whole body of a request, as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
