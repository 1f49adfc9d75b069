import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError } from '../../errors.ts';
import { bodyRefusal } from '../../http/body.ts';
import { errorAnswer, logIntakeError } from '../../http/outcome.ts';
import { answerRequest, sendJson } from '../../http/routes.ts';
import { LogThrottle } from '../../log-throttle.ts';
import { clientCertificateGate } from '../client-certificate.ts';
import { sourceRateLimit } from '../rate-limit.ts';
import { auditRefusal } from '../refusal-audit.ts';
import { decodeUtf8 } from '../text.ts';
import type { Source, SourceContext } from '../types.ts';
import type { WebhookSourceConfig } from './config.ts';
import { SignatureRefused, WebhookSignatures } from './signature.ts';

export function webhookPath(channelId: string, config: WebhookSourceConfig): string {
  return config.path ?? `/channels/${channelId}`;
}

function outcome(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** An answer decided before the intake: a refused body, say. */
class Refusal extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  constructor(a: { status: number; headers: Record<string, string>; body: unknown }) {
    super('refused');
    this.status = a.status;
    this.headers = a.headers;
    this.body = a.body;
  }
}

/**
 * Webhook source: POST of a platform event. Answers 201 after the durable commit, 200 for a
 * repeat of an already-stored event, 400/401/408/413/415/422 with an OperationOutcome naming
 * the problem, 503 with Retry-After while the backlog is over its bound, the engine holds too
 * many bodies, or the channel is stopped. The rate limit (429), content type, signature and
 * timestamp headers are checked before the body is read; the HMAC is computed as the body
 * arrives, and a body that does not verify, or whose signature was already used, is dropped
 * at once. Refused signatures and rate limits are audited.
 */
export function createWebhookSource(config: WebhookSourceConfig, ctx: SourceContext): Source {
  const path = webhookPath(ctx.channelId, config);
  const bodies = ctx.routes.bodies;
  const throttle = new LogThrottle(ctx.log);
  const withinRateLimit = sourceRateLimit(config.rateLimit, ctx, throttle);
  const certificateAccepted = clientCertificateGate(config.clientCertificate, ctx, throttle);
  const signatures =
    config.hmac &&
    new WebhookSignatures(config.hmac, {
      onReplayMemoryFull: () => throttle.warn('replay-memory', { channel: ctx.channelId }, 'the memory of used webhook signatures is full: the oldest are forgotten early'),
    });
  let running = false;

  const intake = async (req: IncomingMessage): Promise<{ messageId: string; duplicate: boolean }> => {
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/([a-z.+-]+\+)?json\b/i.test(type)) {
      throw new InputError('INPUT_UNSUPPORTED_MEDIA', [{ path: '(header Content-Type)', code: 'invalid', message: `expected application/json, got '${type || 'none'}'` }]);
    }
    const check = signatures?.begin(req);
    let body: Buffer;
    try {
      body = await bodies.read(req, { maxBytes: config.maxBodyBytes, ...(check ? { onChunk: (c: Buffer) => check.update(c) } : {}) });
    } catch (e) {
      throw new Refusal(bodyRefusal(e, bodies.limits));
    }
    check?.finish();
    try {
      return await ctx.receive({ text: decodeUtf8(body), format: 'json' });
    } catch (e) {
      check?.release();
      throw e;
    }
  };

  const refused = (request: IncomingMessage, res: ServerResponse, e: unknown): void => {
    if (e instanceof Refusal) {
      res.shouldKeepAlive = false;
      sendJson(res, e.status, e.body, e.headers);
      return;
    }
    if (e instanceof SignatureRefused) auditRefusal(ctx, throttle, request, 'source.signature.refused', { reason: e.reason });
    logIntakeError(throttle, ctx.channelId, e, {
      backlog: 'the delivery backlog is over its bound: webhook requests answered 503',
      failed: 'webhook intake failed',
    });
    const a = errorAnswer(e);
    answerRequest(request, res, a.status, a.body, a.headers);
  };

  const handler = (request: IncomingMessage, res: ServerResponse): void => {
    if (request.method !== 'POST') {
      request.resume();
      sendJson(res, 405, outcome('not-supported', 'use POST'), { Allow: 'POST' });
      return;
    }
    if (!running) {
      request.resume();
      sendJson(res, 503, outcome('transient', `channel ${ctx.channelId} is stopped`), { 'Retry-After': '5' });
      return;
    }
    if (!withinRateLimit(request, res)) return;
    if (!certificateAccepted(request, res)) return;
    intake(request).then(
      (result) => sendJson(res, result.duplicate ? 200 : 201, { messageId: result.messageId, duplicate: result.duplicate }),
      (e: unknown) => refused(request, res, e),
    );
  };

  return {
    async start() {
      if (!running) ctx.routes.add(path, handler);
      running = true;
    },
    async stop() {
      running = false;
      ctx.routes.remove(path);
    },
    describe: () => `POST ${path}`,
  };
}

function header(r: IncomingMessage, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
