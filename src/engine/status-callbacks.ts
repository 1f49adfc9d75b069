import { createHmac } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { StatusCallbackConfig, StatusCallbackEvent } from '../config/channel.ts';
import { ConduitError, type ErrorCode, ErrorCodes } from '../errors.ts';
import { Hl7Message, readAck } from '../protocols/hl7v2/index.ts';
import { exchange, type HttpAnswer } from '../senders/http/exchange.ts';
import { parseRetryAfterMs } from '../senders/http/retry-after.ts';
import type { OutboundMessage, Sender, SendOutcome } from '../senders/types.ts';
import type { FollowUpDelivery, Store } from '../store/types.ts';
import { ulid } from '../util/ids.ts';
import type { SettledDelivery } from './dispatcher.ts';
import { laneOf } from './lanes.ts';

/**
 * Status callbacks (issue 5, part 5): after a delivery of a channel is acknowledged, rejected
 * or dead, a status event is POSTed to the channel's `statusCallback.url`.
 *
 * Durability: the event is built when the outcome is known and handed to the store as the
 * attempt's follow-up, which the store writes in the same transaction as the terminal attempt
 * (store/types.ts FollowUpDelivery). A crash before that commit loses both: the delivery is
 * still pending, is resent with the same control id, settles again and brings its event. The
 * event row is then delivered by an ordinary DestinationDispatcher (one per destination, with
 * the destination id `status-callback:<destination>`), retried with the callback's own
 * delivery policy; that dispatcher has no follow-ups, so callbacks never beget callbacks.
 */

/** Destination id of the callbacks reporting `destinationId`'s outcomes; ':' cannot occur in a configured id. */
export function callbackDestinationId(destinationId: string): string {
  return `status-callback:${destinationId}`;
}

/** Event type per terminal state, with the name `events:` uses for it. */
const EVENTS = {
  acknowledged: { name: 'delivered', type: 'result.delivered' },
  rejected: { name: 'rejected', type: 'result.rejected' },
  dead: { name: 'failed', type: 'result.failed' },
} as const satisfies Record<SettledDelivery['status'], { name: StatusCallbackEvent; type: string }>;

export type StatusEventType = (typeof EVENTS)[keyof typeof EVENTS]['type'];

/** The body of one status callback. Ids, states and the receiver's answer text: no patient data. */
export interface StatusEvent {
  /** Unique per event; also the callback delivery's control id, so a receiver can de-duplicate. */
  id: string;
  event: StatusEventType;
  occurred_at: string;
  channel: string;
  destination: string;
  message_id: string;
  /** The source's own id and version of the result (platform result id, MSH-10, submission key). */
  source: { id: string; version: string };
  /** What the destination saw: MSH-10, or the control id of an HTTP destination. */
  control_id: string;
  status: SettledDelivery['status'];
  /** Attempts made, the last one included. */
  attempts: number;
  /** Conduit's error code for rejected and failed deliveries. */
  code?: string;
  /** The acknowledgement text (MSA-1 and MSA-3/ERR), or the OperationOutcome / HTTP status text. */
  detail?: string;
}

export const STATUS_EVENT_CONTENT_TYPE = 'application/json';

/**
 * What a receiver answered, as one line: the acknowledgement ('AA', 'AR: unknown patient') when
 * the answer is HL7 v2, else the attempt's detail (OperationOutcome text, HTTP status, error).
 */
export function outcomeText(detail: string | undefined, response: string | undefined): string | undefined {
  if (response?.startsWith('MSH')) {
    try {
      const ack = readAck(Hl7Message.parse(response));
      return ack.text === '' ? ack.code : `${ack.code}: ${ack.text}`;
    } catch {
      // Not an acknowledgement after all: the detail says what went wrong.
    }
  }
  return detail;
}

/** Builds the status event of a settled delivery (pure, apart from its id). */
export function statusEvent(
  settled: SettledDelivery,
  where: { channelId: string; destinationId: string; source: { id: string; version: string } },
  now: Date = new Date(),
): StatusEvent {
  const { outcome, status } = settled;
  const detail = outcomeText(outcome.detail, outcome.response);
  return {
    id: ulid(now.getTime()),
    event: EVENTS[status].type,
    occurred_at: now.toISOString(),
    channel: where.channelId,
    destination: where.destinationId,
    message_id: settled.row.messageId,
    source: where.source,
    control_id: settled.row.controlId,
    status,
    attempts: settled.attempt,
    ...(outcome.status === 'acknowledged' ? {} : { code: outcome.code }),
    ...(detail ? { detail } : {}),
  };
}

/**
 * The dispatcher hook of one destination: the callback row to store with a terminal outcome,
 * or undefined when the channel does not want that event.
 */
export function statusCallbackFollowUp(
  config: StatusCallbackConfig,
  where: { channelId: string; destinationId: string },
  store: Pick<Store, 'messageRef'>,
): (settled: SettledDelivery) => FollowUpDelivery | undefined {
  const wanted = new Set<StatusCallbackEvent>(config.events);
  const destinationId = callbackDestinationId(where.destinationId);
  return (settled) => {
    if (!wanted.has(EVENTS[settled.status].name)) return undefined;
    // The row came from a join with its message, so the message is there; messages never change.
    const ref = store.messageRef(settled.row.messageId);
    if (!ref) throw new Error(`message ${settled.row.messageId} not found for its status callback`);
    const event = statusEvent(settled, { ...where, source: { id: ref.sourceId, version: ref.sourceVersion } });
    return {
      destinationId,
      // The partition key's lane: one patient's events stay in order, like their deliveries.
      lane: laneOf(ref.partitionKey, config.delivery.lanes),
      controlId: event.id,
      payload: JSON.stringify(event),
      contentType: STATUS_EVENT_CONTENT_TYPE,
    };
  };
}

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
  const line = `${status} ${answer.statusText || STATUS_CODES[status] || ''}`.trim();
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
