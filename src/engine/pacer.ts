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
  private readonly pollMs: number;
  private readonly waiting: Array<{ go: () => void; until: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  /** Inputs that had to wait (for tests and diagnostics). */
  paced = 0;

  constructor(room: () => number, options: { maxWaitMs?: number; pollMs?: number } = {}) {
    this.room = room;
    this.maxWaitMs = options.maxWaitMs ?? 1000;
    this.pollMs = options.pollMs ?? 1;
  }

  /** Resolves at once while the lanes have room and no input waits; else in turn, once they have room or after maxWaitMs. */
  enter(): Promise<void> {
    if (this.waiting.length === 0 && this.room() > 0) return Promise.resolve();
    this.paced++;
    return new Promise((go) => {
      this.waiting.push({ go, until: performance.now() + this.maxWaitMs });
      this.timer ??= setInterval(() => this.release(), this.pollMs);
    });
  }

  private release(): void {
    let room = this.room();
    const now = performance.now();
    while (this.waiting.length > 0 && (room > 0 || this.waiting[0]!.until <= now)) {
      this.waiting.shift()!.go();
      room--;
    }
    if (this.waiting.length === 0) this.stopTimer();
  }

  /** Lets every waiting input go (the channel stops). */
  close(): void {
    for (const w of this.waiting.splice(0)) w.go();
    this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
