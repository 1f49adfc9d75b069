/**
 * What the benchmarks count, on this process's clock (performance.now()): first deliveries by
 * event index, latency percentiles, a process's CPU time and resident memory (Linux /proc).
 */
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** First delivery time of each event (by index), duplicates counted apart. */
export class Deliveries {
  readonly size: number;
  readonly at: Float64Array;
  count = 0;
  duplicates = 0;
  lastAt = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(size: number) {
    this.size = size;
    this.at = new Float64Array(size);
  }

  record(index: number, at: number): void {
    if (!(index >= 0 && index < this.size)) return;
    if (this.at[index]! > 0) {
      this.duplicates++;
      return;
    }
    this.at[index] = at;
    this.lastAt = at;
    this.count++;
    if (this.waiters.length > 0) {
      const due = this.waiters.filter((w) => w.count <= this.count);
      this.waiters = this.waiters.filter((w) => w.count > this.count);
      for (const w of due) w.resolve();
    }
  }

  /** Resolves once `count` distinct events were delivered; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.count >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`only ${this.count} of ${count} events delivered within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** How many latencies they were computed from. */
  n: number;
}

/** Percentiles (nearest rank) of the finite values; NaN when there are none. */
export function percentiles(values: Iterable<number>): Percentiles {
  const sorted = Float64Array.from([...values].filter(Number.isFinite)).sort();
  const at = (p: number): number => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!, n: sorted.length };
}

/** utime + stime of a process, in seconds (Linux /proc; clock ticks assumed 100 Hz). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size now, in bytes (undefined off Linux or once the process is gone). */
/** Bytes of the store in a data directory: the database file and its write-ahead log. */
export function storeBytes(dataDir: string): number {
  let n = 0;
  for (const f of ['conduit.db', 'conduit.db-wal']) {
    try {
      n += statSync(join(dataDir, f)).size;
    } catch {
      // not written yet
    }
  }
  return n;
}

export const rssNow = (pid: number): number | undefined => statusKb(pid, 'VmRSS');
/** Peak resident set size (VmHWM) so far, in bytes. */
export const rssPeak = (pid: number): number | undefined => statusKb(pid, 'VmHWM');

/** The machine's 1-minute load average: other work on a shared machine skews every figure. */
export const loadAverage = (): number => loadavg()[0]!;

export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const mib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${fmt(bytes / 1024 / 1024)} MiB`);

/** A plain text table, the first column left-aligned and the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
