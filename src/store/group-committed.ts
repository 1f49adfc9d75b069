import type { GroupCommit } from './group-commit.ts';
import type { PruneBatch, StepResult } from './rounds.ts';
import type { AttemptRecord, CommittedDelivery, Fence, InsertResult, NewMessage, PruneCursor, PruneResult, StoreWriteFailure, Submission } from './types.ts';

/** What every store takes about its writes. */
export interface StoreWriteOptions {
  /** 'full': an intake is answered once its commit is durable (fsync, the server's WAL flush); 'normal': once committed. */
  synchronous?: 'full' | 'normal';
  /** Writes started failing (disk full, a lock, the server down); unwritten delivery updates are kept and tried again. */
  onWriteError?: (error: unknown) => void;
  /** Writes work again after a failure. */
  onWriteRecovered?: () => void;
}

/**
 * The write side of the Store interface, the same for every database: each write goes through
 * the store's group commit (see GroupCommit). The stores add their reads, opening and closing.
 */
export abstract class GroupCommittedStore {
  protected abstract readonly writes: GroupCommit;

  /** Rounds answered (committed or not): a count of store round trips, for tests and diagnostics. */
  get rounds(): number {
    return this.writes.rounds;
  }

  insertMessage(message: NewMessage): Promise<InsertResult> {
    return this.writes.insertMessage(message);
  }

  recordSubmission(submission: Submission): Promise<Submission> {
    return this.writes.recordSubmission(submission);
  }

  onCommitted(listener: (rows: readonly CommittedDelivery[]) => void): void {
    this.writes.onCommitted(listener);
  }

  /**
   * Written before the send (with the outcomes queued so far), so that after a crash the attempt
   * on the wire is known and recorded (recoverInFlight). If it cannot be written, the message is
   * not sent: the lane pauses until writes work again. Marks of every lane queued in one turn
   * share one commit.
   */
  markSent(deliveryId: number, fence?: Fence): Promise<void> {
    return this.writes.markSent(deliveryId, fence);
  }

  recordAttempt(record: AttemptRecord): void {
    this.writes.recordAttempt(record);
  }

  pendingCount(): number {
    return this.writes.pendingCount();
  }

  writeFailure(): StoreWriteFailure | undefined {
    return this.writes.writeFailure();
  }

  requeue(messageId: string): Promise<number> {
    return this.writes.count({ kind: 'requeue', messageId, at: new Date().toISOString() });
  }

  dismiss(messageId: string, by: string): Promise<number> {
    return this.writes.count({ kind: 'dismiss', messageId, at: new Date().toISOString(), by });
  }

  bringForward(messageId: string): Promise<number> {
    const now = Date.now();
    return this.writes.count({ kind: 'bringForward', messageId, at: new Date(now).toISOString(), now });
  }

  async prune(channelId: string, what: 'content' | 'metadata', before: string, after: PruneCursor | undefined, limit: number): Promise<PruneResult> {
    const r = await this.pruneBatch({ channelId, what, before, after: after ?? { receivedAt: '', seq: 0 }, limit, at: new Date().toISOString() });
    return r.kind === 'pruned' ? { changed: r.changed, ...(r.next ? { next: r.next } : {}) } : { changed: 0 };
  }

  /** Runs one batch of retention: a step of the group commit, unless the store runs it elsewhere. */
  protected pruneBatch(batch: PruneBatch): Promise<StepResult> {
    return this.writes.write({ kind: 'prune', ...batch });
  }

  /** Pending deliveries of a destination with their lane and their message's partition key (see relane). */
  protected abstract pendingLanes(channelId: string, destinationId: string): Promise<Array<{ id: number; lane: number; partition_key: string }>>;

  async relane(channelId: string, destinationId: string, laneOf: (partitionKey: string) => number): Promise<void> {
    const lanes: Array<[number, number]> = [];
    for (const r of await this.pendingLanes(channelId, destinationId)) {
      const lane = laneOf(r.partition_key);
      if (lane !== r.lane) lanes.push([r.id, lane]);
    }
    if (lanes.length > 0) await this.writes.write({ kind: 'relane', lanes });
  }

  flush(): Promise<void> {
    return this.writes.flush();
  }

  settled(): Promise<void> {
    return this.writes.settled();
  }
}
