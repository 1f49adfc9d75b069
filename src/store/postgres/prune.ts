/**
 * One batch of retention on PostgreSQL (see Store.prune). The store runs it on a connection of
 * its own (deletes of hundreds of rows would hold up the writer's rounds, and with them intake
 * and delivery); the writer runs it too when a round holds one.
 */
import type { PruneBatch, StepResult } from '../rounds.ts';
import { PENDING_STATUSES } from '../types.ts';
import type { Q } from './writer.ts';

const PENDING: ReadonlySet<string> = new Set(PENDING_STATUSES);

/** A walk from the cursor, then set-based changes of the messages without pending deliveries. */
export async function pruneBatch(q: Q, step: PruneBatch): Promise<StepResult> {
  const content = step.what === 'content';
  const walk = await q(
    `SELECT seq, received_at FROM messages
      WHERE channel_id = $1 ${content ? 'AND content_pruned_at IS NULL' : ''} AND received_at < $2 AND (received_at, seq) > ($3::timestamptz, $4)
      ORDER BY received_at, seq LIMIT $5`,
    [step.channelId, step.before, step.after.receivedAt === '' ? '-infinity' : step.after.receivedAt, step.after.seq, step.limit],
  );
  const rows = walk.rows as Array<{ seq: number; received_at: string }>;
  const seqs = rows.map((r) => r.seq);
  let changed = 0;
  if (seqs.length > 0) {
    // A message still to be delivered keeps everything, whatever its age. The deliveries are
    // locked until the batch commits: a requeue of one of them waits, then finds it gone.
    const deliveries = await q('SELECT message_seq, status FROM deliveries WHERE message_seq = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [seqs]);
    const keep = new Set((deliveries.rows as Array<{ message_seq: number; status: string }>).filter((r) => PENDING.has(r.status)).map((r) => r.message_seq));
    const gone = seqs.filter((s) => !keep.has(s));
    changed = gone.length;
    if (gone.length > 0 && content) {
      // Nothing sealed is left: the key ids go too (an attempt's detail stays, sealed as it was).
      await q(
        `UPDATE attempts SET response = NULL, key_id = CASE WHEN detail IS NULL THEN NULL ELSE key_id END
          WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_seq = ANY($1::bigint[])) AND response IS NOT NULL`,
        [gone],
      );
      await q(`UPDATE deliveries SET payload = '', key_id = NULL WHERE message_seq = ANY($1::bigint[])`, [gone]);
      await q(`UPDATE messages SET raw_input = '', canonical = NULL, key_id = NULL, content_pruned_at = $2 WHERE seq = ANY($1::bigint[])`, [gone, step.at]);
    } else if (gone.length > 0) {
      await q('DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_seq = ANY($1::bigint[]))', [gone]);
      await q('DELETE FROM deliveries WHERE message_seq = ANY($1::bigint[])', [gone]);
      await q('DELETE FROM messages WHERE seq = ANY($1::bigint[])', [gone]);
    }
  }
  // What a REST submitter polls: gone with the messages it lists.
  if (!content) {
    await q('DELETE FROM submissions WHERE seq IN (SELECT seq FROM submissions WHERE channel_id = $1 AND received_at < $2 LIMIT $3)', [step.channelId, step.before, step.limit]);
  }
  const last = rows.at(-1);
  return { kind: 'pruned', changed, ...(rows.length === step.limit && last ? { next: { receivedAt: last.received_at, seq: last.seq } } : {}) };
}
