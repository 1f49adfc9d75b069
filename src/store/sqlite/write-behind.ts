import type { AttemptRecord } from '../types.ts';

/** A delivery-state change waiting in the write-behind queue of the store. */
export type Op = { kind: 'sent'; deliveryId: number; at: string } | { kind: 'attempt'; record: AttemptRecord; at: string };

/** Delivery rows with the unwritten state changes of the write-behind queue applied (reads while writes fail). */
export function overlay(rows: Array<Record<string, string | number | null>>, ops: readonly Op[]): Array<Record<string, string | number | null>> {
  if (ops.length === 0) return rows;
  return rows.map((row) => {
    let r = row;
    for (const op of ops) {
      if (op.kind === 'sent' && op.deliveryId === r.id && (r.status === 'queued' || r.status === 'errored')) r = { ...r, status: 'sent', updated_at: op.at };
      if (op.kind !== 'attempt' || op.record.deliveryId !== r.id) continue;
      const a = op.record;
      if (a.controlId !== undefined && a.controlId !== r.control_id) continue;
      r = { ...r, status: a.status, attempts: a.attempt, next_attempt_at: a.nextAttemptAt ?? 0, updated_at: op.at };
    }
    return r;
  });
}

/** Attempt rows of a delivery still in the write-behind queue, shaped like the stored ones. */
export function unwrittenAttempts(deliveryId: number, ops: readonly Op[]): Array<Record<string, string | number | null>> {
  return ops.flatMap((op) =>
    op.kind === 'attempt' && op.record.deliveryId === deliveryId
      ? [
          {
            attempt: op.record.attempt,
            started_at: op.record.startedAt,
            latency_ms: op.record.latencyMs,
            outcome: op.record.outcome,
            code: op.record.code ?? null,
            detail: op.record.detail ?? null,
            response: op.record.response ?? null,
          },
        ]
      : [],
  );
}
