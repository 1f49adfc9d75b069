import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InputError } from '../../errors.ts';
import { sendError } from '../../http/outcome.ts';
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

/**
 * Webhook source: POST of a platform event. Answers 201 (202 never: the message is stored
 * when we answer) after the durable commit, 200 for a repeat of an already-stored event,
 * 400/401/413/415/422 with an OperationOutcome naming the problem, 503 with Retry-After
 * while the backlog is over its bound.
 */
export function createWebhookSource(config: WebhookSourceConfig, ctx: SourceContext): Source {
  const path = webhookPath(ctx.channelId, config);
  let running = false;
  let mounted = false;
  const raw = express.raw({ type: () => true, limit: config.maxBodyBytes });

  const handler = async (req: Request, res: Response): Promise<void> => {
    if (!running) {
      res.status(503).set('Retry-After', '5').json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: `channel ${ctx.channelId} is stopped` }] });
      return;
    }
    try {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (config.hmac && !verifySignature(body, req.get(config.hmac.header), config.hmac)) {
        throw new InputError('INPUT_BAD_SIGNATURE', [{ path: `(header ${config.hmac.header})`, code: 'signature', message: `missing or invalid HMAC-SHA256 signature; expected '${config.hmac.prefix}<${config.hmac.encoding} digest of the raw body>'` }]);
      }
      const type = req.get('content-type') ?? '';
      if (!/^application\/([a-z.+-]+\+)?json\b/i.test(type)) {
        throw new InputError('INPUT_UNSUPPORTED_MEDIA', [{ path: '(header Content-Type)', code: 'invalid', message: `expected application/json, got '${type || 'none'}'` }]);
      }
      const result = await ctx.receive({ text: body.toString('utf8'), format: 'json' });
      res.status(result.duplicate ? 200 : 201).json({ messageId: result.messageId, duplicate: result.duplicate });
    } catch (e) {
      if (!(e instanceof InputError)) ctx.log.error({ err: e, channel: ctx.channelId }, 'webhook intake failed');
      sendError(res, e);
    }
  };

  const bodyErrors = (err: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction): void => {
    if (err.type === 'entity.too.large') {
      sendError(res, new InputError('INPUT_TOO_LARGE', [{ path: '(body)', code: 'too_large', message: `body exceeds the limit of ${config.maxBodyBytes} bytes` }]));
    } else if (err.status && err.status < 500) {
      sendError(res, new InputError('INPUT_INVALID', [{ path: '(body)', code: 'invalid', message: 'the body could not be read' }]));
    } else next(err);
  };

  return {
    async start() {
      if (!mounted) {
        mounted = true;
        ctx.http.post(path, raw, handler, bodyErrors);
        ctx.http.all(path, (_req, res) => {
          res.status(405).set('Allow', 'POST').json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', diagnostics: 'use POST' }] });
        });
      }
      running = true;
    },
    async stop() {
      running = false;
    },
    describe: () => `POST ${path}`,
  };
}
