import type { SendOutcome } from './types.ts';

/**
 * The sends a sender has in progress, so `close()` can wait for them. Senders whose sends may
 * overlap (pooled HTTP connections, a Kafka producer) track each one here.
 */
export class InFlight {
  private readonly runs = new Set<Promise<SendOutcome>>();

  track(run: Promise<SendOutcome>): Promise<SendOutcome> {
    this.runs.add(run);
    void run.then(() => this.runs.delete(run));
    return run;
  }

  /** Resolves once every tracked send has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.runs]);
  }
}
