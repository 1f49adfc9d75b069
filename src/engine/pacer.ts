/**
 * Paces a channel's intake to its delivery, for destinations that ask for it
 * (DeliveryPolicy.paceIntake).
 *
 * On a machine whose cores are all busy, intake (parsing, mapping, encoding, committing) and
 * delivery (the sender thread, marks and outcomes) share the CPU: inputs accepted as fast as
 * the sources send pile up a backlog that delivery, short of CPU, clears only once the burst
 * ends, and a critical result waits behind it for seconds. With pacing, a new input waits
 * before it is mapped while a lane has a window of rows ahead of it, and goes once the lanes
 * have room again, or after `maxWaitMs` at most (the source sees a slower answer, never a
 * refusal). The wait is in arrival order. Destinations that fail never hold intake: the store
 * keeps their backlog, up to the engine's `maxBacklog`.
 */
export class IntakePacer {
  /** How many more inputs the lanes take now (Infinity: no lane is paced). */
  private readonly room: () => number;
  private readonly maxWaitMs: number;
  private readonly waiting: Array<{ go: () => void; until: number }> = [];
  /** Lets the first waiting input go when its longest wait is over. */
  private timer: NodeJS.Timeout | undefined;
  /** Inputs that had to wait (for tests and diagnostics). */
  paced = 0;
  /** Inputs let go by the timer of the longest wait rather than by an outcome (for tests and diagnostics). */
  waitedOut = 0;

  constructor(room: () => number, options: { maxWaitMs?: number } = {}) {
    this.room = room;
    this.maxWaitMs = options.maxWaitMs ?? 1000;
  }

  /** Resolves at once while the lanes have room and no input waits; else in turn, once they have room (see wake) or after maxWaitMs. */
  enter(): Promise<void> {
    if (this.waiting.length === 0 && this.room() > 0) return Promise.resolve();
    this.paced++;
    return new Promise((go) => {
      this.waiting.push({ go, until: performance.now() + this.maxWaitMs });
      if (this.waiting.length === 1) this.arm();
    });
  }

  /** Inputs waiting now. */
  get waitingNow(): number {
    return this.waiting.length;
  }

  /** An attempt of a paced destination had its outcome: the inputs the lanes have room for go now. */
  wake(): void {
    this.release();
  }

  /** Lets go the inputs the lanes have room for, and those whose longest wait is over; returns how many went. */
  private release(): number {
    if (this.waiting.length === 0) return 0;
    let room = this.room();
    const now = performance.now();
    let gone = 0;
    while (this.waiting.length > 0 && (room > 0 || this.waiting[0]!.until <= now)) {
      this.waiting.shift()!.go();
      room--;
      gone++;
    }
    if (gone > 0 || this.timer === undefined) this.arm();
    return gone;
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.waiting[0];
    if (!first) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.waitedOut += this.release();
      },
      Math.max(0, first.until - performance.now()),
    );
  }

  /** Lets every waiting input go (the channel stops). */
  close(): void {
    for (const w of this.waiting.splice(0)) w.go();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
