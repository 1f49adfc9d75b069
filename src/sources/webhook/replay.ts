/**
 * Signatures at most this many per source: about 12 MB when full (measured). Only signatures
 * that verified are remembered, so only the secret's holder can fill it (or real traffic of
 * some 330 requests a second with the default window of 300 s).
 */
export const REPLAY_MEMORY_MAX = 100_000;

/**
 * The signatures a source accepted, each until its timestamp goes out of the window: a
 * replay after that is refused as stale, so it need not be remembered longer. In memory, per
 * process. At the bound the oldest is forgotten first (`onFull` is told): it is the one
 * closest to going stale, and a replay of it is still one message, intake being idempotent
 * by source id and version.
 */
export class SeenSignatures {
  private readonly max: number;
  private readonly onFull: () => void;
  /** Digest → when it may be forgotten (ms since the epoch), in the order accepted. */
  private readonly seen = new Map<string, number>();

  constructor(options: { max?: number; onFull?: () => void } = {}) {
    this.max = options.max ?? REPLAY_MEMORY_MAX;
    this.onFull = options.onFull ?? (() => {});
  }

  /** Remembers `digest` until `until`; false when it is already remembered (a replay). */
  remember(digest: string, until: number, now: number): boolean {
    this.forgetEnded(now);
    const known = this.seen.get(digest);
    if (known !== undefined && known > now) return false;
    this.seen.delete(digest);
    if (this.seen.size >= this.max) {
      this.seen.delete(this.seen.keys().next().value!);
      this.onFull();
    }
    this.seen.set(digest, until);
    return true;
  }

  /** The request it signed stored nothing (it failed): a retry of it is no replay. */
  forget(digest: string): void {
    this.seen.delete(digest);
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Drops ended entries from the front. Acceptance order is nearly expiry order (timestamps
   * lie within the window of their arrival), so one that ended behind a live one waits at
   * most one window longer; the bound holds regardless.
   */
  private forgetEnded(now: number): void {
    for (const [digest, until] of this.seen) {
      if (until > now) return;
      this.seen.delete(digest);
    }
  }
}
