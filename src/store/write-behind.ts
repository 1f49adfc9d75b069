import type { AttemptRecord, Fence } from './types.ts';

/**
 * A delivery-state change waiting in the write-behind queue of the store. `round` is the id of
 * the last round it was posted in (see GroupCommit): a read tells by it whether what it read
 * already holds the change.
 */
export type Op = ({ kind: 'sent'; deliveryId: number; at: string; fence?: Fence } | { kind: 'attempt'; record: AttemptRecord; at: string }) & { round?: number };

type Row = Record<string, string | number | null>;

/**
 * Delivery rows with the unwritten state changes of the write-behind queue applied. A row that
 * carries the round that last wrote it (PostgreSQL, read while a round commits) skips the
 * changes of that round and earlier ones: it holds them already, and a later change (a
 * requeue) must not be undone by laying them over again.
 */
export function overlay(rows: Row[], ops: readonly Op[]): Row[] {
  if (ops.length === 0) return rows;
  return rows.map((row) => {
    let r = row;
    const written = typeof row.round === 'number' ? row.round : undefined;
    for (const op of ops) {
      if (written !== undefined && op.round !== undefined && op.round <= written) continue;
      if (op.kind === 'sent' && op.deliveryId === r.id && (r.status === 'queued' || r.status === 'errored')) r = { ...r, status: 'sent', updated_at: op.at };
      if (op.kind !== 'attempt' || op.record.deliveryId !== r.id) continue;
      const a = op.record;
      if (a.controlId !== undefined && a.controlId !== r.control_id) continue;
      r = { ...r, status: a.status, attempts: a.attempt, next_attempt_at: a.nextAttemptAt ?? 0, updated_at: op.at };
    }
    return r;
  });
}

/**
 * Stored attempt rows of a delivery followed by those still in the write-behind queue, shaped
 * like the stored ones. An unwritten attempt of a round that stored attempts of this delivery
 * is one of them: the round committed before its answer was read.
 */
export function withUnwrittenAttempts(deliveryId: number, stored: Row[], ops: readonly Op[]): Row[] {
  if (ops.length === 0) return stored;
  const rounds = new Set(stored.map((a) => a.round));
  const unwritten = ops.flatMap((op) =>
    op.kind === 'attempt' && op.record.deliveryId === deliveryId && (op.round === undefined || !rounds.has(op.round))
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
  return unwritten.length === 0 ? stored : stored.concat(unwritten);
}
