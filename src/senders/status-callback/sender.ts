import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { StatusCallbackConfig } from '../../config/channel.ts';
import { ConduitError, type ErrorCode, ErrorCodes } from '../../errors.ts';
import { exchange, type HttpAnswer, statusLine } from '../http/exchange.ts';
import { parseRetryAfterMs } from '../http/retry-after.ts';
import type { OutboundMessage, Sender, SendOutcome } from '../types.ts';

/** `sha256=<hex>`: HMAC-SHA256 of the raw body, as the signature header carries it. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Longest detail kept with an outcome; the raw answer is in `response` anyway. */
const MAX_DETAIL = 500;

function failure(code: ErrorCode, detail: string, extra: { response?: string; retryAfterMs?: number | undefined } = {}): SendOutcome {
  const text = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
  const response = extra.response === undefined ? {} : { response: extra.response };
  if (ErrorCodes[code].retry === 'permanent') return { status: 'rejected', code, detail: text, ...response };
  return { status: 'retryable', code, detail: text, ...response, ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }) };
}

/** 2xx delivered; 408, 429 and 5xx retried (after Retry-After); other 4xx refused; anything else refused. */
export function classifyCallbackAnswer(answer: HttpAnswer, nowMs: number = Date.now()): SendOutcome {
  const { status } = answer;
  const line = statusLine(status);
  const extra = { response: answer.body, retryAfterMs: parseRetryAfterMs(answer.headers.get('retry-after'), nowMs) };
  if (status >= 200 && status < 300) return { status: 'acknowledged', response: answer.body, detail: line };
  if (status === 408) return failure('HTTP_REQUEST_TIMEOUT', line, extra);
  if (status === 429) return failure('HTTP_TOO_MANY_REQUESTS', line, extra);
  if (status === 401) return failure('AUTH_UNAUTHORIZED', `${line} (check the callback secret and headers)`, extra);
  if (status === 403) return failure('AUTH_FORBIDDEN', line, extra);
  if (status >= 400 && status < 500) return failure('HTTP_CLIENT_ERROR', line, extra);
  if (status >= 500 && status < 600) return failure('HTTP_SERVER_ERROR', line, extra);
  return failure('HTTP_UNEXPECTED_STATUS', `${line} (redirects are not followed: check the callback url)`, extra);
}

/**
 * POSTs status events to the callback URL, each signed at send time (the secret lives in the
 * environment and never in the store). Logs carry the event id and status, never bodies.
 */
export class StatusCallbackSender implements Sender {
  private readonly config: StatusCallbackConfig;
  private readonly log: Logger;

  constructor(config: StatusCallbackConfig, log: Logger) {
    this.config = config;
    this.log = log.child({ sender: 'status-callback', host: new URL(config.url).host });
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    const headers: Record<string, string> = {
      ...lowerCaseKeys(this.config.headers),
      'content-type': message.contentType,
      'x-conduit-event-id': message.controlId,
      'x-conduit-event': eventType(message.payload),
    };
    if (this.config.secret) headers[this.config.signatureHeader.toLowerCase()] = signBody(this.config.secret, message.payload);
    try {
      const answer = await exchange(this.config.url, { method: 'POST', headers, body: message.payload }, this.config.timeoutMs, signal);
      const outcome = classifyCallbackAnswer(answer);
      if (outcome.status !== 'acknowledged') this.log.warn({ messageId: message.messageId, eventId: message.controlId, status: answer.status }, 'status callback refused');
      return outcome;
    } catch (err) {
      if (err instanceof ConduitError) return failure(err.code, err.message);
      this.log.error({ messageId: message.messageId, error: (err as Error)?.name }, 'status callback: unexpected error');
      return failure('HTTP_CONNECTION_LOST', `unexpected error: ${(err as Error)?.name ?? 'unknown'}`);
    }
  }

  async close(): Promise<void> {}
}

function eventType(payload: string): string {
  try {
    return String((JSON.parse(payload) as { event?: unknown }).event ?? '');
  } catch {
    return '';
  }
}

function lowerCaseKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
