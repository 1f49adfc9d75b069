import { type ErrorCode, ErrorCodes } from '../../errors.ts';
import { type HttpAnswer, statusLine } from '../http/exchange.ts';
import { parseRetryAfterMs } from '../http/retry-after.ts';
import type { SendOutcome } from '../types.ts';

/** What was sent: the Bundle type decides the answer expected (FHIR R4 http.html#transaction). */
export interface SentBundle {
  readonly type: 'transaction' | 'batch';
  readonly entries: number;
}

/** Longest detail kept with an outcome; the raw body is in `response` anyway. */
const MAX_DETAIL = 2000;

export function failure(code: ErrorCode, detail: string, extra: { response?: string; retryAfterMs?: number | undefined } = {}): SendOutcome {
  const response = extra.response === undefined ? {} : { response: extra.response };
  const text = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
  if (ErrorCodes[code].retry === 'permanent') return { status: 'rejected', code, detail: text, ...response };
  return { status: 'retryable', code, detail: text, ...response, ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }) };
}

/** The Bundle type and entry count of a payload, or undefined when it is no batch or transaction Bundle. */
export function inspectBundle(payload: string): SentBundle | undefined {
  let bundle: unknown;
  try {
    bundle = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const b = bundle as { resourceType?: unknown; type?: unknown; entry?: unknown } | null;
  if (b?.resourceType !== 'Bundle' || (b.type !== 'transaction' && b.type !== 'batch')) return undefined;
  return { type: b.type, entries: Array.isArray(b.entry) ? b.entry.length : 0 };
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

interface Issue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  details?: { text?: string };
  expression?: string[];
}

/** The issues of an OperationOutcome as one line: errors (and fatals) when there are any, else all. */
export function operationOutcomeText(outcome: unknown): string | undefined {
  const oo = outcome as { resourceType?: unknown; issue?: unknown } | undefined;
  if (oo?.resourceType !== 'OperationOutcome' || !Array.isArray(oo.issue)) return undefined;
  const issues = oo.issue as Issue[];
  const errors = issues.filter((i) => i?.severity === 'error' || i?.severity === 'fatal');
  const text = (errors.length > 0 ? errors : issues)
    .map((i) => {
      const what = i?.details?.text ?? i?.diagnostics ?? i?.code ?? 'issue';
      const where = Array.isArray(i?.expression) && i.expression.length > 0 ? ` (${i.expression.join(', ')})` : '';
      return `${what}${where}`;
    })
    .join('; ');
  return text === '' ? undefined : text;
}

/** `201 Created` for an entry status of `201` or `201 Created`. */
function entryStatusLine(status: string): string {
  return status.length > 3 ? status : statusLine(Number(status.slice(0, 3)));
}

/** "7 entries: 5×201 Created, 2×200 OK": the entry statuses, most frequent first. */
export function summarizeStatuses(statuses: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(entryStatusLine(s), (counts.get(entryStatusLine(s)) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s, n]) => `${n}×${s}`);
  return `${statuses.length} ${statuses.length === 1 ? 'entry' : 'entries'}: ${parts.join(', ')}`;
}

function describe(answer: HttpAnswer): string {
  const line = statusLine(answer.status);
  const text = operationOutcomeText(parseObject(answer.body));
  return text ? `${line}: ${text}` : line;
}

/**
 * What a FHIR server's answer to a batch or transaction Bundle means for the dispatcher.
 * 401 arrives here only when a fresh token did not help.
 */
export function classifyAnswer(answer: HttpAnswer, sent: SentBundle, nowMs: number = Date.now()): SendOutcome {
  const { status, body } = answer;
  const response = { response: body };
  if (status >= 200 && status < 300) return classifyBundle(body, sent);
  const retryAfterMs = parseRetryAfterMs(answer.headers.get('retry-after'), nowMs);
  if (status === 401) return failure('AUTH_UNAUTHORIZED', describe(answer), response);
  if (status === 403) return failure('AUTH_FORBIDDEN', describe(answer), response);
  if (status === 408) return failure('HTTP_REQUEST_TIMEOUT', describe(answer), { ...response, retryAfterMs });
  if (status === 429) return failure('HTTP_TOO_MANY_REQUESTS', describe(answer), { ...response, retryAfterMs });
  if (status >= 400 && status < 500) return failure('HTTP_CLIENT_ERROR', describe(answer), response);
  if (status >= 500 && status < 600) return failure('HTTP_SERVER_ERROR', describe(answer), { ...response, retryAfterMs });
  return failure('HTTP_UNEXPECTED_STATUS', `${describe(answer)} (redirects are not followed: check baseUrl)`, response);
}

interface ResponseEntry {
  response?: { status?: unknown; outcome?: unknown };
}

/**
 * A 2xx answer: the `transaction-response` (or `batch-response`) Bundle with one entry per
 * request entry, in the same order (FHIR R4 http.html#transaction-response). Delivered when
 * every entry is 2xx; a 4xx entry makes the message rejected, otherwise a 5xx entry retryable.
 */
function classifyBundle(body: string, sent: SentBundle): SendOutcome {
  const response = { response: body };
  const bundle = parseObject(body);
  const expected = `${sent.type}-response`;
  if (bundle?.['resourceType'] !== 'Bundle' || bundle['type'] !== expected) {
    const got = bundle?.['resourceType'] === 'Bundle' ? `a Bundle of type '${String(bundle['type'])}'` : bundle ? `a ${String(bundle['resourceType'])}` : 'no JSON object';
    return failure('FHIR_RESPONSE_INVALID', `expected a ${expected} Bundle, got ${got}`, response);
  }
  const entries = (Array.isArray(bundle['entry']) ? bundle['entry'] : []) as ResponseEntry[];
  if (entries.length !== sent.entries) {
    return failure('FHIR_RESPONSE_INVALID', `${expected} has ${entries.length} entries for the ${sent.entries} sent`, response);
  }
  const statuses = entries.map((e) => (typeof e?.response?.status === 'string' ? e.response.status.trim() : ''));
  const bad = statuses.findIndex((s) => !/^[1-5]\d\d\b/.test(s));
  if (bad >= 0) return failure('FHIR_RESPONSE_INVALID', `entry[${bad}] of the ${expected} has no valid response.status`, response);
  const summary = summarizeStatuses(statuses);
  const entryText = (i: number) => {
    const text = operationOutcomeText(entries[i]?.response?.outcome);
    return `entry[${i}] ${entryStatusLine(statuses[i]!)}${text ? `: ${text}` : ''}`;
  };
  // 1xx and 3xx make no sense for an entry that writes: treated as refusals, like 4xx.
  const rejected = statuses.flatMap((s, i) => (/^[134]/.test(s) ? [i] : []));
  if (rejected.length > 0) return failure('FHIR_ENTRY_REJECTED', `${summary}; ${rejected.map(entryText).join('; ')}`, response);
  const errored = statuses.flatMap((s, i) => (s.startsWith('5') ? [i] : []));
  if (errored.length > 0) return failure('FHIR_ENTRY_FAILED', `${summary}; ${errored.map(entryText).join('; ')}`, response);
  return { status: 'acknowledged', response: body, detail: summary };
}
