/**
 * Runs the group commit's rounds on one PostgreSQL connection of its own, one transaction per
 * round. Set-based statements (unnest of arrays) write a round's intake and outcomes in a few
 * round trips whatever its size. A connection that broke (the server restarted) is replaced at
 * the next round.
 */
import pg from 'pg';
import type { Round, RoundRunner, Step, StepResult } from '../rounds.ts';
import { insertedStatus, submissionOf } from '../rows.ts';
import { keyCheckOf, keyMismatch } from '../sealing/key-checks.ts';
import type { DataKey } from '../sealing/keyring.ts';
import { PLAINTEXT, type Sealing, sealingWith, sealOptional } from '../sealing/rows.ts';
import { type AttemptRecord, type DeliveryStatus, type Fence, type InsertResult, type NewMessage, PENDING_STATUSES, type Submission, TERMINAL_STATUSES } from '../types.ts';
import type { Op } from '../write-behind.ts';
import { postgresWords } from './connection.ts';
import { pruneBatch } from './prune.ts';

const TERMINAL: ReadonlySet<DeliveryStatus> = new Set(TERMINAL_STATUSES);
const PENDING: ReadonlySet<DeliveryStatus> = new Set(PENDING_STATUSES);

/** How long a round waits for a lock held by another connection before failing (while writes fail: at once). */
const LOCK_TIMEOUT = '5s';
const FAILING_LOCK_TIMEOUT = '100ms';

export type Q = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/** What every step needs besides its own data: the round's id, which instance writes, how content is stored, and the channels to tell the others about at commit. */
interface Ctx {
  round: number;
  instance: string;
  sealing: Sealing;
  notify: Set<string>;
}

/** The channel other instances LISTEN on: deliveries were added or requeued in these channels ('*': any). */
export const INTAKE_CHANNEL = 'conduit_intake';
type InsertOutcome = { kind: 'message'; result: InsertResult; deliveryIds: number[] } | { kind: 'submission'; result: Submission };

export class PostgresWriter implements RoundRunner {
  private client: pg.Client | undefined;
  private readonly config: pg.ClientConfig;
  /** Resolves once the store's schema is in place: no round runs before. */
  private readonly ready: Promise<unknown>;
  private readonly instance: string;
  private readonly key: DataKey | undefined;
  private readonly sealing: Sealing;
  /** The sealing key's check value is in key_checks (recorded, or found equal, by a committed round). */
  private keyChecked: boolean;

  /** `key`: content is sealed with it (see ../sealing/); none: plaintext. */
  constructor(config: pg.ClientConfig, ready: Promise<unknown>, instance: string, key?: DataKey) {
    this.config = config;
    this.ready = ready;
    this.instance = instance;
    this.key = key;
    this.sealing = key ? sealingWith(key) : PLAINTEXT;
    this.keyChecked = key === undefined;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client(this.config);
    // A broken connection is dropped here and replaced at the next round; the round in flight fails on its own.
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
    });
    await client.connect();
    // Delivery state only needs to survive a crash of this process (a lost update means a
    // resend with the same control id): rounds do not wait for the WAL flush unless they hold a
    // durable intake (SET LOCAL below).
    await client.query(`SET synchronous_commit TO off; SET lock_timeout TO '${LOCK_TIMEOUT}'`);
    this.client = client;
    return client;
  }

  async run(round: Round): Promise<StepResult[]> {
    await this.ready;
    const client = await this.connection();
    const q: Q = (text, values) => client.query(text, values);
    try {
      // One round trip to begin, one to commit (with the notification, sent at commit), besides the steps.
      await q(
        ['BEGIN', ...(round.durable ? ['SET LOCAL synchronous_commit TO on'] : []), ...(round.failing ? [`SET LOCAL lock_timeout TO '${FAILING_LOCK_TIMEOUT}'`] : [])].join('; '),
      );
      const results: StepResult[] = [];
      const ctx: Ctx = { round: round.id, instance: this.instance, sealing: this.sealing, notify: new Set() };
      const checking = !this.keyChecked && round.steps.some(seals);
      if (checking) await checkSealingKey(q, this.key!);
      for (const step of round.steps) results.push(await runStep(q, step, ctx));
      const notice = ctx.notify.size > 0 ? `SELECT pg_notify('${INTAKE_CHANNEL}', ${client.escapeLiteral(JSON.stringify({ from: ctx.instance, channels: [...ctx.notify] }))}); ` : '';
      await q(`${notice}COMMIT`);
      if (checking) this.keyChecked = true;
      return results;
    } catch (e) {
      try {
        await q('ROLLBACK');
      } catch {
        // The connection is gone: the server rolled back; a new connection is made next round.
        if (this.client === client) this.client = undefined;
        client.end().catch(() => {});
      }
      throw e;
    }
  }

  describe(error: unknown): string {
    return postgresWords(error);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}

/** Whether a round stores content (which is then sealed). */
function seals(step: Step): boolean {
  if (step.kind === 'inserts') return step.inserts.some((x) => x.kind === 'message');
  if (step.kind === 'ops') return step.ops.some((op) => op.kind === 'attempt' && (op.record.detail !== undefined || op.record.response !== undefined || op.record.followUp !== undefined));
  return false;
}

/**
 * Before the sealing key's first seal: its check value goes in key_checks, or, when another
 * instance recorded that id first, must equal the one there (the store refused a mismatch at
 * open; this catches one that appeared since, e.g. another instance's key file).
 */
async function checkSealingKey(q: Q, key: DataKey): Promise<void> {
  const check = keyCheckOf(key);
  const r = await q(
    `WITH added AS (INSERT INTO key_checks (key_id, check_value, created_at) VALUES ($1, $2, clock_timestamp()) ON CONFLICT (key_id) DO NOTHING RETURNING check_value)
     SELECT check_value FROM added UNION ALL SELECT check_value FROM key_checks WHERE key_id = $1`,
    [check.keyId, check.checkValue],
  );
  if ((r.rows as Array<{ check_value: string }>).some((row) => row.check_value !== check.checkValue)) throw keyMismatch(check.keyId, 'the sealing key', 'this PostgreSQL store');
}

/** Tells the other instances (LISTEN conduit_intake), at commit, that these channels have new pending deliveries. */
function notify(ctx: Ctx, channels: readonly string[]): void {
  for (const c of channels) ctx.notify.add(c);
}

async function runStep(q: Q, step: Step, ctx: Ctx): Promise<StepResult> {
  const { round } = ctx;
  switch (step.kind) {
    case 'ops':
      return writeOps(q, step.ops, ctx);
    case 'inserts':
      return { kind: 'inserts', results: await writeInserts(q, step.inserts, ctx) };
    case 'requeue': {
      // Not once retention removed the content: there is no payload left to send.
      const r = await q(
        `UPDATE deliveries SET status = 'queued', next_attempt_at = 0, dismissed_at = NULL, dismissed_by = NULL, updated_at = $1, round = $3
          WHERE message_seq = (SELECT seq FROM messages WHERE id = $2 AND content_pruned_at IS NULL)
            AND status IN ('acknowledged', 'rejected', 'dead') AND follows IS NULL`,
        [step.at, step.messageId, round],
      );
      if (r.rowCount) notify(ctx, ['*']);
      return { kind: 'count', n: r.rowCount ?? 0 };
    }
    case 'bringForward': {
      const r = await q(
        `UPDATE deliveries SET next_attempt_at = 0, updated_at = $1, round = $4
          WHERE message_seq = (SELECT seq FROM messages WHERE id = $2) AND status = 'errored' AND next_attempt_at > $3`,
        [step.at, step.messageId, step.now, round],
      );
      if (r.rowCount) notify(ctx, ['*']);
      return { kind: 'count', n: r.rowCount ?? 0 };
    }
    case 'dismiss': {
      const r = await q(
        `UPDATE deliveries SET dismissed_at = $1, dismissed_by = $2, round = $4
          WHERE message_seq = (SELECT seq FROM messages WHERE id = $3) AND status IN ('rejected', 'dead') AND dismissed_at IS NULL`,
        [step.at, step.by, step.messageId, round],
      );
      return { kind: 'count', n: r.rowCount ?? 0 };
    }
    case 'recover': {
      // The attempt that was on the wire counts: the receiver may have taken it (see recoverInFlight).
      await q(
        `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, detail)
         SELECT id, attempts + 1, updated_at, 0, 'unknown', 'outcome unknown: engine restarted' FROM deliveries WHERE status = 'sent' ORDER BY id`,
      );
      const r = await q(`UPDATE deliveries SET status = 'queued', attempts = attempts + 1, updated_at = $1, round = $2 WHERE status = 'sent'`, [step.at, round]);
      return { kind: 'count', n: r.rowCount ?? 0 };
    }
    case 'relane':
      await q('UPDATE deliveries d SET lane = u.lane, round = $3 FROM unnest($1::bigint[], $2::int[]) AS u (id, lane) WHERE d.id = u.id', [
        step.lanes.map(([id]) => id),
        step.lanes.map(([, lane]) => lane),
        round,
      ]);
      return { kind: 'count', n: step.lanes.length };
    case 'prune':
      // PostgresStore runs retention on a connection of its own (see its pruneBatch); a round that holds a batch runs it the same way.
      return pruneBatch(q, step);
    case 'probe':
      // A write: fails like any write while the server refuses them.
      await q(`UPDATE conduit_meta SET value = value WHERE key = 'schema_version'`);
      return { kind: 'count', n: 0 };
  }
}

/**
 * Outcomes and marks, in order per delivery (see writeSegment). Those under a fence are written only while this instance
 * holds the lane's lease with that token; the lease rows are locked (FOR SHARE) until the
 * round commits, so a takeover waits for it and then sees what it wrote.
 */
async function writeOps(q: Q, all: readonly Op[], ctx: Ctx): Promise<StepResult> {
  const held = await heldFences(q, all, ctx);
  const fencedOut = (f: Fence | undefined) => f !== undefined && !held.has(fenceKey(f));
  let correction = 0;
  const fenced: number[] = [];
  const ops: Op[] = [];
  for (const op of all) {
    if (op.kind === 'sent' ? !fencedOut(op.fence) : !fencedOut(op.record.fence)) {
      ops.push(op);
      continue;
    }
    if (op.kind === 'sent') fenced.push(op.deliveryId);
    else {
      // Counted out of (or into) the backlog when recorded: it stays pending for the lane's new owner.
      if (TERMINAL.has(op.record.status)) correction++;
      if (op.record.followUp) correction--;
    }
  }
  // Ops of different deliveries are independent; a follow-up (which writes another row) is a barrier.
  let from = 0;
  while (from < ops.length) {
    let to = from;
    while (to < ops.length && !isFollowUp(ops[to]!)) to++;
    correction += await writeSegment(q, ops.slice(from, to), ctx);
    if (to < ops.length) correction += await writeWithFollowUp(q, (ops[to] as Extract<Op, { kind: 'attempt' }>).record, ops[to]!.at, ctx);
    from = to + 1;
  }
  return { kind: 'ops', correction, ...(fenced.length > 0 ? { fenced } : {}) };
}

function isFollowUp(op: Op): boolean {
  return op.kind === 'attempt' && op.record.followUp !== undefined;
}

/**
 * Marks and outcomes without follow-ups, in as few statements as the order per delivery allows:
 * phase k holds the k-th op of each delivery, and a phase is one statement of marks and two of
 * outcomes (a lane's mark and the outcome of its previous row are in different rows).
 */
async function writeSegment(q: Q, ops: readonly Op[], ctx: Ctx): Promise<number> {
  const { round } = ctx;
  const phases: Op[][] = [];
  const seen = new Map<number, number>();
  for (const op of ops) {
    const id = op.kind === 'sent' ? op.deliveryId : op.record.deliveryId;
    const k = seen.get(id) ?? 0;
    seen.set(id, k + 1);
    const phase = phases[k];
    if (phase) phase.push(op);
    else phases[k] = [op];
  }
  let correction = 0;
  for (const phase of phases) {
    const marks = phase.filter((op): op is Extract<Op, { kind: 'sent' }> => op.kind === 'sent');
    if (marks.length > 0) {
      await q(
        `UPDATE deliveries d SET status = 'sent', updated_at = u.at, round = $3
           FROM unnest($1::bigint[], $2::timestamptz[]) AS u (id, at)
          WHERE d.id = u.id AND d.status IN ('queued', 'errored')`,
        [marks.map((o) => o.deliveryId), marks.map((o) => o.at), round],
      );
    }
    const outcomes = phase.flatMap((op) => (op.kind === 'attempt' ? [{ record: op.record, at: op.at }] : []));
    if (outcomes.length === 0) continue;
    const changed = await writeAttempts(q, outcomes, ctx);
    for (const { record } of outcomes) if (TERMINAL.has(record.status) && !changed.has(record.deliveryId)) correction++;
  }
  return correction;
}

function fenceKey(f: Pick<Fence, 'channelId' | 'destinationId' | 'lane' | 'token'>): string {
  return `${f.channelId}\u0000${f.destinationId}\u0000${f.lane}\u0000${f.token}`;
}

/** The fences of these ops that this instance's leases still carry, their rows locked until commit. */
async function heldFences(q: Q, ops: readonly Op[], ctx: Ctx): Promise<Set<string>> {
  const fences = new Map<string, Fence>();
  for (const op of ops) {
    const f = op.kind === 'sent' ? op.fence : op.record.fence;
    if (f) fences.set(fenceKey(f), f);
  }
  if (fences.size === 0) return new Set();
  const list = [...fences.values()];
  const r = await q(
    `SELECT l.channel_id, l.destination_id, l.lane, l.token FROM lane_leases l
       JOIN unnest($2::text[], $3::text[], $4::int[]) AS u (channel_id, destination_id, lane)
         ON l.channel_id = u.channel_id AND l.destination_id = u.destination_id AND l.lane = u.lane
      WHERE l.owner = $1 AND l.expires_at > clock_timestamp()
      ORDER BY l.channel_id, l.destination_id, l.lane
      FOR SHARE OF l`,
    [ctx.instance, list.map((f) => f.channelId), list.map((f) => f.destinationId), list.map((f) => f.lane)],
  );
  return new Set(
    (r.rows as Array<{ channel_id: string; destination_id: string; lane: number; token: number }>).map((x) =>
      fenceKey({ channelId: x.channel_id, destinationId: x.destination_id, lane: x.lane, token: x.token }),
    ),
  );
}

/** Stores the attempts and changes their deliveries (only those still carrying the control id sent); returns the ids changed. */
async function writeAttempts(q: Q, run: Array<{ record: AttemptRecord; at: string }>, ctx: Ctx): Promise<Set<number>> {
  const { round, sealing } = ctx;
  const r = run.map((x) => x.record);
  await q(
    `INSERT INTO attempts (delivery_id, attempt, started_at, latency_ms, outcome, code, detail, response, round, key_id)
     SELECT u.delivery_id, u.attempt, u.started_at, u.latency_ms, u.outcome, u.code, u.detail, u.response, $9, u.key_id
       FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[], $10::text[])
            WITH ORDINALITY AS u (delivery_id, attempt, started_at, latency_ms, outcome, code, detail, response, key_id, ord)
      ORDER BY u.ord`,
    [
      r.map((a) => a.deliveryId),
      r.map((a) => a.attempt),
      r.map((a) => a.startedAt),
      r.map((a) => a.latencyMs),
      r.map((a) => a.outcome),
      r.map((a) => a.code ?? null),
      r.map((a) => sealOptional(sealing, 'attempts.detail', a.detail)),
      r.map((a) => sealOptional(sealing, 'attempts.response', a.response)),
      round,
      r.map((a) => (a.detail !== undefined || a.response !== undefined ? sealing.keyId : null)),
    ],
  );
  const updated = await q(
    `UPDATE deliveries d SET status = u.status, attempts = u.attempt, next_attempt_at = u.next_attempt_at, updated_at = u.at, round = $7
       FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::timestamptz[], $6::text[]) AS u (id, status, attempt, next_attempt_at, at, control_id)
      WHERE d.id = u.id AND d.control_id = coalesce(u.control_id, d.control_id)
      RETURNING d.id`,
    [r.map((a) => a.deliveryId), r.map((a) => a.status), r.map((a) => a.attempt), r.map((a) => a.nextAttemptAt ?? 0), run.map((x) => x.at), r.map((a) => a.controlId ?? null), round],
  );
  return new Set(updated.rows.map((row: { id: number }) => row.id));
}

/** An outcome and the follow-up (status callback) stored with it; returns the correction of the pending count. */
async function writeWithFollowUp(q: Q, r: AttemptRecord, at: string, ctx: Ctx): Promise<number> {
  const { round, sealing } = ctx;
  const changed = await writeAttempts(q, [{ record: r, at }], ctx);
  let correction = 0;
  // An outcome for a payload replaced meanwhile: the row stays pending, and no follow-up.
  if (!changed.has(r.deliveryId)) return TERMINAL.has(r.status) ? 0 : -1;
  const f = r.followUp!;
  const before = await q('SELECT status FROM deliveries WHERE message_seq = (SELECT message_seq FROM deliveries WHERE id = $1) AND destination_id = $2', [
    r.deliveryId,
    f.destinationId,
  ]);
  // Replacing a follow-up that was still pending: it was counted already.
  const status = (before.rows[0] as { status: DeliveryStatus } | undefined)?.status;
  if (status && PENDING.has(status)) correction--;
  // A resend settles again: its new follow-up replaces the earlier one of the same message and id.
  await q(
    `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, follows, status, updated_at, round, key_id)
     SELECT message_seq, channel_id, $1, $2, $3, $4, $5, id, 'queued', $6, $8, $9::text FROM deliveries WHERE id = $7
     ON CONFLICT (message_seq, destination_id) DO UPDATE SET
       lane = excluded.lane, control_id = excluded.control_id, payload = excluded.payload, content_type = excluded.content_type,
       follows = excluded.follows, status = 'queued', attempts = 0, next_attempt_at = 0, updated_at = excluded.updated_at, round = excluded.round,
       key_id = excluded.key_id`,
    [f.destinationId, f.lane, f.controlId, sealing.seal('deliveries.payload', f.payload), f.contentType, at, r.deliveryId, round, sealing.keyId],
  );
  // Its lane may be another instance's.
  notify(ctx, r.fence ? [r.fence.channelId] : ['*']);
  return correction;
}

type InsertStep = Extract<Step, { kind: 'inserts' }>['inserts'];

/** Messages with their deliveries in three statements (in intake order, so delivery ids follow it), then submissions. */
async function writeInserts(q: Q, inserts: InsertStep, ctx: Ctx): Promise<InsertOutcome[]> {
  const { round, sealing } = ctx;
  const results: InsertOutcome[] = new Array(inserts.length);
  const messages: Array<{ index: number; message: NewMessage }> = [];
  inserts.forEach((x, index) => {
    if (x.kind === 'message') messages.push({ index, message: x.message });
  });
  if (messages.length > 0) {
    const ms = messages.map((x) => x.message);
    const inserted = await q(
      `INSERT INTO messages (id, channel_id, source_id, source_version, received_at, raw_input, input_format, canonical, partition_key, mapping_version, filtered_by, key_id)
       SELECT u.id, u.channel_id, u.source_id, u.source_version, u.received_at, u.raw_input, u.input_format, u.canonical, u.partition_key, u.mapping_version, u.filtered_by, $12::text
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
              WITH ORDINALITY AS u (id, channel_id, source_id, source_version, received_at, raw_input, input_format, canonical, partition_key, mapping_version, filtered_by, ord)
        ORDER BY u.ord
       ON CONFLICT (channel_id, source_id, source_version) DO NOTHING
       RETURNING seq, id`,
      [
        ms.map((m) => m.id),
        ms.map((m) => m.channelId),
        ms.map((m) => m.sourceId),
        ms.map((m) => m.sourceVersion),
        ms.map((m) => m.receivedAt),
        ms.map((m) => sealing.seal('messages.raw_input', m.rawInput)),
        ms.map((m) => m.inputFormat),
        ms.map((m) => sealOptional(sealing, 'messages.canonical', m.canonical)),
        ms.map((m) => m.partitionKey),
        ms.map((m) => m.mappingVersion ?? null),
        ms.map((m) => m.filteredBy ?? null),
        sealing.keyId,
      ],
    );
    const seqOf = new Map<string, number>(inserted.rows.map((r: { seq: number; id: string }) => [r.id, r.seq]));
    const existing = await existingIds(
      q,
      ms.filter((m) => !seqOf.has(m.id)),
    );
    const deliveries = ms.flatMap((m) => {
      const seq = seqOf.get(m.id);
      return seq === undefined ? [] : m.deliveries.map((d) => ({ seq, m, d }));
    });
    const ids = new Map<string, number>();
    if (deliveries.length > 0) {
      const r = await q(
        `INSERT INTO deliveries (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, mapping_version, warnings, status, updated_at, round, key_id)
         SELECT u.message_seq, u.channel_id, u.destination_id, u.lane, u.control_id, u.payload, u.content_type, u.mapping_version, u.warnings, u.status, u.updated_at, $11, $12::text
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $13::text[])
                WITH ORDINALITY AS u (message_seq, channel_id, destination_id, lane, control_id, payload, content_type, mapping_version, warnings, updated_at, status, ord)
          ORDER BY u.ord
         RETURNING id, message_seq, destination_id`,
        [
          deliveries.map((x) => x.seq),
          deliveries.map((x) => x.m.channelId),
          deliveries.map((x) => x.d.destinationId),
          deliveries.map((x) => x.d.lane),
          deliveries.map((x) => x.d.controlId),
          deliveries.map((x) => sealing.seal('deliveries.payload', x.d.payload)),
          deliveries.map((x) => x.d.contentType),
          deliveries.map((x) => x.d.mappingVersion ?? null),
          deliveries.map((x) => (x.d.warnings?.length ? JSON.stringify(x.d.warnings) : null)),
          deliveries.map((x) => x.m.receivedAt),
          round,
          sealing.keyId,
          deliveries.map((x) => insertedStatus(x.d)),
        ],
      );
      for (const row of r.rows as Array<{ id: number; message_seq: number; destination_id: string }>) ids.set(`${row.message_seq}\u0000${row.destination_id}`, row.id);
      notify(ctx, [...new Set(deliveries.map((x) => x.m.channelId))]);
    }
    for (const { index, message: m } of messages) {
      const seq = seqOf.get(m.id);
      if (seq === undefined) {
        const id = existing.get(sourceKey(m));
        if (id === undefined) throw new Error(`message ${m.id} was neither stored nor found by its source id`);
        results[index] = { kind: 'message', result: { messageId: id, duplicate: true }, deliveryIds: [] };
        continue;
      }
      const deliveryIds = m.deliveries.map((d) => ids.get(`${seq}\u0000${d.destinationId}`)!);
      results[index] = { kind: 'message', result: { messageId: m.id, duplicate: false }, deliveryIds };
    }
  }
  for (const [index, x] of inserts.entries()) {
    if (x.kind === 'submission') results[index] = { kind: 'submission', result: await writeSubmission(q, x.submission) };
  }
  return results;
}

function sourceKey(m: { channelId: string; sourceId: string; sourceVersion: string }): string {
  return `${m.channelId}\u0000${m.sourceId}\u0000${m.sourceVersion}`;
}

/** The ids of the stored messages with the same channel, source id and version as these (repeats). */
async function existingIds(q: Q, repeats: NewMessage[]): Promise<Map<string, string>> {
  if (repeats.length === 0) return new Map();
  const r = await q(
    `SELECT m.id, m.channel_id, m.source_id, m.source_version FROM messages m
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS u (channel_id, source_id, source_version)
         ON m.channel_id = u.channel_id AND m.source_id = u.source_id AND m.source_version = u.source_version`,
    [repeats.map((m) => m.channelId), repeats.map((m) => m.sourceId), repeats.map((m) => m.sourceVersion)],
  );
  return new Map(
    (r.rows as Array<{ id: string; channel_id: string; source_id: string; source_version: string }>).map((row) => [
      sourceKey({ channelId: row.channel_id, sourceId: row.source_id, sourceVersion: row.source_version }),
      row.id,
    ]),
  );
}

async function writeSubmission(q: Q, x: Submission): Promise<Submission> {
  const ids = JSON.stringify(x.messageIds);
  if (x.idempotencyKey === undefined) {
    await q(
      `INSERT INTO submissions (id, channel_id, idempotency_key, fingerprint, message_ids, received_at)
       SELECT $1, $2, NULL, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM submissions WHERE channel_id = $2 AND id = $1)`,
      [x.id, x.channelId, x.fingerprint, ids, x.receivedAt],
    );
    const r = await q('SELECT * FROM submissions WHERE channel_id = $1 AND id = $2 ORDER BY seq LIMIT 1', [x.channelId, x.id]);
    return submissionOf(r.rows[0] as Record<string, string>);
  }
  await q(
    `INSERT INTO submissions (id, channel_id, idempotency_key, fingerprint, message_ids, received_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (channel_id, idempotency_key) DO NOTHING`,
    [x.id, x.channelId, x.idempotencyKey, x.fingerprint, ids, x.receivedAt],
  );
  const r = await q('SELECT * FROM submissions WHERE channel_id = $1 AND idempotency_key = $2', [x.channelId, x.idempotencyKey]);
  return submissionOf(r.rows[0] as Record<string, string>);
}
