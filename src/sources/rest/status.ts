import { outcomeText } from '../../senders/status-callback/event.ts';
import type { DeliveryStatus, DeliveryView, MessageView } from '../../store/types.ts';
import type { SubmissionLookup } from '../types.ts';

/** A submission's state: its deliveries' (most troubled first), or filtered / received when it has none. */
export type SubmissionStatus = DeliveryStatus | 'filtered' | 'received';

/** A message shows its most troubled delivery, as in the admin API. */
const PRECEDENCE: readonly DeliveryStatus[] = ['dead', 'rejected', 'errored', 'sent', 'queued', 'acknowledged'];

export interface DeliveryStatusView {
  destination: string;
  messageId: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  /** MSH-10 or the control id the destination echoes. */
  controlId: string;
  lastAttemptAt?: string;
  /** The receiver's answer to the last attempt: ACK (MSA-1, MSA-3/ERR) or OperationOutcome text, or the transport error. */
  lastOutcome?: string;
  /** Conduit's error code of the last attempt, when it failed. */
  code?: string;
  /** When the next attempt is due, while retrying. */
  nextAttemptAt?: string;
}

export interface SubmissionStatusView {
  submissionId: string;
  status: SubmissionStatus;
  receivedAt: string;
  idempotencyKey?: string;
  messages: Array<{ messageId: string; source: { id: string; version: string }; status: SubmissionStatus; filteredBy?: string }>;
  destinations: DeliveryStatusView[];
  /** Status callbacks sent (or being sent) about these deliveries. */
  statusCallbacks: Array<Omit<DeliveryStatusView, 'controlId'> & { eventId: string }>;
}

function aggregate(statuses: readonly DeliveryStatus[]): DeliveryStatus | undefined {
  return PRECEDENCE.find((s) => statuses.includes(s));
}

function deliveryView(messageId: string, d: DeliveryView): DeliveryStatusView {
  const last = d.attempts.at(-1);
  const text = last && outcomeText(last.detail, last.response);
  return {
    destination: d.follows ?? d.destinationId,
    messageId,
    status: d.status,
    attempts: d.attempts.length,
    controlId: d.controlId,
    ...(last ? { lastAttemptAt: last.startedAt } : {}),
    ...(text ? { lastOutcome: text } : {}),
    ...(last?.code ? { code: last.code } : {}),
    ...(d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt } : {}),
  };
}

function messageStatus(m: MessageView): SubmissionStatus {
  if (m.filteredBy) return 'filtered';
  return aggregate(m.deliveries.filter((d) => !d.follows).map((d) => d.status)) ?? 'received';
}

/**
 * What GET <path>/<submissionId> answers: states, attempt counts and the receivers' answers.
 * Never the payloads, the raw input or the canonical report: the submitter has those.
 */
export function submissionStatus({ submission, messages }: SubmissionLookup): SubmissionStatusView {
  const destinations: DeliveryStatusView[] = [];
  const statusCallbacks: SubmissionStatusView['statusCallbacks'] = [];
  for (const m of messages) {
    for (const d of m.deliveries) {
      const view = deliveryView(m.id, d);
      if (!d.follows) destinations.push(view);
      else {
        const { controlId, ...rest } = view;
        statusCallbacks.push({ ...rest, eventId: controlId });
      }
    }
  }
  const statuses = messages.map(messageStatus);
  const status: SubmissionStatus =
    aggregate(destinations.map((d) => d.status)) ?? (statuses.length > 0 && statuses.every((s) => s === 'filtered') ? 'filtered' : 'received');
  return {
    submissionId: submission.id,
    status,
    receivedAt: submission.receivedAt,
    ...(submission.idempotencyKey === undefined ? {} : { idempotencyKey: submission.idempotencyKey }),
    messages: messages.map((m, i) => ({
      messageId: m.id,
      source: { id: m.sourceId, version: m.sourceVersion },
      status: statuses[i]!,
      ...(m.filteredBy ? { filteredBy: m.filteredBy } : {}),
    })),
    destinations,
    statusCallbacks,
  };
}
