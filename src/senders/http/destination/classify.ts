import { type ErrorCode, ErrorCodes } from '../../../errors.ts';
import type { SendOutcome } from '../../types.ts';
import { type HttpAnswer, statusLine } from '../exchange.ts';
import { parseRetryAfterMs } from '../retry-after.ts';

/** Longest detail kept with an outcome; the raw bodies are in `response` anyway. */
const MAX_DETAIL = 2000;
/** Longest piece of a non-JSON error body quoted in a detail. */
const MAX_TEXT = 300;

export interface ResponseRules {
  readonly duplicateStatuses: readonly number[];
  readonly duplicatePattern?: RegExp | undefined;
}

/** What one answer means for the request that got it. */
export type Verdict =
  | { readonly kind: 'ok' }
  /** A configured "already exists" answer: delivered before, by an earlier attempt or another system. */
  | { readonly kind: 'duplicate' }
  /** 401 with a credential that a fresh token may replace: the caller asks again once. */
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'failed'; readonly code: ErrorCode; readonly reason: string; readonly retryAfterMs?: number | undefined };

export function failure(code: ErrorCode, detail: string, extra: { response?: string | undefined; retryAfterMs?: number | undefined } = {}): SendOutcome {
  const response = extra.response === undefined ? {} : { response: extra.response };
  const text = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
  if (ErrorCodes[code].retry === 'permanent') return { status: 'rejected', code, detail: text, ...response };
  return { status: 'retryable', code, detail: text, ...response, ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }) };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** One entry of an `errors` list: a string, or an object with a message and maybe the field. */
function errorEntry(e: unknown): string | undefined {
  if (typeof e === 'string') return str(e);
  if (e === null || typeof e !== 'object') return undefined;
  const o = e as Record<string, unknown>;
  const text = str(o['message']) ?? str(o['detail']) ?? str(o['description']);
  const field = str(o['field']) ?? str(o['path']) ?? str(o['pointer']);
  return text === undefined ? undefined : field ? `${field}: ${text}` : text;
}

/**
 * What the API said, in its own words: the usual fields of JSON error bodies (`error` and
 * `message`, RFC 9457 problem details `title` and `detail`, RFC 6749 `error_description`, an
 * `errors` list), else the start of a text body. Undefined for an empty or HTML body.
 */
export function apiMessage(body: string): string | undefined {
  const json = parseJson(body);
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    const nested = o['error'] !== null && typeof o['error'] === 'object' ? (o['error'] as Record<string, unknown>) : undefined;
    const label = str(o['error']) ?? str(o['code']) ?? str(nested?.['code']) ?? str(o['title']);
    const text = str(o['message']) ?? str(o['detail']) ?? str(o['error_description']) ?? str(nested?.['message']);
    const listed = Array.isArray(o['errors']) ? o['errors'].map(errorEntry).filter((e) => e !== undefined) : [];
    const parts = [label && text && label !== text ? `${label}: ${text}` : (text ?? label), ...listed].filter((p) => p !== undefined);
    if (parts.length > 0) return parts.join('; ');
  }
  if (Array.isArray(json)) {
    const listed = json.map(errorEntry).filter((e) => e !== undefined);
    if (listed.length > 0) return listed.join('; ');
  }
  const text = body.replace(/\s+/g, ' ').trim();
  if (text === '' || text.startsWith('<')) return undefined;
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/** `403 Forbidden: FORBIDDEN: missing permission Create Patients`. */
export function describeAnswer(answer: HttpAnswer): string {
  const line = statusLine(answer.status);
  const said = apiMessage(answer.body);
  return said ? `${line}: ${said}` : line;
}

/**
 * What one answer of a partner API means. 401 is `unauthorized` only when `canRefresh` (a
 * token that a fresh one may replace); otherwise it refuses like any credential error.
 */
export function classifyAnswer(answer: HttpAnswer, rules: ResponseRules, canRefresh: boolean, nowMs: number = Date.now()): Verdict {
  const { status } = answer;
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (rules.duplicateStatuses.includes(status) && (rules.duplicatePattern === undefined || rules.duplicatePattern.test(answer.body))) {
    return { kind: 'duplicate' };
  }
  const reason = describeAnswer(answer);
  const retryAfterMs = parseRetryAfterMs(answer.headers.get('retry-after'), nowMs);
  if (status === 401) return canRefresh ? { kind: 'unauthorized' } : { kind: 'failed', code: 'AUTH_UNAUTHORIZED', reason };
  if (status === 403) return { kind: 'failed', code: 'AUTH_FORBIDDEN', reason };
  if (status === 408) return { kind: 'failed', code: 'HTTP_REQUEST_TIMEOUT', reason, retryAfterMs };
  if (status === 429) return { kind: 'failed', code: 'HTTP_TOO_MANY_REQUESTS', reason, retryAfterMs };
  if (status >= 400 && status < 500) return { kind: 'failed', code: 'HTTP_CLIENT_ERROR', reason };
  if (status >= 500 && status < 600) return { kind: 'failed', code: 'HTTP_SERVER_ERROR', reason, retryAfterMs };
  return { kind: 'failed', code: 'HTTP_UNEXPECTED_STATUS', reason: `${reason} (redirects are not followed: check baseUrl and the path)` };
}
