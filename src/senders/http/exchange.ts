import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import { ConduitError, type ErrorCode } from '../../errors.ts';
import { describeTlsFailure, isTlsFailure } from './tls-failure.ts';
import { undici } from './undici.ts';

/** One HTTP answer, read in full. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly headers: Record<string, string>;
  /** Text is sent as UTF-8; bytes (a multipart body, a signed body) as they are. */
  readonly body?: string | Uint8Array<ArrayBuffer>;
}

/** Where a transport failure happened, from undici's and Node's error codes; TLS failures are told apart (tls-failure.ts). */
const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

type Cause = { code?: unknown; reason?: unknown; cause?: Cause; errors?: Array<{ code?: unknown }> };

/**
 * The code of a transport error, and Node's `reason` text when it has one (TLS host name
 * mismatches). A socket error caused by a TLS alert (tls-dispatcher.ts) is told by the alert.
 */
function causeOf(err: unknown): { code: string | undefined; reason: string | undefined } {
  let cause = err as Cause | undefined;
  if (cause?.code === 'UND_ERR_SOCKET' && typeof cause.cause?.code === 'string') cause = cause.cause;
  const reason = typeof cause?.reason === 'string' ? cause.reason : undefined;
  if (typeof cause?.code === 'string') return { code: cause.code, reason };
  // Happy eyeballs (autoSelectFamily) reports every address tried in an AggregateError.
  const first = cause?.errors?.[0]?.code;
  return { code: typeof first === 'string' ? first : undefined, reason };
}

/**
 * Sends one request with undici's `request` (the package's own client: a quarter of the CPU of
 * its `fetch`, which builds WHATWG streams, a Request and a Response around every exchange; with
 * a destination's own connection pool and TLS settings, `dispatcher`) and reads the whole answer,
 * within `timeoutMs` (connecting, sending and reading the body together) or until `signal`
 * aborts. Without `dispatcher`, undici's global pool.
 *
 * Any status resolves: classifying it is the caller's business. Transport failures reject with a
 * ConduitError: HTTP_CONNECT_REFUSED and HTTP_CONNECT_FAILED before the request left (safe to
 * resend), HTTP_TLS_FAILED when the TLS handshake fails (the detail says why), HTTP_CONNECTION_LOST, HTTP_TIMEOUT and HTTP_ABORTED after (the peer may have acted on
 * it). Redirects are not followed: a POST turned into a GET, or credentials sent to another
 * origin, would be worse than a clear error.
 */
export async function exchange(url: string, request: HttpRequest, timeoutMs: number, signal: AbortSignal, dispatcher?: Dispatcher): Promise<HttpAnswer> {
  const target = new URL(url);
  const where = target.host;
  // Not AbortSignal.timeout() and AbortSignal.any(): their timer and the ties to the lane's
  // long-lived signal outlive the exchange (30 s by default), keeping thousands of requests'
  // signals and timers alive at a few hundred exchanges a second. Both end with the exchange here.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no complete answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await undici().request(target, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: controller.signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const body = await response.body.text();
    return { status: response.statusCode, headers: headersOf(response.headers), body };
  } catch (err) {
    throw transportError(err, { signal, timedOut, timeoutMs, where });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** The answer's headers as `Headers` (undici's `request` gives a record, repeated ones as arrays). */
function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/** `404 Not Found`: a status and Node's reason phrase for it (the answer's own phrase is not kept). */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

function transportError(
  err: unknown,
  ctx: { signal: AbortSignal; timedOut: boolean; timeoutMs: number; where: string },
): ConduitError {
  const fail = (code: ErrorCode, message: string, errno?: string) =>
    new ConduitError(code, message, { context: { errno, host: ctx.where }, cause: err });
  if (ctx.signal.aborted) return fail('HTTP_ABORTED', `the exchange with ${ctx.where} was aborted`);
  if (ctx.timedOut) return fail('HTTP_TIMEOUT', `no complete answer from ${ctx.where} within ${ctx.timeoutMs} ms`);
  const { code, reason } = causeOf(err);
  if (code === 'ECONNREFUSED') return fail('HTTP_CONNECT_REFUSED', `connection refused by ${ctx.where}`, code);
  if (code !== undefined && isTlsFailure(code)) return fail('HTTP_TLS_FAILED', `TLS with ${ctx.where} failed (${code}): ${describeTlsFailure(code, reason)}`, code);
  if (code !== undefined && CONNECT_ERRORS.has(code)) return fail('HTTP_CONNECT_FAILED', `connecting to ${ctx.where} failed (${code})`, code);
  // ECONNRESET, EPIPE, UND_ERR_SOCKET ("other side closed"), a body cut short, anything else.
  return fail('HTTP_CONNECTION_LOST', `the connection to ${ctx.where} broke before a complete answer (${code ?? (err as Error)?.name ?? 'error'})`, code);
}
