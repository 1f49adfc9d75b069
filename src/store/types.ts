/**
 * The message store: everything a channel accepted, every encoded output, every attempt.
 * The embedded implementation is SQLite (node:sqlite); a PostgreSQL one fills the same
 * interface for the scale-out mode.
 */
import { z } from 'zod';
import type { ConduitError } from '../errors.ts';

/** Delivery states (one row per message and destination). */
export const DeliveryStatus = {
  /** Encoded and waiting for its turn. */
  queued: 'queued',
  /** On the wire, waiting for the acknowledgement. */
  sent: 'sent',
  /** AA/CA, 2xx. Terminal. */
  acknowledged: 'acknowledged',
  /** AR/CR, 4xx: the receiver refused it. Terminal. */
  rejected: 'rejected',
  /** The last attempt failed in a way worth retrying; waits for `nextAttemptAt`. */
  errored: 'errored',
  /** Gave up after the maximum attempts. Terminal. */
  dead: 'dead',
} as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

export const TERMINAL_STATUSES: readonly DeliveryStatus[] = ['acknowledged', 'rejected', 'dead'];
export const PENDING_STATUSES: readonly DeliveryStatus[] = ['queued', 'sent', 'errored'];

/** Message states: received (stored, nothing to deliver) or the least advanced delivery's state. */
export const MessageStatus = z.enum(['received', 'filtered', 'queued', 'sent', 'acknowledged', 'rejected', 'errored', 'dead']);
export type MessageStatus = z.infer<typeof MessageStatus>;

/*
 * What the admin API shows of stored messages: zod schemas, so the OpenAPI description
 * (src/admin/openapi.ts) and these types come from one place.
 */

export interface NewDelivery {
  destinationId: string;
  lane: number;
  controlId: string;
  payload: string;
  contentType: string;
  /** Outbound mapping that encoded the payload (name@hash). */
  mappingVersion?: string;
  /** Encoder warnings, e.g. an analyte with no LOINC code in the table. */
  warnings?: readonly string[];
  /**
   * Stored as on the wire ('sent') rather than 'queued': its lane is caught up and sends it
   * next, so the intake's commit is its mark and the lane sends it without a round of its own
   * (see DestinationDispatcher.markAtIntake).
   */
  marked?: boolean;
}

export interface NewMessage {
  id: string;
  channelId: string;
  sourceId: string;
  sourceVersion: string;
  receivedAt: string;
  rawInput: string;
  inputFormat: string;
  /** JSON of the canonical report, when the channel maps its input. */
  canonical?: string;
  partitionKey: string;
  /** Inbound mapping that built the canonical report (name@hash). */
  mappingVersion?: string;
  /** The channel filter rule that kept the message from every destination. */
  filteredBy?: string;
  deliveries: NewDelivery[];
}

/**
 * A delivery stored together with a terminal attempt, in the same transaction: a status
 * callback reporting that outcome. Neither is written without the other, so a crash can lose
 * neither alone (a lost attempt means a resend, which settles again and brings its follow-up).
 */
export interface FollowUpDelivery {
  destinationId: string;
  lane: number;
  controlId: string;
  payload: string;
  contentType: string;
}

/** An input taken by the REST source, as recorded for polling and Idempotency-Key repeats. */
export interface Submission {
  /** What the submitter polls: the id of the first message the input became. */
  id: string;
  channelId: string;
  idempotencyKey?: string;
  /** sha-256 of the body as received (hex): tells a repeat from a conflicting reuse of a key. */
  fingerprint: string;
  messageIds: readonly string[];
  receivedAt: string;
}

export interface InsertResult {
  messageId: string;
  duplicate: boolean;
}

export interface PendingDelivery {
  id: number;
  messageId: string;
  destinationId: string;
  controlId: string;
  payload: string;
  contentType: string;
  attempts: number;
  nextAttemptAt: number;
  /** The message's partition key (patient, encounter or result), for senders that key their records. */
  partitionKey: string;
  /** The message's source id and version (the result's), for the status events of its outcomes. */
  sourceId: string;
  sourceVersion: string;
  /** When the message was received (ISO 8601): the delivery latency metric counts from here. */
  receivedAt: string;
  /**
   * The payload could not be opened (its data key is not in the keyring, or it does not
   * authenticate: STORE_KEY_UNKNOWN, STORE_SEAL_INVALID); `payload` is then empty and the lane
   * records the delivery dead with this error instead of sending it (see sealing/).
   */
  unreadable?: ConduitError;
  /** Committed as 'sent' by its intake (NewDelivery.marked): sent without another mark. */
  marked?: boolean;
}

/** A delivery just committed by an intake, as its lane takes it (see Store.onCommitted). */
export interface CommittedDelivery extends PendingDelivery {
  channelId: string;
  lane: number;
}

/**
 * The lease under which a lane of several instances on one database sends (see
 * cluster/lease-manager.ts): a mark or outcome is written only while the lease still carries
 * this token, so an instance that lost its lane (paused, cut off) records nothing for it.
 */
export interface Fence {
  channelId: string;
  destinationId: string;
  lane: number;
  token: number;
}

export interface AttemptRecord {
  deliveryId: number;
  attempt: number;
  startedAt: string;
  latencyMs: number;
  outcome: 'acknowledged' | 'rejected' | 'retryable';
  code?: string;
  detail?: string;
  /** Raw acknowledgement or response body. */
  response?: string;
  /** The delivery's new state after this attempt. */
  status: DeliveryStatus;
  nextAttemptAt?: number;
  /**
   * The control id that was sent. When given, the outcome changes the delivery only if it still
   * carries that control id: a follow-up replaced meanwhile (by a later outcome it reports) is
   * left pending for its new payload.
   */
  controlId?: string;
  /** Stored in the same transaction as this (terminal) attempt; see FollowUpDelivery. */
  followUp?: FollowUpDelivery;
  /** Recorded only under this lease (stores shared by several instances); dropped otherwise, and the lane's new owner sends again. */
  fence?: Fence;
}

/** Writes of the store are failing (disk full, SQLITE_BUSY, I/O error) since `since`. */
export interface StoreWriteFailure {
  since: string;
  /** SQLite's description, e.g. 'database or disk is full'. */
  reason: string;
}

/** Deliveries of one destination that ended dead or rejected in a time window. */
export interface SettledCounts {
  channelId: string;
  destinationId: string;
  dead: number;
  rejected: number;
}

/** Deliveries of one destination not yet in a terminal state (queued, sent, errored). */
export interface DestinationBacklog {
  channelId: string;
  destinationId: string;
  pending: number;
}

/** A newer version of the same result (same channel and source id) than a given message. */
export const NewerVersion = z.object({
  id: z.string(),
  sourceVersion: z.string(),
  receivedAt: z.string(),
  /** Destinations that acknowledged this version. */
  acknowledgedBy: z.array(z.string()),
});
export type NewerVersion = z.infer<typeof NewerVersion>;

export const AttemptView = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  latencyMs: z.number(),
  /** acknowledged, rejected, retryable; 'unknown' for an attempt on the wire when the engine stopped (see recoverInFlight). */
  outcome: z.string(),
  code: z.string().optional(),
  detail: z.string().optional(),
  /** The raw ACK or response body (content: integrators only). */
  response: z.string().optional(),
});

export const DeliveryView = z.object({
  destinationId: z.string(),
  /** MSH-10 (or the request's id): the same on every attempt and resend. */
  controlId: z.string(),
  status: z.enum(['queued', 'sent', 'acknowledged', 'rejected', 'errored', 'dead']),
  /** What was sent (content: integrators only). */
  payload: z.string(),
  contentType: z.string(),
  mappingVersion: z.string().optional(),
  warnings: z.array(z.string()).optional(),
  /** For a follow-up (a status callback): the destination whose outcome it reports. */
  follows: z.string().optional(),
  attempts: z.array(AttemptView),
  nextAttemptAt: z.string().optional(),
  updatedAt: z.string(),
  /** A dead or rejected delivery an operator dismissed (see Store.dismiss): when, and who. */
  dismissedAt: z.string().optional(),
  dismissedBy: z.string().optional(),
});
export type DeliveryView = z.infer<typeof DeliveryView>;

export const MessageSummary = z.object({
  id: z.string(),
  channelId: z.string(),
  sourceId: z.string(),
  sourceVersion: z.string(),
  receivedAt: z.string(),
  status: MessageStatus,
});
export type MessageSummary = z.infer<typeof MessageSummary>;

export const MessageView = MessageSummary.extend({
  /** Empty once the content was removed by retention (see contentPrunedAt), as are payloads and answers. */
  rawInput: z.string(),
  /** When retention removed the content (raw input, canonical report, payloads, raw answers). */
  contentPrunedAt: z.string().optional(),
  inputFormat: z.string(),
  /** The canonical lab report (src/canonical/report.ts). */
  canonical: z.unknown().optional(),
  mappingVersion: z.string().optional(),
  filteredBy: z.string().optional(),
  deliveries: z.array(DeliveryView),
});
export type MessageView = z.infer<typeof MessageView>;

export interface MessageQuery {
  channelId?: string;
  /** Only messages of these channels (a tenant's): none listed, none returned. */
  channelIds?: readonly string[];
  status?: MessageStatus;
  /** Received at or after / before these times (ISO 8601). */
  since?: string;
  until?: string;
  /** The source's id of the result (a platform result id, an inbound MSH-10). */
  sourceId?: string;
  /** The patient's id (what the message's deliveries are ordered by: its partition key `patient:<id>`). */
  patient?: string;
  /** A control id (MSH-10) one of its deliveries was sent with. */
  controlId?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export const ChannelCounts = z.object({
  channelId: z.string(),
  messages: z.number().int(),
  byStatus: z.partialRecord(MessageStatus, z.number().int()),
});
export type ChannelCounts = z.infer<typeof ChannelCounts>;

/** Where a walk of retention stopped: the last message it looked at. */
export interface PruneCursor {
  receivedAt: string;
  seq: number;
}

/** One batch of retention: messages changed (content removed, or deleted), and where to go on from, unless done. */
export interface PruneResult {
  changed: number;
  next?: PruneCursor;
}

export interface Store {
  /** Stores a message and its deliveries durably; resolves once committed. Idempotent on channel + source id + version. */
  insertMessage(message: NewMessage): Promise<InsertResult>;
  /** Oldest pending deliveries of one lane, in intake order. */
  pendingDeliveries(channelId: string, destinationId: string, lane: number, limit: number): Promise<PendingDelivery[]>;
  /** Deliveries not yet in a terminal state, across all channels: the backlog (counted in memory, read at every intake). */
  pendingCount(): number;
  /**
   * Tells `listener` (in addition to earlier ones) the deliveries of every intake once committed,
   * in delivery id order, before the intake's promise resolves (lanes take them without reading
   * the store again).
   */
  onCommitted(listener: (rows: readonly CommittedDelivery[]) => void): void;
  /**
   * Marks a delivery as on the wire, written before it is sent (with the outcomes queued so far,
   * and the marks of other lanes in one commit); rejects with STORE_FAILED when that write fails,
   * and then it must not be sent. With a fence (several instances on one store), rejects with
   * LEASE_LOST when the lease no longer carries its token.
   */
  markSent(deliveryId: number, fence?: Fence): Promise<void>;
  /**
   * Records an attempt and the delivery's new state, written behind; with `record.followUp`,
   * stores that delivery in the same transaction (replacing an earlier follow-up of the same
   * message and destination id, which a resend settles anew).
   */
  recordAttempt(record: AttemptRecord): void;
  /**
   * Makes every delivery of a message pending again (same payload and control id). Follow-ups
   * are left alone: the resent deliveries settle again and bring new ones.
   */
  requeue(messageId: string): Promise<number>;
  /** Deliveries of a message waiting for a retry (errored) become due now; returns how many. */
  bringForward(messageId: string): Promise<number>;
  /**
   * Marks the dead and rejected deliveries of a message as seen to by `by` (an operator): they
   * stay as they are, but no longer make their destination degraded. A resend clears the mark.
   * Returns how many were marked.
   */
  dismiss(messageId: string, by: string): Promise<number>;
  /**
   * Retention, one batch: looks at up to `limit` messages of the channel received before
   * `before` (ISO 8601), oldest first, after `after` (undefined: from the oldest), and removes
   * the content of each ('content': raw input, canonical, payloads, raw answers) or deletes it
   * with its deliveries and attempts ('metadata'). A message with a pending delivery is kept
   * whatever its age. `next` is where the following batch goes on; undefined when done.
   */
  prune(channelId: string, what: 'content' | 'metadata', before: string, after: PruneCursor | undefined, limit: number): Promise<PruneResult>;
  /**
   * Versions of the same result (channel and source id) newer than this message, newest first:
   * numeric source versions compare as numbers, others by intake order (see versions.ts).
   */
  newerVersions(messageId: string): Promise<NewerVersion[]>;
  /** Dead and rejected deliveries per destination that reached that state at or after `since` (ISO time). */
  settledSince(since: string): Promise<SettledCounts[]>;
  /**
   * The backlog per destination, as committed: read from the index of pending deliveries, so it
   * costs as much as the backlog is long, whatever the size of the store (metrics, alerts).
   */
  backlogByDestination(): Promise<DestinationBacklog[]>;
  /** Set while writes fail; reads keep working (they show unwritten outcomes too). */
  writeFailure(): StoreWriteFailure | undefined;
  getMessage(id: string): Promise<MessageView | undefined>;
  /**
   * Records a submission durably (group-committed with intake). With a key, the submission
   * stored under that key is returned: this one, or an earlier one (then compare fingerprints).
   * Without, the first recorded with the same id is kept and returned.
   */
  recordSubmission(submission: Submission): Promise<Submission>;
  /** A channel's submission by its id or by its Idempotency-Key. */
  findSubmission(channelId: string, by: { id: string } | { idempotencyKey: string }): Promise<Submission | undefined>;
  /**
   * Resolves once the writes queued so far are committed (at once while writes fail; never
   * rejects). listMessages and channelCounts read what is committed: await this first to see
   * outcomes just recorded.
   */
  settled(): Promise<void>;
  listMessages(query: MessageQuery): Promise<{ messages: MessageSummary[]; nextCursor?: string }>;
  channelCounts(): Promise<ChannelCounts[]>;
  /**
   * Puts deliveries that were on the wire when the process stopped back in the queue, each with
   * an attempt record 'outcome unknown: engine restarted' that counts as an attempt.
   */
  recoverInFlight(): Promise<number>;
  /** Reassigns the lanes of pending deliveries when a destination's lane count changed. */
  relane(channelId: string, destinationId: string, laneOf: (partitionKey: string) => number): Promise<void>;
  /** Whether the database answers a read. */
  ping(): Promise<boolean>;
  flush(): Promise<void>;
  close(): Promise<void>;
}
