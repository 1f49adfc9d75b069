/**
 * The writes of a store, grouped in rounds: each round is one transaction of the backend (a
 * SQLite writer thread, a PostgreSQL connection), committed or rolled back as a whole. The
 * group commit (group-commit.ts) builds them; each backend runs them.
 */
import type { InsertResult, NewMessage, PruneCursor, Submission } from './types.ts';
import type { Op } from './write-behind.ts';

export type Step =
  | { kind: 'ops'; ops: Op[] }
  | { kind: 'inserts'; inserts: Array<{ kind: 'message'; message: NewMessage } | { kind: 'submission'; submission: Submission }> }
  | { kind: 'requeue'; messageId: string; at: string }
  | { kind: 'bringForward'; messageId: string; at: string; now: number }
  | { kind: 'dismiss'; messageId: string; at: string; by: string }
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

/** One transaction: made durable before it is answered when `durable` (an intake under durability full). */
export interface Round {
  kind: 'round';
  /** Grows across restarts (see GroupCommit): stored with attempts and delivery changes, so reads tell what a round wrote. */
  id: number;
  durable: boolean;
  /** Writes are failing: fail at once rather than wait for a lock. */
  failing: boolean;
  steps: Step[];
}

export type StepResult =
  /** `fenced`: marks not written because their lane's lease had moved on (see Fence). */
  | { kind: 'ops'; correction: number; fenced?: number[] }
  | { kind: 'inserts'; results: Array<{ kind: 'message'; result: InsertResult; deliveryIds: number[] } | { kind: 'submission'; result: Submission }> }
  | { kind: 'count'; n: number }
  | { kind: 'pruned'; changed: number; next?: PruneCursor };

/** Runs rounds for the group commit, one at a time, in the order given. */
export interface RoundRunner {
  /** Runs one round as one transaction; resolves once committed, rejects once rolled back. */
  run(round: Round): Promise<StepResult[]>;
  /** What went wrong with a write, in the backend's words (for /health), e.g. 'database or disk is full'. */
  describe(error: unknown): string;
  close(): Promise<void>;
}
