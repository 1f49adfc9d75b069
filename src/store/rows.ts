import type { DeliveryStatus, NewDelivery, Submission } from './types.ts';

/** The status an intake stores a delivery with: 'sent' when its commit is its mark (NewDelivery.marked). */
export function insertedStatus(d: NewDelivery): DeliveryStatus {
  return d.marked ? 'sent' : 'queued';
}

/** A `submissions` row as the store's objects: read by the writer thread (after an insert) and by the main thread. */
export function submissionOf(r: Record<string, string | null>): Submission {
  return {
    id: r.id!,
    channelId: r.channel_id!,
    ...(r.idempotency_key === null || r.idempotency_key === undefined ? {} : { idempotencyKey: r.idempotency_key }),
    fingerprint: r.fingerprint!,
    messageIds: JSON.parse(r.message_ids!) as string[],
    receivedAt: r.received_at!,
  };
}
