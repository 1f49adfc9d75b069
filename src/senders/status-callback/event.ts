import type { StatusCallbackEvent } from '../../config/channel.ts';
import { Hl7Message, readAck } from '../../protocols/hl7v2/index.ts';
import { ulid } from '../../util/ids.ts';
import type { SendOutcome } from '../types.ts';

/**
 * The status event a channel's `statusCallback` receives when a delivery settles (acknowledged,
 * rejected or dead): its shape and how it is built. The engine stores it as a follow-up
 * delivery (engine/status-callbacks.ts); the sender beside this file posts it.
 */

/** Destination id of the callbacks reporting `destinationId`'s outcomes; ':' cannot occur in a configured id. */
export function callbackDestinationId(destinationId: string): string {
  return `status-callback:${destinationId}`;
}

/** A delivery that reached a terminal state, as a status event reports it. */
export interface SettledOutcome {
  readonly row: { readonly messageId: string; readonly controlId: string };
  readonly status: 'acknowledged' | 'rejected' | 'dead';
  readonly outcome: SendOutcome;
  /** The attempt that settled it (1-based). */
  readonly attempt: number;
}

/** Event type per terminal state, with the name `events:` uses for it. */
export const EVENTS = {
  acknowledged: { name: 'delivered', type: 'result.delivered' },
  rejected: { name: 'rejected', type: 'result.rejected' },
  dead: { name: 'failed', type: 'result.failed' },
} as const satisfies Record<SettledOutcome['status'], { name: StatusCallbackEvent; type: string }>;

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
  status: SettledOutcome['status'];
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
  settled: SettledOutcome,
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

