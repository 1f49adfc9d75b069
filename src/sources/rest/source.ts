import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError } from '../../errors.ts';
import { bodyRefusal } from '../../http/body.ts';
import { errorAnswer, logIntakeError } from '../../http/outcome.ts';
import { answerRequest, pathOf, sendJson } from '../../http/routes.ts';
import { LogThrottle } from '../../log-throttle.ts';
import { auditRefusal } from '../refusal-audit.ts';
import { clientCertificateGate } from '../client-certificate.ts';
import { sourceRateLimit } from '../rate-limit.ts';
import { decodeUtf8 } from '../text.ts';
import type { Source, SourceContext } from '../types.ts';
import { submitterAuth } from './auth.ts';
import type { RestSourceConfig } from './config.ts';
import { submissionStatus } from './status.ts';
import { parseJson } from '../../mapping/json-input.ts';

export function restPath(channelId: string, config: RestSourceConfig): string {
  return config.path ?? `/channels/${channelId}/submissions`;
}

/** RFC 9110 token-ish: visible ASCII, as Stripe and the IETF httpapi idempotency draft use; 255 at most. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** Submission ids are message ids (ULIDs); anything else cannot be one. */
const SUBMISSION_ID = /^[0-9A-Za-z]{1,64}$/;

/** A FHIR OperationOutcome with one issue (http://hl7.org/fhir/issue-type codes). */
function outcome(code: string, diagnostics: string, where?: string) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics: where ? `${where}: ${diagnostics}` : diagnostics, ...(where && !where.startsWith('(') ? { expression: [where] } : {}) }],
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** An answer decided before the body is stored: status, body, headers. */
class Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/**
 * REST submission source (seeds 001/004, the async pattern of seed 003): `POST <path>` with
 * structured results and/or base64 PDFs (`documents[].data_base64`) as JSON answers `202
 * Accepted` with a submission id and a `Location` to poll, only after the durable commit;
 * `GET <path>/<id>` answers the state of each delivery. An `Idempotency-Key` makes a repeat
 * answer the same submission (200) and a reuse of the key for another body 409.
 */
export function createRestSource(config: RestSourceConfig, ctx: SourceContext): Source {
  const path = restPath(ctx.channelId, config);
  const prefix = `${path}/`;
  const authenticate = submitterAuth(config.auth);
  const bodies = ctx.routes.bodies;
  const throttle = new LogThrottle(ctx.log);
  const withinRateLimit = sourceRateLimit(config.rateLimit, ctx, throttle);
  const certificateAccepted = clientCertificateGate(config.clientCertificate, ctx, throttle);
  /** In-process, one request per key at a time: a retry racing its original waits for it instead of storing twice. */
  const inFlight = new Map<string, Promise<unknown>>();
  let running = false;

  const location = (id: string) => `${prefix}${encodeURIComponent(id)}`;

  const accepted = (id: string, repeat: boolean): Answer =>
    new Answer(repeat ? 200 : 202, { submissionId: id, status: 'accepted', location: location(id), ...(repeat ? { duplicate: true } : {}) }, { Location: location(id) });

  const conflict = (key: string) =>
    new Answer(
      409,
      outcome('conflict', `the Idempotency-Key '${key}' was used for a different body; use a new key for a new submission`, '(header Idempotency-Key)'),
    );

  const submit = async (req: IncomingMessage): Promise<Answer> => {
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/([a-z.+-]+\+)?json\b/i.test(type)) {
      req.resume();
      throw new InputError('INPUT_UNSUPPORTED_MEDIA', [{ path: '(header Content-Type)', code: 'invalid', message: `expected application/json, got '${type || 'none'}'` }]);
    }
    const key = header(req, 'idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      req.resume();
      return new Answer(400, outcome('invalid', 'expected 1 to 255 visible ASCII characters (a UUID, for instance)', '(header Idempotency-Key)'));
    }
    let body: Buffer;
    try {
      body = await bodies.read(req, { maxBytes: config.maxBodyBytes });
    } catch (e) {
      const r = bodyRefusal(e, bodies.limits);
      return new Answer(r.status, r.body, r.headers);
    }
    const text = decodeUtf8(body);
    const parsed = parseJson(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InputError('INPUT_INVALID', [{ path: '(body)', code: 'invalid_type', message: 'expected a JSON object' }]);
    }
    const fingerprint = createHash('sha256').update(body).digest('hex');
    if (key === undefined) {
      const r = await ctx.receive({ text, format: config.format }, { submission: { fingerprint } });
      return accepted(r.messageId, r.duplicate);
    }
    const earlier = inFlight.get(key);
    const run = (earlier ?? Promise.resolve()).then(
      () => submitOnce(text, key, fingerprint),
      () => submitOnce(text, key, fingerprint),
    );
    inFlight.set(key, run);
    try {
      return await run;
    } finally {
      if (inFlight.get(key) === run) inFlight.delete(key);
    }
  };

  const submitOnce = async (text: string, key: string, fingerprint: string): Promise<Answer> => {
    const found = await ctx.findSubmission({ idempotencyKey: key });
    if (found) return found.submission.fingerprint === fingerprint ? accepted(found.submission.id, true) : conflict(key);
    const r = await ctx.receive(
      { text, format: config.format },
      // For a channel without an inbound mapping the key is the message's source id too, so a
      // repeat after a crash between the two commits is still one message.
      { sourceId: `idempotency-key:${key}`, submission: { idempotencyKey: key, fingerprint } },
    );
    // Another process may have recorded the key first (the check above is per process).
    if (r.submission && r.submission.fingerprint !== fingerprint) return conflict(key);
    return accepted(r.submission?.id ?? r.messageId, r.duplicate);
  };

  const status = async (req: IncomingMessage): Promise<Answer> => {
    req.resume();
    const id = safeDecode(pathOf(req).slice(prefix.length));
    const found = SUBMISSION_ID.test(id) ? await ctx.findSubmission({ id }) : undefined;
    const ip = req.socket.remoteAddress;
    ctx.audit
      .record({
        action: 'submission.read',
        outcome: found ? 'success' : 'failure',
        actor: `source:${ctx.channelId}`,
        target: `submission:${id.slice(0, 64)}`,
        ...(ip ? { ip } : {}),
      })
      .catch((e: unknown) => throttle.error('audit submission.read', { err: e, channel: ctx.channelId }, 'an audit event could not be recorded'));
    if (!found) return new Answer(404, outcome('not-found', `no submission ${id.slice(0, 64)} in channel ${ctx.channelId}`));
    return new Answer(200, submissionStatus(found));
  };

  /** Method, running state and credentials, checked before anything is read. */
  const gate = (req: IncomingMessage, res: ServerResponse, method: 'POST' | 'GET'): boolean => {
    const refuse = (a: Answer) => {
      req.resume();
      // A refused body may still be arriving; the connection cannot be reused for the next request.
      if (method === 'POST') res.shouldKeepAlive = false;
      sendJson(res, a.status, a.body, a.headers);
      return false;
    };
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      return refuse(new Answer(405, outcome('not-supported', `use ${method}`), { Allow: method }));
    }
    if (!running) return refuse(new Answer(503, outcome('transient', `channel ${ctx.channelId} is stopped`), { 'Retry-After': '5' }));
    if (!withinRateLimit(req, res)) return false;
    if (!certificateAccepted(req, res)) return false;
    const refusal = authenticate(req);
    if (refusal) {
      auditRefusal(ctx, throttle, req, 'source.auth.failed', { reason: refusal.message, header: refusal.where });
      return refuse(new Answer(401, outcome('login', refusal.message, refusal.where), refusal.challenge ? { 'WWW-Authenticate': refusal.challenge } : {}));
    }
    return true;
  };

  const answerError = (req: IncomingMessage, res: ServerResponse, e: unknown, what: string) => {
    logIntakeError(throttle, ctx.channelId, e, { backlog: `the delivery backlog is over its bound: ${what} answered 503`, failed: `${what} failed` });
    const a = errorAnswer(e);
    answerRequest(req, res, a.status, a.body, a.headers);
  };

  const onSubmit = (req: IncomingMessage, res: ServerResponse): void => {
    if (!gate(req, res, 'POST')) return;
    submit(req).then(
      (a) => answerRequest(req, res, a.status, a.body, a.headers),
      (e: unknown) => answerError(req, res, e, 'REST submission'),
    );
  };

  const onStatus = (req: IncomingMessage, res: ServerResponse): void => {
    if (!gate(req, res, 'GET')) return;
    status(req).then(
      (a) => sendJson(res, a.status, a.body, a.headers),
      (e: unknown) => answerError(req, res, e, 'reading a submission'),
    );
  };

  return {
    async start() {
      if (!running) {
        ctx.routes.add(path, onSubmit);
        ctx.routes.addPrefix(prefix, onStatus);
      }
      running = true;
    },
    async stop() {
      running = false;
      ctx.routes.remove(path);
      ctx.routes.remove(prefix);
    },
    describe: () => `POST ${path}, GET ${prefix}<submissionId>`,
  };
}
