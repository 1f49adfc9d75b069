import type { Logger } from 'pino';
import { ConduitError } from '../../../errors.ts';
import { type CompiledExpression, compileExpression } from '../../../mapping/expressions/index.ts';
import { type OutboundMessage, type Sender, type SenderDeps, type SendOutcome, sendByPassed } from '../../types.ts';
import { exchange, type HttpAnswer, type HttpRequest } from '../exchange.ts';
import { classifyAnswer, describeAnswer, failure, type ResponseRules } from './classify.ts';
import type { HttpDestinationConfig } from './config.ts';
import { multipartBody } from './multipart.ts';
import { fillJson, fillPath, fillText, type PlannedRequest, REQUEST_PLAN_CONTENT_TYPE, RequestPlan } from '../../../protocols/http/request-plan.ts';
import { type RequestAuth, requestAuth } from './request-auth.ts';
import { InFlight } from '../../in-flight.ts';
import { warnIfCredentialsInsecure } from '../insecure.ts';
import { type DispatcherFor, sharedTlsDispatchers } from '../tls-dispatcher.ts';

export interface HttpSenderOptions {
  /** Overrides the credentials built from `config.auth`. */
  readonly auth?: RequestAuth;
}

/** How far a message got: requests done and values saved, kept between attempts. */
interface Progress {
  done: number;
  saved: Record<string, unknown>;
}

/** Messages whose progress is remembered per destination; the oldest is forgotten beyond this. */
const MAX_PROGRESS = 10_000;
/** Longest answer body kept per request in the delivery's `response`. */
const MAX_KEPT_BODY = 65_536;

/** One exchange as the admin API shows it (`response` of the attempt): bodies as the partner sent them. */
interface ExchangeRecord {
  step: string;
  method: string;
  path: string;
  status?: number;
  outcome: 'ok' | 'duplicate' | 'skipped' | 'failed';
  body?: unknown;
}

/**
 * Progress by destination config: the lanes of a destination (one sender each) share it, so a
 * message retried on another lane (after a lane-count change) still resumes.
 */
const progressByConfig = new WeakMap<HttpDestinationConfig, Map<string, Progress>>();
/** Compiled `saveAs` expressions by source text, shared by every HTTP destination. */
const saveAsExpressions = new Map<string, CompiledExpression>();


function keptBody(body: string): unknown {
  const text = body.length > MAX_KEPT_BODY ? `${body.slice(0, MAX_KEPT_BODY)}…` : body;
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The path without its query, for details: search parameters may name a patient. */
function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : `${path.slice(0, q)}?…`;
}

/**
 * Delivers to a partner's REST API. A request plan (from a `json-template` mapping) is sent
 * request by request, in order, within one attempt; any other payload is one POST to baseUrl.
 * The message is acknowledged only when every request is; the first refusal rejects it and the
 * first transient failure makes it retryable, remembering how far it got: the next attempt
 * starts at the request that failed, with the values saved so far. After a restart the earlier
 * requests are sent again, and the partner's duplicate answers (`responses.duplicateStatuses`)
 * or an idempotency key make that harmless.
 *
 * Logs carry the message id, step names, methods, statuses and codes, never paths, bodies or
 * credentials.
 */
export class HttpSender implements Sender {
  private readonly base: string;
  private readonly config: HttpDestinationConfig;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly auth: RequestAuth;
  /** Connection pools: the destination's `tls`, or the default. */
  private readonly dispatcherFor: DispatcherFor;
  private readonly rules: ResponseRules;
  private readonly progress: Map<string, Progress>;
  private readonly log: Logger;
  private readonly inFlight = new InFlight();
  private closed = false;

  /** Throws CONFIG_INVALID when a SMART private key or a `tls` file cannot be read or used. */
  constructor(config: HttpDestinationConfig, deps: SenderDeps, options: HttpSenderOptions = {}) {
    const base = new URL(config.baseUrl);
    this.config = config;
    this.base = config.baseUrl.replace(/\/+$/, '');
    this.headers = Object.freeze({ accept: 'application/json', ...lowerCaseKeys(config.headers ?? {}) });
    this.dispatcherFor = sharedTlsDispatchers(config.tls, config.baseUrl);
    this.auth = options.auth ?? requestAuth(config.auth, { timeoutMs: config.timeoutMs, dispatcherFor: this.dispatcherFor });
    this.rules = {
      duplicateStatuses: config.responses.duplicateStatuses,
      duplicatePattern: config.responses.duplicateBodyPattern === undefined ? undefined : new RegExp(config.responses.duplicateBodyPattern),
    };
    let progress = progressByConfig.get(config);
    if (!progress) {
      progress = new Map();
      progressByConfig.set(config, progress);
    }
    this.progress = progress;
    this.log = deps.log.child({ sender: 'http', host: base.host });
    warnIfCredentialsInsecure(this.log, base, config.auth);
  }

  /** Resolves with the outcome; never rejects. */
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    return this.inFlight.track(this.attempt(message, signal).catch((err: unknown) => this.failed(err, message)));
  }

  /** Later sends fail with HTTP_ABORTED; waits for the sends in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight.settled();
  }

  private async attempt(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    if (this.closed) return failure('HTTP_ABORTED', 'the sender is closed');
    if (signal.aborted) return failure('HTTP_ABORTED', 'aborted before anything was sent');
    if (message.contentType !== REQUEST_PLAN_CONTENT_TYPE) return this.sendPayload(message, signal);
    let plan: RequestPlan;
    try {
      plan = RequestPlan.parse(JSON.parse(message.payload));
    } catch {
      this.log.warn({ messageId: message.messageId, code: 'HTTP_PAYLOAD_INVALID' }, 'request plan unreadable');
      return failure('HTTP_PAYLOAD_INVALID', 'the payload is marked as a request plan but is not a JSON array of requests');
    }
    return this.sendPlan(plan, message, signal);
  }

  /** A payload that is no plan (an ORU^R01, a FHIR Bundle, any JSON): one POST to baseUrl with its own content type. */
  private async sendPayload(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    const records: ExchangeRecord[] = [];
    const request: PlannedRequest = { step: 'payload', method: 'POST', path: '/' };
    const result = await this.exchangeOne(this.config.baseUrl, request, message.payload, message.contentType, message, 0, signal);
    records.push({ step: 'payload', method: 'POST', path: '/', status: result.answer.status, outcome: result.outcome, body: keptBody(result.answer.body) });
    if (result.outcome === 'failed') return this.settle(message, failure(result.code, result.reason, { response: JSON.stringify(records), retryAfterMs: result.retryAfterMs }));
    return this.settle(message, { status: 'acknowledged', response: JSON.stringify(records), detail: summary(records) });
  }

  private async sendPlan(plan: RequestPlan, message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    const progress = this.progress.get(message.messageId) ?? { done: 0, saved: {} };
    const startedAt = progress.done;
    const records: ExchangeRecord[] = [];
    const total = plan.length;
    if (total === 0) return { status: 'acknowledged', response: '[]', detail: 'no requests: every step of the mapping was skipped by its when' };
    const respond = () => JSON.stringify(records);
    for (let i = progress.done; i < total; i++) {
      const r = plan[i]!;
      const where = `request ${i + 1}/${total} (${r.step}) ${r.method} ${pathOnly(r.path)}`;
      if (r.skipIfSaved?.some((name) => progress.saved[name] !== undefined && progress.saved[name] !== null)) {
        records.push({ step: r.step, method: r.method, path: pathOnly(r.path), outcome: 'skipped' });
        progress.done = i + 1;
        continue;
      }
      const missing = new Set<string>();
      const path = fillPath(r.path, progress.saved, missing);
      const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), fillText(v, progress.saved, missing)]));
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      let contentType: string | undefined;
      if (r.form !== undefined) {
        const form = Object.fromEntries(Object.entries(r.form).map(([k, v]) => [k, typeof v === 'string' ? fillText(v, progress.saved, missing) : v]));
        ({ body, contentType } = multipartBody(form));
      } else if (r.body !== undefined) {
        body = JSON.stringify(fillJson(r.body, progress.saved, missing));
        contentType = 'application/json';
      }
      if (missing.size > 0) {
        // An earlier answer lacked what its saveAs reads: start over, so the next attempt asks again.
        this.progress.delete(message.messageId);
        const names = [...missing].join(', ');
        this.log.warn({ messageId: message.messageId, step: r.step, code: 'HTTP_RESPONSE_INVALID' }, 'a saved value is missing');
        return this.settle(message, failure('HTTP_RESPONSE_INVALID', `${where}: no value saved for {{${names}}}; the earlier answers did not hold it`, { response: respond() }), progress, false);
      }
      let result: Awaited<ReturnType<HttpSender['exchangeOne']>>;
      try {
        result = await this.exchangeOne(this.base + path, r, body, contentType, message, i, signal, headers);
      } catch (err) {
        if (!(err instanceof ConduitError)) throw err;
        records.push({ step: r.step, method: r.method, path: pathOnly(path), outcome: 'failed' });
        this.log.warn({ messageId: message.messageId, step: r.step, method: r.method, code: err.code, errno: err.context['errno'] }, 'partner request failed');
        const retryAfterMs = err.context['retryAfterMs'];
        return this.settle(message, failure(err.code, `${where}: ${err.message}`, { response: respond(), retryAfterMs: typeof retryAfterMs === 'number' ? retryAfterMs : undefined }), progress);
      }
      const record: ExchangeRecord = { step: r.step, method: r.method, path: pathOnly(path), status: result.answer.status, outcome: result.outcome, body: keptBody(result.answer.body) };
      records.push(record);
      if (result.outcome === 'failed') {
        this.log.warn({ messageId: message.messageId, step: r.step, method: r.method, status: result.answer.status, code: result.code }, 'partner request failed');
        return this.settle(message, failure(result.code, `${where}: ${result.reason}`, { response: respond(), retryAfterMs: result.retryAfterMs }), progress);
      }
      if (r.saveAs) await this.save(r.saveAs, result.answer, progress.saved);
      progress.done = i + 1;
    }
    const resumed = startedAt > 0 ? `resumed after ${startedAt} request(s) done in an earlier attempt; ` : '';
    return this.settle(message, { status: 'acknowledged', response: respond(), detail: resumed + summary(records) });
  }

  /** Evaluates each `saveAs` expression over the answer's JSON body (or its text), `$status` and `$headers` bound. */
  private async save(saveAs: Readonly<Record<string, string>>, answer: HttpAnswer, saved: Record<string, unknown>): Promise<void> {
    let input: unknown = answer.body;
    try {
      input = answer.body === '' ? undefined : JSON.parse(answer.body);
    } catch {
      // A text answer: expressions see the text.
    }
    const bindings = { status: answer.status, headers: Object.fromEntries(answer.headers) };
    for (const [name, source] of Object.entries(saveAs)) {
      let expr = saveAsExpressions.get(source);
      if (!expr) {
        expr = compileExpression(source);
        saveAsExpressions.set(source, expr);
      }
      const v = await expr.evaluate(input, bindings);
      if (v !== undefined && v !== null && typeof v !== 'function') saved[name] = v;
    }
  }

  /**
   * One request: credentials over the exact body bytes, a 401 answered once more with a fresh
   * token, then the verdict. Transport and token failures reject with a ConduitError.
   */
  private async exchangeOne(
    url: string,
    r: Pick<PlannedRequest, 'method'>,
    body: string | Uint8Array<ArrayBuffer> | undefined,
    contentType: string | undefined,
    message: OutboundMessage,
    index: number,
    signal: AbortSignal,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ answer: HttpAnswer; outcome: 'ok' | 'duplicate' } | { answer: HttpAnswer; outcome: 'failed'; code: ConduitError['code']; reason: string; retryAfterMs?: number | undefined }> {
    const headers: Record<string, string> = { ...this.headers, ...extraHeaders };
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (this.config.idempotencyKeyHeader) headers[this.config.idempotencyKeyHeader.toLowerCase()] = `${message.controlId}-${index + 1}`;
    const send = async (): Promise<{ answer: HttpAnswer; credentials: Record<string, string> }> => {
      const credentials = await this.auth.headers(body ?? '', signal);
      // Each request of a plan, and a token request before it, can outlast the lane's lease.
      const late = sendByPassed(message);
      if (late) throw late;
      const request: HttpRequest = { method: r.method, headers: { ...headers, ...credentials }, ...(body === undefined ? {} : { body }) };
      return { answer: await exchange(url, request, this.config.timeoutMs, signal, this.dispatcherFor(url)), credentials };
    };
    let { answer, credentials } = await send();
    let verdict = classifyAnswer(answer, this.rules, this.auth.refreshable);
    if (verdict.kind === 'unauthorized') {
      if (this.auth.invalidate(credentials)) {
        this.log.info({ messageId: message.messageId, status: 401 }, 'partner refused the token; retrying once with a fresh one');
        ({ answer, credentials } = await send());
        verdict = classifyAnswer(answer, this.rules, false);
      } else verdict = { kind: 'failed', code: 'AUTH_UNAUTHORIZED', reason: describeAnswer(answer) };
    }
    if (verdict.kind === 'ok' || verdict.kind === 'duplicate') return { answer, outcome: verdict.kind };
    if (verdict.kind === 'unauthorized') return { answer, outcome: 'failed', code: 'AUTH_UNAUTHORIZED', reason: describeAnswer(answer) };
    return { answer, outcome: 'failed', code: verdict.code, reason: verdict.reason, retryAfterMs: verdict.retryAfterMs };
  }

  /**
   * Remembers the progress of a message that will be tried again, forgets it once settled.
   * `keep` false forgets it either way (the next attempt starts over).
   */
  private settle(message: OutboundMessage, outcome: SendOutcome, progress?: Progress, keep = true): SendOutcome {
    this.progress.delete(message.messageId);
    if (outcome.status === 'retryable' && progress && keep && progress.done > 0) {
      this.progress.set(message.messageId, progress);
      if (this.progress.size > MAX_PROGRESS) this.progress.delete(this.progress.keys().next().value!);
    }
    if (outcome.status === 'acknowledged') this.log.debug({ messageId: message.messageId }, 'partner API accepted the message');
    return outcome;
  }

  private failed(err: unknown, message: OutboundMessage): SendOutcome {
    if (err instanceof ConduitError) {
      this.log.warn({ messageId: message.messageId, code: err.code, errno: err.context['errno'] }, 'partner delivery attempt failed');
      const retryAfterMs = err.context['retryAfterMs'];
      return failure(err.code, err.message, typeof retryAfterMs === 'number' ? { retryAfterMs } : {});
    }
    // Not a delivery failure: a bug. Still resolve, so one message cannot stall its lane.
    this.log.error({ messageId: message.messageId, error: (err as Error)?.name }, 'HTTP sender: unexpected error');
    return failure('HTTP_CONNECTION_LOST', `unexpected error: ${(err as Error)?.name ?? 'unknown'}`);
  }
}

/** "3 requests: POST 409 (duplicate), POST 201, POST skipped". */
function summary(records: readonly ExchangeRecord[]): string {
  const parts = records.map((r) => `${r.step} ${r.method} ${r.outcome === 'skipped' ? 'skipped' : `${r.status}${r.outcome === 'duplicate' ? ' (duplicate)' : ''}`}`);
  return `${records.length} request${records.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
