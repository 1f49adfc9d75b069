/** What the main thread and the store's writer thread (writer.ts) tell each other. */
import type { InsertResult, NewMessage, PruneCursor, Submission } from '../types.ts';
import type { Op } from './write-behind.ts';

export interface WriterInit {
  file: string;
  busyTimeoutMs: number;
}

export type Step =
  | { kind: 'ops'; ops: Op[] }
  | { kind: 'inserts'; inserts: Array<{ kind: 'message'; message: NewMessage } | { kind: 'submission'; submission: Submission }> }
  | { kind: 'requeue'; messageId: string; at: string }
  | { kind: 'bringForward'; messageId: string; at: string; now: number }
  | { kind: 'recover'; at: string }
  | { kind: 'relane'; lanes: Array<[deliveryId: number, lane: number]> }
  | ({ kind: 'prune' } & PruneBatch)
  | { kind: 'probe' };

/** One batch of retention for one channel (see Store.prune). */
export interface PruneBatch {
  channelId: string;
  what: 'content' | 'metadata';
  /** Messages received before this time (ISO 8601) and after `after`, oldest first, at most `limit` looked at. */
  before: string;
  after: PruneCursor;
  limit: number;
  at: string;
}

/** One transaction: synchronous = FULL when `durable` (an intake under durability full). */
export interface Round {
  kind: 'round';
  id: number;
  durable: boolean;
  /** Writes are failing: fail at once rather than wait for a lock. */
  failing: boolean;
  steps: Step[];
}

export type StepResult =
  | { kind: 'ops'; correction: number }
  | { kind: 'inserts'; results: Array<{ kind: 'message'; result: InsertResult; deliveryIds: number[] } | { kind: 'submission'; result: Submission }> }
  | { kind: 'count'; n: number }
  | { kind: 'pruned'; changed: number; next?: PruneCursor };

/** SQLite's error, as plain data (an Error's own properties do not cross threads). */
export interface WriteError {
  message: string;
  code?: string;
  errcode?: number;
  errstr?: string;
}

export type RoundAnswer = { id: number; ok: true; results: StepResult[] } | { id: number; ok: false; error: WriteError };
