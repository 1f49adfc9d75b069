import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { ConduitError } from '../errors.ts';

/** A FHIR OperationOutcome with one issue; never the error's own message or stack (they may quote input or hold paths). */
function outcome(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** What a status says, for a request that failed before any route could answer it. */
function describe(status: number): { code: string; diagnostics: string } {
  switch (status) {
    case 400:
      return { code: 'invalid', diagnostics: 'the request could not be read (malformed URL, percent-encoding or parameters)' };
    case 408:
      return { code: 'timeout', diagnostics: 'the request did not arrive in time' };
    case 413:
      return { code: 'too-costly', diagnostics: 'the request is too large' };
    case 431:
      return { code: 'too-costly', diagnostics: 'the request headers are too large' };
    case 501:
      return { code: 'not-supported', diagnostics: 'the request method is not supported' };
    default:
      return status >= 500 ? { code: 'exception', diagnostics: 'internal error; see the engine log' } : { code: 'invalid', diagnostics: 'the request was refused' };
  }
}

/**
 * The last express middleware: any error (a malformed percent-encoding in a path, a handler
 * that threw) becomes a JSON OperationOutcome, never express's HTML page with a stack and
 * absolute paths.
 */
export function jsonErrorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const declared = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
    const status = typeof declared === 'number' && declared >= 400 && declared <= 599 ? declared : 500;
    if (status >= 500) log.error({ err, method: req.method }, 'an HTTP request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ConduitError && (err.code === 'STORE_KEY_UNKNOWN' || err.code === 'STORE_SEAL_INVALID')) {
      // A row the store cannot open (store/sealing/): its message names the table, row and key, never content.
      res.status(500).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: err.message, details: { text: err.code } }] });
      return;
    }
    const d = describe(status);
    res.status(status).json(outcome(d.code, d.diagnostics));
  };
}

/** node:http error codes of a request that could not be parsed, and the status each gets. */
function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_INVALID_METHOD') return 501;
  return 400;
}

/**
 * The server's `clientError` handler: a request node could not parse (headers too large or
 * too slow, an unknown method, a malformed request line) gets a JSON OperationOutcome
 * before the connection closes, instead of node's bare status line.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const code = err.code;
  // Nothing to answer: the peer is gone, or an answer is already on its way.
  if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(code);
  const d = describe(status);
  const text = JSON.stringify(outcome(d.code, d.diagnostics));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};
