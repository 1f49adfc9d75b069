import type { Logger } from 'pino';
import { ConduitError } from '../errors.ts';
import { type AuditRow, type ChainKey, ChainVerifier, type ChainProblem } from './chain.ts';
import { AuditEvent, type AuditSink } from './event.ts';
import type { AuditQuery, AuditStore } from './store.ts';

const VERIFY_BATCH = 1000;
const PRUNE_BATCH = 1000;

export interface Verification {
  readonly rows: number;
  /** The last row checked: keep it, and a later verify that starts from it shows that nothing after it was cut off. */
  readonly head: { seq: number; hash: string };
  readonly problems: readonly ChainProblem[];
}

/**
 * The audit trail: events are appended in batches (those recorded in one loop turn share one
 * transaction, one fsync), each `record` resolving once its batch is durable. Reads, the
 * verification and retention go to the same table.
 */
export class AuditTrail implements AuditSink {
  private readonly store: AuditStore;
  private readonly key: ChainKey | undefined;
  private readonly log: Logger;
  private batch: Array<{ event: AuditEvent; at: string; done: { resolve(): void; reject(e: unknown): void } }> = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(store: AuditStore, key: ChainKey | undefined, log: Logger) {
    this.store = store;
    this.key = key;
    this.log = log;
  }

  record(event: AuditEvent): Promise<void> {
    const checked = AuditEvent.safeParse(event);
    if (!checked.success) {
      return Promise.reject(new ConduitError('AUDIT_FAILED', `not an audit event (${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`));
    }
    return new Promise<void>((resolve, reject) => {
      this.batch.push({ event: checked.data, at: new Date().toISOString(), done: { resolve, reject } });
      if (this.batch.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Records without waiting: for refusals, whose answer must not wait on the trail. A failure is logged. */
  note(event: AuditEvent): void {
    this.record(event).catch((e: unknown) => this.log.error({ err: e, action: event.action }, 'the audit trail could not record an event'));
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.flushing = this.flushing.then(async () => {
      try {
        await this.store.appendAudit(batch, this.key);
        for (const b of batch) b.done.resolve();
      } catch (e) {
        const failure = new ConduitError('AUDIT_FAILED', `the audit trail could not be written: ${(e as Error).message}`, { cause: e });
        for (const b of batch) b.done.reject(failure);
      }
    });
  }

  /** Waits for every event recorded so far. */
  async settled(): Promise<void> {
    while (this.batch.length > 0) await new Promise((r) => setImmediate(r));
    await this.flushing;
  }

  query(q: AuditQuery): Promise<AuditRow[]> {
    return this.store.queryAudit(q);
  }

  /** Removes rows older than `before`, in batches; the chain's new start is sealed into it (see AuditStore.pruneAudit). */
  async prune(before: string): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.store.pruneAudit(before, PRUNE_BATCH, this.key);
      total += n;
      if (n < PRUNE_BATCH) return total;
    }
  }
}

/**
 * Walks the whole trail: each row against the one before (edited, deleted, forged), the first
 * against where retention left the chain, and that anchor against the last `audit.pruned` row.
 */
export async function verifyTrail(store: AuditStore, keys: ReadonlyMap<string, Buffer>): Promise<Verification> {
  const anchor = await store.auditAnchor();
  const verifier = new ChainVerifier(anchor, keys);
  let lastPruned: AuditRow | undefined;
  let after = anchor?.seq ?? 0;
  for (;;) {
    const rows = await store.walkAudit(after, VERIFY_BATCH);
    for (const r of rows) {
      verifier.check(r);
      if (r.action === 'audit.pruned') lastPruned = r;
    }
    if (rows.length < VERIFY_BATCH) break;
    after = rows.at(-1)!.seq;
  }
  const problems = [...verifier.problems];
  if (anchor && (!lastPruned || lastPruned.detail?.throughSeq !== anchor.seq || lastPruned.detail?.throughHash !== anchor.hash)) {
    problems.unshift({
      seq: anchor.seq,
      problem: 'anchor',
      message: `the chain starts after row ${anchor.seq}, but no audit.pruned row records removing rows up to it: rows were deleted at the start of the trail`,
    });
  }
  return { rows: verifier.rows, head: verifier.head, problems };
}
