/**
 * The store's writer thread: owns the one write connection of the SQLite store, so that
 * commits (and the fsync of a durable intake) never block the engine's event loop. The main
 * thread posts rounds (see writer-protocol.ts); each round is one transaction, answered once
 * committed or rolled back. Rounds run one at a time, in the order posted.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { Round, Step, StepResult } from '../rounds.ts';
import { insertedStatus, submissionOf } from '../rows.ts';
import { keyCheckOf, keyMismatch } from '../sealing/key-checks.ts';
import { PLAINTEXT, type Sealing, sealingWith, sealOptional } from '../sealing/rows.ts';
import { type DeliveryStatus, type InsertResult, PENDING_STATUSES, type Submission, TERMINAL_STATUSES } from '../types.ts';
import type { RoundAnswer, WriterInit } from './writer-protocol.ts';

const TERMINAL: ReadonlySet<DeliveryStatus> = new Set(TERMINAL_STATUSES);
const PENDING: ReadonlySet<DeliveryStatus> = new Set(PENDING_STATUSES);

const init = workerData as WriterInit;
const db = new DatabaseSync(init.file);
db.exec('PRAGMA journal_mode = WAL');
db.exec(`PRAGMA busy_timeout = ${init.busyTimeoutMs}`);
db.exec('PRAGMA foreign_keys = ON');
// After a checkpoint empties the log, its file is cut back to this size (64 MiB) instead of
// keeping the largest size a burst ever gave it.
db.exec('PRAGMA journal_size_limit = 67108864');
// Content that retention removes (or a row deleted) is overwritten in its page, not left behind
// as free space. FAST: without the extra I/O of zeroing whole freed pages.
db.exec('PRAGMA secure_delete = FAST');
let synchronous: 'FULL' | 'NORMAL' | undefined;
let failing = false;
/** Content is sealed here, off the engine's event loop (see ../sealing/). */
const sealing: Sealing = init.key ? sealingWith({ id: init.key.id, key: Buffer.from(init.key.key) }) : PLAINTEXT;
/** The sealing key's check value is in key_checks (recorded, or found equal, by a committed round). */
let keyChecked = init.key === undefined;

const stmt: Record<string, StatementSync> = {
  insertMessage: db.prepare(
    `INSERT INTO messages (id, channel_id, source_id, source_version, received_at, raw_input, input_format, canonical, partition_key, mapping_version, filtered_by, key_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, source_id, source_version) DO NOTHING`,
  ),
  findBySource: db.prepare('SELECT id FROM messages WHERE channel_id = ? AND source_id = ? AND source_version = ?'),
  insertDelivery: db.prepare(
    `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, mapping_version, warnings, status, updated_at, key_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  markSent: db.prepare(`UPDATE deliveries SET status = 'sent', updated_at = ? WHERE id = ? AND status IN ('queued', 'errored')`),
  // With a control id, only if the row still carries it (see AttemptRecord.controlId).
  updateDelivery: db.prepare('UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND control_id = coalesce(?, control_id)'),
  followUpStatus: db.prepare('SELECT status FROM deliveries WHERE message_seq = (SELECT message_seq FROM deliveries WHERE id = ?) AND destination_id = ?'),
  // A resend settles again: its new follow-up replaces the earlier one of the same message and id.
  insertFollowUp: db.prepare(
    `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, follows, status, updated_at, key_id)
     SELECT message_seq, channel_id, ?, ?, ?, ?, ?, id, 'queued', ?, ? FROM deliveries WHERE id = ?
     ON CONFLICT (message_seq, destination_id) DO UPDATE SET
       lane = excluded.lane, control_id = excluded.control_id, payload = excluded.payload, content_type = excluded.content_type,
       follows = excluded.follows, status = 'queued', attempts = 0, next_attempt_at = 0, updated_at = excluded.updated_at, key_id = excluded.key_id`,
  ),
  insertAttempt: db.prepare(
    'INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, code, detail, response, round, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  // Not once retention removed the content: there is no payload left to send.
  requeue: db.prepare(
    `UPDATE deliveries SET status = 'queued', next_attempt_at = 0, dismissed_at = NULL, dismissed_by = NULL, updated_at = ?
      WHERE message_seq = (SELECT seq FROM messages WHERE id = ? AND content_pruned_at IS NULL)
        AND status IN ('acknowledged', 'rejected', 'dead') AND follows IS NULL`,
  ),
  // Retention walks a channel's messages oldest first from a cursor, a bounded number per batch,
  // so a backlog of old pending messages costs each batch no more than the others.
  contentWalk: db.prepare(
    `SELECT seq, received_at FROM messages INDEXED BY messages_with_content
      WHERE channel_id = ? AND content_pruned_at IS NULL AND received_at < ? AND (received_at, seq) > (?, ?)
      ORDER BY received_at, seq LIMIT ?`,
  ),
  metadataWalk: db.prepare(
    `SELECT seq, received_at FROM messages INDEXED BY messages_received
      WHERE channel_id = ? AND received_at < ? AND (received_at, seq) > (?, ?)
      ORDER BY received_at, seq LIMIT ?`,
  ),
  hasPending: db.prepare(`SELECT 1 AS pending FROM deliveries WHERE message_seq = ? AND status IN ('queued', 'sent', 'errored') LIMIT 1`),
  // Nothing sealed is left: the key ids go too (an attempt's detail stays, sealed as it was).
  pruneMessage: db.prepare(`UPDATE messages SET raw_input = '', canonical = NULL, key_id = NULL, content_pruned_at = ? WHERE seq = ?`),
  prunePayloads: db.prepare(`UPDATE deliveries SET payload = '', key_id = NULL WHERE message_seq = ?`),
  pruneAnswers: db.prepare(
    `UPDATE attempts SET response = NULL, key_id = CASE WHEN detail IS NULL THEN NULL ELSE key_id END
      WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_seq = ?) AND response IS NOT NULL`,
  ),
  deleteAttempts: db.prepare('DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE message_seq = ?)'),
  deleteDeliveries: db.prepare('DELETE FROM deliveries WHERE message_seq = ?'),
  deleteMessage: db.prepare('DELETE FROM messages WHERE seq = ?'),
  deleteSubmissions: db.prepare('DELETE FROM submissions WHERE seq IN (SELECT seq FROM submissions WHERE channel_id = ? AND received_at < ? LIMIT ?)'),
  insertKeyedSubmission: db.prepare(
    `INSERT INTO submissions (id, channel_id, idempotency_key, fingerprint, message_ids, received_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (channel_id, idempotency_key) DO NOTHING`,
  ),
  insertSubmission: db.prepare(
    `INSERT INTO submissions (id, channel_id, idempotency_key, fingerprint, message_ids, received_at)
     SELECT ?, ?, NULL, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM submissions WHERE channel_id = ? AND id = ?)`,
  ),
  submissionByKey: db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND idempotency_key = ?'),
  submissionById: db.prepare('SELECT * FROM submissions WHERE channel_id = ? AND id = ? ORDER BY seq LIMIT 1'),
  // The attempt that was on the wire counts: the receiver may have taken it (see recoverInFlight).
  recoverAttempts: db.prepare(
    `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, detail)
     SELECT id, attempts + 1, updated_at, 0, 'unknown', 'outcome unknown: engine restarted' FROM deliveries WHERE status = 'sent'`,
  ),
  recover: db.prepare(`UPDATE deliveries SET status = 'queued', attempts = attempts + 1, updated_at = ? WHERE status = 'sent'`),
  bringForward: db.prepare(
    `UPDATE deliveries SET next_attempt_at = 0, updated_at = ?
      WHERE message_seq = (SELECT seq FROM messages WHERE id = ?) AND status = 'errored' AND next_attempt_at > ?`,
  ),
  relane: db.prepare('UPDATE deliveries SET lane = ? WHERE id = ?'),
  dismiss: db.prepare(
    `UPDATE deliveries SET dismissed_at = ?, dismissed_by = ?
      WHERE message_seq = (SELECT seq FROM messages WHERE id = ?) AND status IN ('rejected', 'dead') AND dismissed_at IS NULL`,
  ),
  probe: db.prepare('PRAGMA user_version'),
  recordKeyCheck: db.prepare('INSERT INTO key_checks (key_id, check_value, created_at) VALUES (?, ?, ?) ON CONFLICT (key_id) DO NOTHING'),
  keyCheck: db.prepare('SELECT check_value FROM key_checks WHERE key_id = ?'),
};

/** Whether a round stores content (which is then sealed). */
function seals(step: Step): boolean {
  if (step.kind === 'inserts') return step.inserts.some((x) => x.kind === 'message');
  if (step.kind === 'ops') return step.ops.some((op) => op.kind === 'attempt' && (op.record.detail !== undefined || op.record.response !== undefined || op.record.followUp !== undefined));
  return false;
}

/**
 * Before the sealing key's first seal: its check value goes in key_checks, or, when another
 * process recorded that id first, must equal the one there (the store refused a mismatch at
 * open; this catches one that appeared since, e.g. another instance's key file).
 */
function checkSealingKey(): void {
  const check = keyCheckOf(init.key!);
  stmt.recordKeyCheck!.run(check.keyId, check.checkValue, new Date().toISOString());
  const stored = stmt.keyCheck!.get(check.keyId) as { check_value: string };
  if (stored.check_value !== check.checkValue) throw keyMismatch(check.keyId, 'the sealing key', init.file);
}

function run(round: Round): StepResult[] {
  const wanted = round.durable ? 'FULL' : 'NORMAL';
  // Delivery state only needs to survive a process crash (a lost update means a resend with the
  // same control id): its rounds skip the fsync; a durable intake round syncs the log with them.
  if (synchronous !== wanted) {
    db.exec(`PRAGMA synchronous = ${wanted}`);
    synchronous = wanted;
  }
  // While writes fail, a round fails at once instead of waiting out the busy timeout.
  if (failing !== round.failing) {
    db.exec(`PRAGMA busy_timeout = ${round.failing ? 0 : init.busyTimeoutMs}`);
    failing = round.failing;
  }
  const results: StepResult[] = [];
  try {
    db.exec('BEGIN IMMEDIATE');
    const checking = !keyChecked && round.steps.some(seals);
    if (checking) checkSealingKey();
    for (const step of round.steps) results.push(runStep(step, round.id));
    db.exec('COMMIT');
    if (checking) keyChecked = true;
    return results;
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

function runStep(step: Round['steps'][number], roundId: number): StepResult {
  switch (step.kind) {
    case 'ops': {
      let correction = 0;
      for (const op of step.ops) {
        if (op.kind === 'sent') {
          stmt.markSent!.run(op.at, op.deliveryId);
          continue;
        }
        const r = op.record;
        const sealed = r.detail !== undefined || r.response !== undefined;
        stmt.insertAttempt!.run(
          r.deliveryId, r.attempt, r.startedAt, r.latencyMs, r.outcome, r.code ?? null,
          sealOptional(sealing, 'attempts.detail', r.detail), sealOptional(sealing, 'attempts.response', r.response), roundId, sealed ? sealing.keyId : null,
        );
        const changed = Number(stmt.updateDelivery!.run(r.status, r.attempt, r.nextAttemptAt ?? 0, op.at, r.deliveryId, r.controlId ?? null).changes);
        // An outcome for a payload replaced meanwhile: the row stays pending, uncount the decrement.
        if (changed === 0 && TERMINAL.has(r.status)) correction++;
        if (!r.followUp) continue;
        if (changed === 0) {
          correction--;
          continue;
        }
        const f = r.followUp;
        const before = stmt.followUpStatus!.get(r.deliveryId, f.destinationId) as { status: DeliveryStatus } | undefined;
        // Replacing a follow-up that was still pending: it was counted already.
        if (before && PENDING.has(before.status)) correction--;
        stmt.insertFollowUp!.run(f.destinationId, f.lane, f.controlId, sealing.seal('deliveries.payload', f.payload), f.contentType, op.at, sealing.keyId, r.deliveryId);
      }
      return { kind: 'ops', correction };
    }
    case 'inserts': {
      const results: Array<{ kind: 'message'; result: InsertResult; deliveryIds: number[] } | { kind: 'submission'; result: Submission }> = [];
      for (const insert of step.inserts) {
        if (insert.kind === 'submission') {
          results.push({ kind: 'submission', result: writeSubmission(insert.submission) });
          continue;
        }
        const m = insert.message;
        const r = stmt.insertMessage!.run(
          m.id, m.channelId, m.sourceId, m.sourceVersion, m.receivedAt, sealing.seal('messages.raw_input', m.rawInput), m.inputFormat,
          sealOptional(sealing, 'messages.canonical', m.canonical), m.partitionKey, m.mappingVersion ?? null, m.filteredBy ?? null, sealing.keyId,
        );
        if (r.changes === 0) {
          const existing = stmt.findBySource!.get(m.channelId, m.sourceId, m.sourceVersion) as { id: string };
          results.push({ kind: 'message', result: { messageId: existing.id, duplicate: true }, deliveryIds: [] });
          continue;
        }
        const seq = Number(r.lastInsertRowid);
        const deliveryIds: number[] = [];
        for (const d of m.deliveries) {
          const inserted = stmt.insertDelivery!.run(
            seq, m.channelId, d.destinationId, d.lane, d.controlId, sealing.seal('deliveries.payload', d.payload), d.contentType,
            d.mappingVersion ?? null, d.warnings?.length ? JSON.stringify(d.warnings) : null, insertedStatus(d), m.receivedAt, sealing.keyId,
          );
          deliveryIds.push(Number(inserted.lastInsertRowid));
        }
        results.push({ kind: 'message', result: { messageId: m.id, duplicate: false }, deliveryIds });
      }
      return { kind: 'inserts', results };
    }
    case 'requeue':
      return { kind: 'count', n: Number(stmt.requeue!.run(step.at, step.messageId).changes) };
    case 'bringForward':
      return { kind: 'count', n: Number(stmt.bringForward!.run(step.at, step.messageId, step.now).changes) };
    case 'dismiss':
      return { kind: 'count', n: Number(stmt.dismiss!.run(step.at, step.by, step.messageId).changes) };
    case 'recover':
      stmt.recoverAttempts!.run();
      return { kind: 'count', n: Number(stmt.recover!.run(step.at).changes) };
    case 'prune':
      return prune(step);
    case 'relane':
      for (const [id, lane] of step.lanes) stmt.relane!.run(lane, id);
      return { kind: 'count', n: step.lanes.length };
    case 'probe':
      // A write of the header page: fails like any write while the disk is full or locked.
      db.exec(`PRAGMA user_version = ${(stmt.probe!.get() as { user_version: number }).user_version}`);
      return { kind: 'count', n: 0 };
  }
}

function prune(step: Extract<Step, { kind: 'prune' }>): StepResult {
  const walk = step.what === 'content' ? stmt.contentWalk! : stmt.metadataWalk!;
  const rows = walk.all(step.channelId, step.before, step.after.receivedAt, step.after.seq, step.limit) as Array<{ seq: number; received_at: string }>;
  let changed = 0;
  for (const { seq } of rows) {
    // A message still to be delivered keeps everything, whatever its age.
    if (stmt.hasPending!.get(seq)) continue;
    if (step.what === 'content') {
      stmt.pruneAnswers!.run(seq);
      stmt.prunePayloads!.run(seq);
      stmt.pruneMessage!.run(step.at, seq);
    } else {
      stmt.deleteAttempts!.run(seq);
      stmt.deleteDeliveries!.run(seq);
      stmt.deleteMessage!.run(seq);
    }
    changed++;
  }
  // What a REST submitter polls: gone with the messages it lists.
  if (step.what === 'metadata') stmt.deleteSubmissions!.run(step.channelId, step.before, step.limit);
  const last = rows.at(-1);
  return { kind: 'pruned', changed, ...(rows.length === step.limit && last ? { next: { receivedAt: last.received_at, seq: last.seq } } : {}) };
}

function writeSubmission(x: Submission): Submission {
  const ids = JSON.stringify(x.messageIds);
  if (x.idempotencyKey === undefined) {
    stmt.insertSubmission!.run(x.id, x.channelId, x.fingerprint, ids, x.receivedAt, x.channelId, x.id);
    return submissionOf(stmt.submissionById!.get(x.channelId, x.id) as Record<string, string>);
  }
  stmt.insertKeyedSubmission!.run(x.id, x.channelId, x.idempotencyKey, x.fingerprint, ids, x.receivedAt);
  return submissionOf(stmt.submissionByKey!.get(x.channelId, x.idempotencyKey) as Record<string, string>);
}

parentPort!.on('message', (message: Round | { kind: 'close' }) => {
  if (message.kind === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let answer: RoundAnswer;
  try {
    answer = { id: message.id, ok: true, results: run(message) };
  } catch (e) {
    const x = e as { message?: unknown; code?: unknown; errcode?: unknown; errstr?: unknown };
    answer = {
      id: message.id,
      ok: false,
      error: {
        message: typeof x.message === 'string' ? x.message : String(e),
        ...(typeof x.code === 'string' ? { code: x.code } : {}),
        ...(typeof x.errcode === 'number' ? { errcode: x.errcode } : {}),
        ...(typeof x.errstr === 'string' ? { errstr: x.errstr } : {}),
      },
    };
  }
  parentPort!.postMessage(answer);
});
