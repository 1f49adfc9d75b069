import { createHmac, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError } from '../../errors.ts';
import { bodyRefusal } from '../../http/body.ts';
import { errorAnswer, logIntakeError } from '../../http/outcome.ts';
import { answerRequest, sendJson } from '../../http/routes.ts';
import { LogThrottle } from '../../log-throttle.ts';
import { decodeUtf8 } from '../text.ts';
import type { Source, SourceContext } from '../types.ts';
import type { WebhookSourceConfig } from './config.ts';

type HmacConfig = NonNullable<WebhookSourceConfig['hmac']>;

export function webhookPath(channelId: string, config: WebhookSourceConfig): string {
  return config.path ?? `/channels/${channelId}`;
}

/** A SHA-256 digest, exactly: 64 hex digits, or 44 base64 characters (the `=` may be left off). */
const DIGEST = { hex: /^[0-9a-fA-F]{64}$/, base64: /^[A-Za-z0-9+/]{43}=?$/ } as const;

/**
 * The digest in the signature header, or undefined when it is missing or not exactly a digest.
 * `Buffer.from(text, 'hex')` stops silently at the first non-hex character, so
 * `sha256=<hex>junk` used to pass; the whole value is checked first.
 */
function signatureDigest(header: string | undefined, hmac: HmacConfig): Buffer | undefined {
  if (!header?.startsWith(hmac.prefix)) return undefined;
  const text = header.slice(hmac.prefix.length).trim();
  if (!DIGEST[hmac.encoding].test(text)) return undefined;
  const digest = Buffer.from(text, hmac.encoding);
  // Base64's last character carries spare bits: only the canonical spelling of the digest counts.
  if (hmac.encoding === 'base64' && digest.toString('base64').slice(0, 43) !== text.slice(0, 43)) return undefined;
  return digest;
}

function badSignature(hmac: HmacConfig): InputError {
  return new InputError('INPUT_BAD_SIGNATURE', [
    {
      path: `(header ${hmac.header})`,
      code: 'signature',
      message: `missing or invalid HMAC-SHA256 signature; expected '${hmac.prefix}<${hmac.encoding} digest of the raw body>'`,
    },
  ]);
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
 * many bodies, or the channel is stopped. Content type and signature header are checked
 * before the body is read; the HMAC is computed as the body arrives, and a body that does not
 * verify is dropped at once.
 */
export function createWebhookSource(config: WebhookSourceConfig, ctx: SourceContext): Source {
  const path = webhookPath(ctx.channelId, config);
  const bodies = ctx.routes.bodies;
  const throttle = new LogThrottle(ctx.log);
  let running = false;

  const intake = async (req: IncomingMessage): Promise<{ messageId: string; duplicate: boolean }> => {
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/([a-z.+-]+\+)?json\b/i.test(type)) {
      throw new InputError('INPUT_UNSUPPORTED_MEDIA', [{ path: '(header Content-Type)', code: 'invalid', message: `expected application/json, got '${type || 'none'}'` }]);
    }
    let expected: Buffer | undefined;
    let mac: Hmac | undefined;
    if (config.hmac) {
      expected = signatureDigest(header(req, config.hmac.header), config.hmac);
      if (!expected) throw badSignature(config.hmac);
      mac = createHmac('sha256', config.hmac.secret);
    }
    let body: Buffer;
    try {
      body = await bodies.read(req, { maxBytes: config.maxBodyBytes, ...(mac ? { onChunk: (c: Buffer) => mac.update(c) } : {}) });
    } catch (e) {
      throw new Refusal(bodyRefusal(e, bodies.limits));
    }
    if (mac && expected && !timingSafeEqual(mac.digest(), expected)) throw badSignature(config.hmac!);
    return ctx.receive({ text: decodeUtf8(body), format: 'json' });
  };

  const refused = (request: IncomingMessage, res: ServerResponse, e: unknown): void => {
    if (e instanceof Refusal) {
      res.shouldKeepAlive = false;
      sendJson(res, e.status, e.body, e.headers);
      return;
    }
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
