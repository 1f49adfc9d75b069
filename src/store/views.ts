/**
 * What a store's reads make of the rows they read, whatever the database: both stores have the
 * same tables and column names (see sqlite/schema.ts, postgres/schema.ts), and lay the outcomes
 * not yet written (write-behind.ts) over them the same way.
 */
import type {
  ChannelCounts,
  DeliveryStatus,
  DeliveryView,
  DestinationBacklog,
  MessageQuery,
  MessageStatus,
  MessageSummary,
  MessageView,
  NewerVersion,
  PendingDelivery,
  SettledCounts,
} from './types.ts';
import { isUnreadable, type RowOpener } from './sealing/rows.ts';
import { TERMINAL_STATUSES } from './types.ts';
import { isNewerVersion } from './versions.ts';
import { type Op, overlay } from './write-behind.ts';

export type Row = Record<string, string | number | null>;

const TERMINAL: ReadonlySet<DeliveryStatus> = new Set(TERMINAL_STATUSES);

/** Display precedence: a message shows its most troubled delivery. */
const STATUS_PRECEDENCE: DeliveryStatus[] = ['dead', 'rejected', 'errored', 'sent', 'queued', 'acknowledged'];

/**
 * How many more rows than wanted a lane reads: the unwritten outcomes that end a delivery, each
 * of which may turn a row read as pending into a finished one.
 */
export function finishingOps(ops: readonly Op[]): number {
  return ops.filter((op) => op.kind === 'attempt' && TERMINAL.has(op.record.status)).length;
}

/**
 * A lane's pending rows with the unwritten outcomes laid over, so a finished row is never taken
 * as pending again; payloads opened. A payload that cannot be opened does not fail the read (the
 * rows behind it are the lane's too): its row carries the error (PendingDelivery.unreadable).
 */
export function pendingOf(read: Row[], ops: readonly Op[], limit: number, opener: RowOpener): PendingDelivery[] {
  const rows = overlay(read, ops).filter((r) => !TERMINAL.has(r.status as DeliveryStatus));
  return rows.slice(0, limit).map((r) => {
    let payload = '';
    let unreadable: PendingDelivery['unreadable'];
    try {
      payload = opener.open('deliveries', r).payload as string;
    } catch (e) {
      if (!isUnreadable(e)) throw e;
      unreadable = e;
    }
    return {
      id: r.id as number,
      messageId: r.message_id as string,
      destinationId: r.destination_id as string,
      controlId: r.control_id as string,
      payload,
      contentType: r.content_type as string,
      attempts: r.attempts as number,
      nextAttemptAt: r.next_attempt_at as number,
      partitionKey: r.partition_key as string,
      sourceId: r.source_id as string,
      sourceVersion: r.source_version as string,
      receivedAt: r.received_at as string,
      ...(unreadable ? { unreadable } : {}),
    };
  });
}

export function backlogOf(rows: Array<{ channel_id: string; destination_id: string; n: number }>): DestinationBacklog[] {
  return rows.map((r) => ({ channelId: r.channel_id, destinationId: r.destination_id, pending: r.n }));
}

export function settledCounts(rows: Array<{ channel_id: string; destination_id: string; status: 'dead' | 'rejected'; n: number }>): SettledCounts[] {
  const byDestination = new Map<string, SettledCounts>();
  for (const r of rows) {
    const key = `${r.channel_id}\u0000${r.destination_id}`;
    const c = byDestination.get(key) ?? { channelId: r.channel_id, destinationId: r.destination_id, dead: 0, rejected: 0 };
    c[r.status] = r.n;
    byDestination.set(key, c);
  }
  return [...byDestination.values()];
}

/** The other versions of a message's result that are newer than it, newest first (see versions.ts). */
export interface VersionRow {
  seq: number;
  id: string;
  source_version: string;
  received_at: string;
}

export function newerOf(m: { seq: number; source_version: string }, others: VersionRow[], acknowledgedBy: (seq: number) => string[]): NewerVersion[] {
  return others
    .filter((o) => isNewerVersion({ version: o.source_version, seq: o.seq }, { version: m.source_version, seq: m.seq }))
    .sort((a, b) => (isNewerVersion({ version: a.source_version, seq: a.seq }, { version: b.source_version, seq: b.seq }) ? -1 : 1))
    .map((o) => ({ id: o.id, sourceVersion: o.source_version, receivedAt: o.received_at, acknowledgedBy: acknowledgedBy(o.seq) }));
}

/**
 * A message row, its delivery rows (unwritten outcomes laid over) and each delivery's attempts,
 * as the admin API shows them, content opened. Throws STORE_KEY_UNKNOWN or STORE_SEAL_INVALID
 * (naming the table, row and key) when a row does not open.
 */
export function messageView(sealed: Row, sealedDeliveries: Row[], sealedAttemptsOf: (deliveryId: number) => Row[], opener: RowOpener): MessageView {
  const m = opener.open('messages', sealed);
  const deliveryRows = sealedDeliveries.map((d) => opener.open('deliveries', d));
  const attemptsOf = (deliveryId: number) => sealedAttemptsOf(deliveryId).map((a) => opener.open('attempts', a));
  const deliveries = deliveryRows.map(
    (d): DeliveryView => ({
      destinationId: d.destination_id as string,
      controlId: d.control_id as string,
      status: d.status as DeliveryStatus,
      payload: d.payload as string,
      contentType: d.content_type as string,
      ...(d.mapping_version ? { mappingVersion: d.mapping_version as string } : {}),
      ...(d.warnings ? { warnings: JSON.parse(d.warnings as string) as string[] } : {}),
      ...(d.follows ? { follows: deliveryRows.find((o) => o.id === d.follows)?.destination_id as string } : {}),
      updatedAt: d.updated_at as string,
      ...(d.dismissed_at ? { dismissedAt: d.dismissed_at as string, dismissedBy: d.dismissed_by as string } : {}),
      ...(d.status === 'errored' && d.next_attempt_at ? { nextAttemptAt: new Date(d.next_attempt_at as number).toISOString() } : {}),
      attempts: attemptsOf(d.id as number).map((a) => ({
        attempt: a.attempt as number,
        startedAt: a.started_at as string,
        latencyMs: a.latency_ms as number,
        outcome: a.outcome as string,
        ...(a.code ? { code: a.code as string } : {}),
        ...(a.detail ? { detail: a.detail as string } : {}),
        ...(a.response ? { response: a.response as string } : {}),
      })),
    }),
  );
  return {
    ...summaryOf(m, deliveries.map((d) => d.status)),
    ...(m.mapping_version ? { mappingVersion: m.mapping_version as string } : {}),
    ...(m.filtered_by ? { filteredBy: m.filtered_by as string } : {}),
    rawInput: m.raw_input as string,
    ...(m.content_pruned_at ? { contentPrunedAt: m.content_pruned_at as string } : {}),
    inputFormat: m.input_format as string,
    ...(m.canonical ? { canonical: JSON.parse(m.canonical as string) } : {}),
    deliveries,
  };
}

/** A message row in a list, with the statuses of its deliveries (unwritten outcomes laid over). */
export function summaryOf(m: Row, statuses: DeliveryStatus[]): MessageSummary {
  return {
    id: m.id as string,
    channelId: m.channel_id as string,
    sourceId: m.source_id as string,
    sourceVersion: m.source_version as string,
    receivedAt: m.received_at as string,
    status: m.filtered_by ? 'filtered' : aggregate(statuses),
  };
}

function aggregate(statuses: DeliveryStatus[]): MessageStatus {
  if (statuses.length === 0) return 'received';
  for (const s of STATUS_PRECEDENCE) if (statuses.includes(s)) return s;
  return 'received';
}

/**
 * The WHERE conditions of a page of messages (table alias m), newest first from the cursor;
 * `param` adds a value and returns its placeholder ('?' or '$n').
 */
export function listConditions(q: MessageQuery, param: (value: string | number) => string): string[] {
  const where: string[] = [];
  if (q.channelId) where.push(`m.channel_id = ${param(q.channelId)}`);
  if (q.channelIds) where.push(q.channelIds.length === 0 ? 'FALSE' : `m.channel_id IN (${q.channelIds.map((c) => param(c)).join(', ')})`);
  if (q.cursor) where.push(`m.seq < ${param(cursorSeq(q.cursor))}`);
  if (q.since) where.push(`m.received_at >= ${param(q.since)}`);
  if (q.until) where.push(`m.received_at < ${param(q.until)}`);
  if (q.sourceId) where.push(`m.source_id = ${param(q.sourceId)}`);
  if (q.patient) where.push(`m.partition_key = ${param(`patient:${q.patient}`)}`);
  if (q.controlId) where.push(`m.seq IN (SELECT message_seq FROM deliveries WHERE control_id = ${param(q.controlId)})`);
  if (q.status === 'filtered') where.push('m.filtered_by IS NOT NULL');
  else if (q.status === 'received') where.push('m.filtered_by IS NULL AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq)');
  else if (q.status) {
    // A message is listed under the status it displays: its most troubled delivery's.
    const worse = STATUS_PRECEDENCE.slice(0, STATUS_PRECEDENCE.indexOf(q.status as DeliveryStatus));
    // Driven by the deliveries_status index (status, message_seq): a rare status (dead, rejected)
    // is found without walking every message, and the cursor bounds the subquery too.
    // (Placeholders in the order of the text: SQLite's '?' are positional.)
    const status = param(q.status);
    const below = q.cursor ? ` AND d.message_seq < ${param(cursorSeq(q.cursor))}` : '';
    where.push(`m.seq IN (SELECT d.message_seq FROM deliveries d WHERE d.status = ${status}${below})`);
    if (worse.length > 0) {
      where.push(`NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_seq = m.seq AND d.status IN (${worse.map((w) => param(w)).join(', ')}))`);
    }
  }
  return where;
}

function cursorSeq(cursor: string): number {
  return Number.parseInt(cursor, 36);
}

/** A page of messages (read with one row more than the limit) and the cursor of the next one. */
export function pageOf(rows: Row[], limit: number, statusesOf: (seq: number) => DeliveryStatus[]): { messages: MessageSummary[]; nextCursor?: string } {
  const page = rows.slice(0, limit);
  const messages = page.map((m) => summaryOf(m, statusesOf(m.seq as number)));
  const last = page[page.length - 1];
  return rows.length > limit && last ? { messages, nextCursor: (last.seq as number).toString(36) } : { messages };
}

export function channelCountsOf(
  totals: Array<{ channel_id: string; n: number }>,
  byStatus: Array<{ channel_id: string; status: MessageStatus; n: number }>,
): ChannelCounts[] {
  return totals.map((t) => ({
    channelId: t.channel_id,
    messages: t.n,
    byStatus: Object.fromEntries(byStatus.filter((b) => b.channel_id === t.channel_id).map((b) => [b.status, b.n])),
  }));
}
