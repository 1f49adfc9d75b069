import type { Dispatcher } from 'undici';
import { ConduitError } from '../../../errors.ts';
import { exchange, type HttpAnswer } from '../exchange.ts';
import { parseRetryAfterMs } from '../retry-after.ts';

/** What a token endpoint granted (RFC 6749 §5.1). */
export interface TokenGrant {
  readonly accessToken: string;
  /** Lifetime in seconds; undefined when the server did not say. */
  readonly expiresInS: number | undefined;
}

/** Longest server-provided text kept in an error detail. */
const MAX_DESCRIPTION = 200;

/**
 * POSTs a token request (form-encoded, RFC 6749 §4.4.2) and reads the answer. Errors say what
 * the endpoint said: RFC 6749 §5.2 error responses (`invalid_client`, `invalid_grant`,
 * `invalid_scope`, …) and other 4xx are AUTH_TOKEN_REJECTED; network failures, timeouts, 408,
 * 429 and 5xx are AUTH_TOKEN_UNAVAILABLE (with Retry-After as `retryAfterMs` in the context);
 * a 2xx without a bearer token is AUTH_TOKEN_RESPONSE_INVALID. Secrets never enter messages.
 */
export async function requestToken(
  tokenUrl: string,
  form: URLSearchParams,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
  dispatcher?: Dispatcher,
): Promise<TokenGrant> {
  let answer: HttpAnswer;
  try {
    answer = await exchange(
      tokenUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
        body: form.toString(),
      },
      timeoutMs,
      signal,
      dispatcher,
    );
  } catch (err) {
    const e = err as ConduitError;
    if (e.code === 'HTTP_ABORTED') throw e;
    throw new ConduitError('AUTH_TOKEN_UNAVAILABLE', `token endpoint: ${e.message} [${e.code}]`, {
      context: { errno: e.context?.['errno'], cause: e.code },
      cause: err,
    });
  }
  return readTokenAnswer(answer);
}

/** Classifies a token endpoint's answer; exported for tests. */
export function readTokenAnswer(answer: HttpAnswer, nowMs: number = Date.now()): TokenGrant {
  const { status } = answer;
  const json = parseJson(answer.body);
  if (status >= 200 && status < 300) {
    const token = json?.['access_token'];
    const type = json?.['token_type'];
    if (typeof token !== 'string' || token === '') {
      throw new ConduitError('AUTH_TOKEN_RESPONSE_INVALID', `token endpoint answered ${status} without an access_token`);
    }
    // RFC 6749 §7.1: the client must understand the token type; we only do RFC 6750 bearer tokens.
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
      throw new ConduitError('AUTH_TOKEN_RESPONSE_INVALID', `token endpoint issued a token of type '${String(type).slice(0, 40)}', not Bearer`);
    }
    return { accessToken: token, expiresInS: expiresIn(json?.['expires_in']) };
  }
  const error = typeof json?.['error'] === 'string' ? json['error'].slice(0, 60) : undefined;
  const description = typeof json?.['error_description'] === 'string' ? json['error_description'].slice(0, MAX_DESCRIPTION) : undefined;
  const said = `token endpoint answered ${status}${error ? ` ${error}` : ''}${description ? `: ${description}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfterMs(answer.headers.get('retry-after'), nowMs);
    throw new ConduitError('AUTH_TOKEN_UNAVAILABLE', said, { context: { status, retryAfterMs } });
  }
  if (status >= 400) throw new ConduitError('AUTH_TOKEN_REJECTED', said, { context: { status, error } });
  throw new ConduitError('AUTH_TOKEN_REJECTED', `${said} (redirects are not followed: check tokenUrl)`, { context: { status } });
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `expires_in` is a number of seconds; some servers send it as a string. */
function expiresIn(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
