import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/trail.ts';
import type { RetentionConfig } from '../config/channel.ts';
import type { PruneCursor, Store } from '../store/types.ts';

/** Messages looked at per batch: one batch is one small write of the store, between intake's. */
const BATCH = 200;

export interface RetentionChannel {
  id: string;
  retention: RetentionConfig | undefined;
}

export interface RetentionOptions {
  store: Store;
  log: Logger;
  /** The channels running now (their retention as configured now). */
  channels: () => readonly RetentionChannel[];
  /** How often the channels are pruned. */
  intervalMs: number;
  /** The audit trail and how long its rows are kept: its own retention, applied at the same interval. */
  audit?: { trail: AuditTrail; keepMs: number };
}

/**
 * Applies each channel's retention: every `intervalMs`, for each channel with a retention,
 * batches of at most 200 messages until nothing more is due. Each batch is one write of the
 * store's writer thread, so intake commits in between and is never held by a long prune; the
 * store keeps any message with a pending delivery (see Store.prune).
 */
export class RetentionRunner {
  private readonly options: RetentionOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: RetentionOptions) {
    this.options = options;
  }

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every channel. */
  private async run(): Promise<void> {
    const now = Date.now();
    for (const c of this.options.channels()) {
      const r = c.retention;
      if (!r) continue;
      // Deletion first: what it deletes need not lose its content first.
      const deleted = r.metadata === undefined ? 0 : await this.walk(c.id, 'metadata', new Date(now - r.metadata).toISOString());
      const content = r.content === undefined ? 0 : await this.walk(c.id, 'content', new Date(now - r.content).toISOString());
      if (content + deleted > 0) this.options.log.info({ channel: c.id, contentRemoved: content, messagesDeleted: deleted }, 'retention applied');
    }
    const audit = this.options.audit;
    if (audit && !this.stopped) {
      const removed = await audit.trail.prune(new Date(now - audit.keepMs).toISOString());
      if (removed > 0) this.options.log.info({ auditRowsRemoved: removed }, 'audit retention applied');
    }
  }

  /** Every message of the channel received before `before`, batch after batch; the number changed. */
  private async walk(channelId: string, what: 'content' | 'metadata', before: string): Promise<number> {
    let changed = 0;
    let after: PruneCursor | undefined;
    do {
      if (this.stopped) break;
      const batch = await this.options.store.prune(channelId, what, before, after, BATCH);
      changed += batch.changed;
      after = batch.next;
    } while (after);
    return changed;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run()
        .catch((err: unknown) => this.options.log.warn({ err }, 'retention could not run; trying again at the next interval'))
        .then(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.options.intervalMs);
    // Retention alone never keeps the process alive.
    this.timer.unref();
  }
}
