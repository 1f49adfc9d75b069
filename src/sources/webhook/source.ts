import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError } from '../../errors.ts';
import { errorAnswer } from '../../http/outcome.ts';
import { BodyTooLargeError, readBody, sendJson } from '../../http/routes.ts';
import { decodeUtf8 } from '../text.ts';
import type { Source, SourceContext } from '../types.ts';
import type { WebhookSourceConfig } from './config.ts';

export function webhookPath(channelId: string, config: WebhookSourceConfig): string {
  return config.path ?? `/channels/${channelId}`;
}

function verifySignature(body: Buffer, header: string | undefined, hmac: NonNullable<WebhookSourceConfig['hmac']>): boolean {
  if (!header?.startsWith(hmac.prefix)) return false;
  const given = Buffer.from(header.slice(hmac.prefix.length).trim(), hmac.encoding);
  const expected = createHmac('sha256', hmac.secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function outcome(code: string, diagnostics: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/**
 * Webhook source: POST of a platform event. Answers 201 after the durable commit, 200 for a
 * repeat of an already-stored event, 400/401/413/415/422 with an OperationOutcome naming the
 * problem, 503 with Retry-After while the backlog is over its bound or the channel is stopped.
 */
export function createWebhookSource(config: WebhookSourceConfig, ctx: SourceContext): Source {
  const path = webhookPath(ctx.channelId, config);
  let running = false;

  const intake = async (req: IncomingMessage): Promise<{ messageId: string; duplicate: boolean }> => {
    let body: Buffer;
    try {
      body = await readBody(req, config.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        throw new InputError('INPUT_TOO_LARGE', [{ path: '(body)', code: 'too_large', message: `body exceeds the limit of ${config.maxBodyBytes} bytes` }]);
      }
      throw new InputError('INPUT_INVALID', [{ path: '(body)', code: 'invalid', message: 'the body could not be read' }]);
    }
    if (config.hmac && !verifySignature(body, header(req, config.hmac.header), config.hmac)) {
      throw new InputError('INPUT_BAD_SIGNATURE', [
        { path: `(header ${config.hmac.header})`, code: 'signature', message: `missing or invalid HMAC-SHA256 signature; expected '${config.hmac.prefix}<${config.hmac.encoding} digest of the raw body>'` },
      ]);
    }
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/([a-z.+-]+\+)?json\b/i.test(type)) {
      throw new InputError('INPUT_UNSUPPORTED_MEDIA', [{ path: '(header Content-Type)', code: 'invalid', message: `expected application/json, got '${type || 'none'}'` }]);
    }
    return ctx.receive({ text: decodeUtf8(body), format: 'json' });
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') {
      req.resume();
      sendJson(res, 405, outcome('not-supported', 'use POST'), { Allow: 'POST' });
      return;
    }
    if (!running) {
      req.resume();
      sendJson(res, 503, outcome('transient', `channel ${ctx.channelId} is stopped`), { 'Retry-After': '5' });
      return;
    }
    intake(req).then(
      (result) => sendJson(res, result.duplicate ? 200 : 201, { messageId: result.messageId, duplicate: result.duplicate }),
      (e: unknown) => {
        if (!(e instanceof InputError)) ctx.log.error({ err: e, channel: ctx.channelId }, 'webhook intake failed');
        const a = errorAnswer(e);
        // A refused body may still be arriving; the connection cannot be reused for the next request.
        if (a.status === 413) res.shouldKeepAlive = false;
        sendJson(res, a.status, a.body, a.headers);
      },
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

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
