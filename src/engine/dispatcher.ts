import type { Logger } from 'pino';
import type { DeliveryPolicy } from '../config/channel.ts';
import type { Sender, SendOutcome } from '../senders/types.ts';
import type { DeliveryStatus, FollowUpDelivery, PendingDelivery, Store } from '../store/types.ts';
import { backoffMs } from './backoff.ts';

/** How many pending rows a lane reads from the store at a time: the backlog stays in the store. */
const WINDOW = 64;
/** Idle lanes look at the store this often even without a wake-up (another process may have requeued). */
const IDLE_POLL_MS = 1000;

export interface DestinationHealth {
  /** paused: the store cannot record deliveries (a write failed); nothing is sent until it can. */
  state: 'idle' | 'delivering' | 'retrying' | 'paused';
  lastOutcome?: SendOutcome['status'];
  lastCode?: string;
}

/** A delivery that has just reached a terminal state, before the outcome is recorded. */
export interface SettledDelivery {
  readonly row: PendingDelivery;
  readonly status: 'acknowledged' | 'rejected' | 'dead';
  readonly outcome: SendOutcome;
  /** The attempt that settled it (1-based). */
  readonly attempt: number;
}

export interface DispatcherOptions {
  channelId: string;
  destinationId: string;
  policy: DeliveryPolicy;
  store: Store;
  log: Logger;
  createSender: () => Sender;
  /** Called when a delivery reaches a terminal state. */
  onSettled?: () => void;
  /**
   * A delivery to store with a terminal outcome, in the same transaction (a status callback);
   * undefined for none. `onFollowUp` runs once it is handed to the store.
   */
  followUp?: (settled: SettledDelivery) => FollowUpDelivery | undefined;
  onFollowUp?: () => void;
}

/**
 * Delivers one destination's backlog: one worker per lane, each with its own sender (one
 * connection, one message outstanding), taking rows in intake order. A failed message
 * holds its lane until it is delivered, rejected or dead, so order per patient holds.
 */
export class DestinationDispatcher {
  private readonly abort = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private readonly wakers: Array<() => void> = [];
  private readonly senders: Sender[] = [];
  readonly health: DestinationHealth = { state: 'idle' };

  private readonly opts: DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  start(): void {
    for (let lane = 0; lane < this.opts.policy.lanes; lane++) {
      const sender = this.opts.createSender();
      this.senders.push(sender);
      this.wakers.push(() => {});
      this.workers.push(this.run(lane, sender));
    }
  }

  /** New rows were stored, or old ones requeued: lanes that sleep look again. */
  wake(): void {
    for (const w of this.wakers) w();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake();
    await Promise.allSettled(this.workers);
    await Promise.allSettled(this.senders.map((s) => s.close()));
  }

  private sleep(lane: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers[lane] = done;
    });
  }

  private async run(lane: number, sender: Sender): Promise<void> {
    const { store, channelId, destinationId } = this.opts;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (store.writeFailure()) {
        // Sending what cannot be recorded would resend it after a crash without a trace: wait for the store.
        this.health.state = 'paused';
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      if (this.health.state === 'paused') this.health.state = 'idle';
      let rows: PendingDelivery[];
      try {
        rows = store.pendingDeliveries(channelId, destinationId, lane, WINDOW);
      } catch (e) {
        this.opts.log.error({ err: e, channel: channelId, destination: destinationId }, 'reading the backlog failed');
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      if (rows.length === 0) {
        if (this.health.state !== 'retrying') this.health.state = 'idle';
        await this.sleep(lane, IDLE_POLL_MS);
        continue;
      }
      for (const row of rows) {
        if (signal.aborted) return;
        const wait = row.nextAttemptAt - Date.now();
        if (wait > 0) {
          // Head of line waits for its backoff; a wake-up (e.g. a resend) re-reads the lane.
          await this.sleep(lane, wait);
          break;
        }
        let settled: boolean;
        try {
          settled = await this.deliver(row, sender, signal);
        } catch (e) {
          // Typically markSent could not be written: the row was not sent, and the loop pauses
          // until writes work. Anything else waits a poll interval too, never a hot loop.
          const paused = store.writeFailure() !== undefined;
          this.opts.log.error({ err: e, channel: channelId, destination: destinationId }, paused ? 'delivery paused: the store cannot record it' : 'delivery failed unexpectedly; will try again');
          if (!paused) await this.sleep(lane, IDLE_POLL_MS);
          break;
        }
        if (!settled) break;
      }
    }
  }

  /** Sends one row and records the attempt. Returns false when the row is still pending. */
  private async deliver(row: PendingDelivery, sender: Sender, signal: AbortSignal): Promise<boolean> {
    const { store, policy, log, channelId, destinationId } = this.opts;
    const attempt = row.attempts + 1;
    this.health.state = 'delivering';
    store.markSent(row.id);
    const startedAt = new Date();
    const t0 = performance.now();
    const outcome = await sender.send(
      {
        messageId: row.messageId,
        destinationId,
        payload: row.payload,
        contentType: row.contentType,
        controlId: row.controlId,
        attempt,
        ...(row.partitionKey !== undefined ? { partitionKey: row.partitionKey } : {}),
      },
      signal,
    );
    const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
    if (signal.aborted && outcome.status === 'retryable') {
      // Stopped mid-attempt: leave the row pending for the next start, without counting an attempt.
      return false;
    }
    let status: DeliveryStatus;
    let nextAttemptAt: number | undefined;
    if (outcome.status === 'acknowledged') status = 'acknowledged';
    else if (outcome.status === 'rejected') status = 'rejected';
    else if (attempt >= policy.maxAttempts) status = 'dead';
    else {
      status = 'errored';
      nextAttemptAt = Date.now() + backoffMs(policy, attempt, outcome.retryAfterMs);
    }
    let followUp: FollowUpDelivery | undefined;
    if (status !== 'errored' && this.opts.followUp) {
      try {
        followUp = this.opts.followUp({ row, status, outcome, attempt });
      } catch (e) {
        log.error({ err: e, channel: channelId, destination: destinationId, messageId: row.messageId }, 'building the follow-up delivery failed');
      }
    }
    store.recordAttempt({
      deliveryId: row.id,
      controlId: row.controlId,
      attempt,
      startedAt: startedAt.toISOString(),
      latencyMs,
      outcome: outcome.status,
      ...(outcome.status !== 'acknowledged' ? { code: outcome.code, detail: outcome.detail } : outcome.detail ? { detail: outcome.detail } : {}),
      ...(outcome.response !== undefined ? { response: outcome.response } : {}),
      status,
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
      ...(followUp ? { followUp } : {}),
    });
    if (followUp) this.opts.onFollowUp?.();
    this.health.lastOutcome = outcome.status;
    this.health.lastCode = outcome.status === 'acknowledged' ? undefined : outcome.code;
    if (status !== 'acknowledged') {
      log.warn(
        { channel: channelId, destination: destinationId, messageId: row.messageId, attempt, code: this.health.lastCode, status },
        status === 'errored' ? 'delivery attempt failed; will retry' : `delivery ${status}`,
      );
    }
    this.health.state = status === 'errored' ? 'retrying' : 'delivering';
    if (status !== 'errored') this.opts.onSettled?.();
    return status !== 'errored';
  }
}
