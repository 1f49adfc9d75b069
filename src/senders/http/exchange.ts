import { ConduitError, type ErrorCode } from '../../errors.ts';

/** One HTTP answer, read in full. */
export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly headers: Record<string, string>;
  /** Text is sent as UTF-8; bytes (a multipart body, a signed body) as they are. */
  readonly body?: string | Uint8Array<ArrayBuffer>;
}

/** Where a transport failure happened, from undici's error codes (the `cause` of `fetch failed`). */
const CONNECT_ERRORS: ReadonlySet<string> = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO',
]);

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: unknown })?.cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  // Happy eyeballs (autoSelectFamily) reports every address tried in an AggregateError.
  const first = (cause as { errors?: Array<{ code?: unknown }> } | undefined)?.errors?.[0]?.code;
  return typeof first === 'string' ? first : undefined;
}

/**
 * Sends one request with Node's built-in fetch and reads the whole answer, within `timeoutMs`
 * (connecting, sending and reading the body together) or until `signal` aborts.
 *
 * Any status resolves: classifying it is the caller's business. Transport failures reject with a
 * ConduitError: HTTP_CONNECT_REFUSED and HTTP_CONNECT_FAILED before the request left (safe to
 * resend), HTTP_CONNECTION_LOST, HTTP_TIMEOUT and HTTP_ABORTED after (the peer may have acted on
 * it). Redirects are not followed: a POST turned into a GET, or credentials sent to another
 * origin, would be worse than a clear error.
 */
export async function exchange(url: string, request: HttpRequest, timeoutMs: number, signal: AbortSignal): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const target = new URL(url);
  const where = target.host;
  try {
    const response = await fetch(target, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.any([signal, timeout]),
    });
    const body = await response.text();
    return { status: response.status, statusText: response.statusText, headers: response.headers, body };
  } catch (err) {
    throw transportError(err, { signal, timeout, timeoutMs, where });
  }
}

function transportError(
  err: unknown,
  ctx: { signal: AbortSignal; timeout: AbortSignal; timeoutMs: number; where: string },
): ConduitError {
  const fail = (code: ErrorCode, message: string, errno?: string) =>
    new ConduitError(code, message, { context: { errno, host: ctx.where }, cause: err });
  if (ctx.signal.aborted) return fail('HTTP_ABORTED', `the exchange with ${ctx.where} was aborted`);
  if (ctx.timeout.aborted) return fail('HTTP_TIMEOUT', `no complete answer from ${ctx.where} within ${ctx.timeoutMs} ms`);
  const code = causeCode(err);
  if (code === 'ECONNREFUSED') return fail('HTTP_CONNECT_REFUSED', `connection refused by ${ctx.where}`, code);
  if (code !== undefined && CONNECT_ERRORS.has(code)) return fail('HTTP_CONNECT_FAILED', `connecting to ${ctx.where} failed (${code})`, code);
  // ECONNRESET, EPIPE, UND_ERR_SOCKET ("other side closed"), a body cut short, anything else.
  return fail('HTTP_CONNECTION_LOST', `the connection to ${ctx.where} broke before a complete answer (${code ?? (err as Error)?.name ?? 'error'})`, code);
}
