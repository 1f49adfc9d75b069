/**
 * Shares the event loop between intake and delivery: at most `perTurn` intakes start their
 * mapping and encoding in one turn of the loop; the others wait for the next turns, in arrival
 * order. A lane completes at most one round trip per turn (its answer arrives in the loop's
 * poll phase), so without a cap a burst of requests read in one turn would hold every lane for
 * as long as mapping all of them takes.
 */
export class IntakeTurns {
  private readonly perTurn: number;
  private readonly waiting: Array<() => void> = [];
  private started = 0;
  private scheduled = false;
  /** Turns of the loop seen while intakes waited or ran (for tests and diagnostics). */
  turns = 0;

  constructor(perTurn: number) {
    this.perTurn = perTurn;
  }

  /** Resolves when this intake may start (at once when the turn has room and nobody waits). */
  enter(): Promise<void> {
    if (this.started < this.perTurn && this.waiting.length === 0) {
      this.started++;
      this.schedule();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.nextTurn());
  }

  private nextTurn(): void {
    this.scheduled = false;
    this.turns++;
    this.started = 0;
    while (this.started < this.perTurn && this.waiting.length > 0) {
      this.started++;
      this.waiting.shift()!();
    }
    if (this.started > 0) this.schedule();
  }
}
