/**
 * Soak (not for CI): N messages at a steady rate through one path (open loop), printing the
 * engine's resident memory as it goes, then whether it stayed flat: memory must be bounded
 * by the backlog bound, not grow with the number of messages ever sent.
 *
 *   npm run bench -- --soak 1000000 [--soak-rate 1000] [--soak-path webhook-mllp] [--soak-retention 2m]
 *
 * With --soak-retention the channel keeps content and messages that long (applied every 5 s)
 * and the store's size is printed as it goes: it must level off instead of growing with every
 * message.
 */
import { fmt, mib } from './measure.ts';
import { type OpenLoopProgress, type OpenLoopResult, runOpenLoop } from './open-loop.bench.ts';
import type { PathKind } from './paths.ts';

export interface SoakOptions {
  messages: number;
  rate: number;
  kind: PathKind;
  durability: 'full' | 'normal';
  patients: number;
  /** Channel retention (content and metadata), a duration such as '2m'. */
  retention?: string;
  /** A PostgreSQL URL for the store; SQLite when absent. */
  store?: string;
  /** Default every 10 s (every tenth of the run, at least 1 s, when shorter than 100 s). */
  progressEveryMs?: number;
}

export interface SoakResult {
  run: OpenLoopResult;
  samples: OpenLoopProgress[];
  /** RSS once a tenth of the messages were due (after warm-up), and at the last sample. */
  rssAfterWarmupBytes: number | undefined;
  rssAtEndBytes: number | undefined;
  /** Store size once a third of the messages were due (retention has caught up by then), and at the last sample. */
  storeAfterThirdBytes: number | undefined;
  storeAtEndBytes: number | undefined;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const samples: OpenLoopProgress[] = [];
  const run = await runOpenLoop({
    kind: o.kind,
    rate: o.rate,
    durationS: o.messages / o.rate,
    // The soak counts every message; its first tenth is its warm-up (rssAfterWarmupBytes).
    warmUpS: 0,
    lanes: 1,
    durability: o.durability,
    patients: o.patients,
    runId: `s${Date.now().toString(36)}`,
    ...(o.retention ? { retention: o.retention } : {}),
    ...(o.store ? { store: o.store } : {}),
    // A soak stalls only if the engine does: allow for a long drain.
    timeoutMs: 1_800_000,
    progressEveryMs: o.progressEveryMs ?? Math.min(10_000, Math.max(1_000, (o.messages / o.rate) * 100)),
    onProgress: (p) => {
      samples.push(p);
      console.log(
        `  ${fmt(p.elapsedMs / 1000).padStart(6)} s: ${fmt(p.due)} due, ${fmt(p.accepted)} accepted, ${fmt(p.delivered)} delivered; engine RSS ${mib(p.engineRssBytes)} (peak ${mib(p.engineRssPeakBytes)}), store ${mib(p.storeBytes)}`,
      );
    },
  });
  const warm = samples.find((s) => s.due >= o.messages / 10);
  const third = samples.find((s) => s.due >= o.messages / 3);
  return {
    run,
    samples,
    rssAfterWarmupBytes: warm?.engineRssBytes,
    rssAtEndBytes: samples.at(-1)?.engineRssBytes,
    storeAfterThirdBytes: third?.storeBytes,
    storeAtEndBytes: samples.at(-1)?.storeBytes,
  };
}

export function formatSoak(r: SoakResult): string {
  const growth = r.rssAfterWarmupBytes !== undefined && r.rssAtEndBytes !== undefined ? r.rssAtEndBytes - r.rssAfterWarmupBytes : undefined;
  return [
    `soak: ${fmt(r.run.events)} messages at ${fmt(r.run.rate)}/s, ${r.run.label}`,
    `  engine RSS after the first tenth ${mib(r.rssAfterWarmupBytes)}, at the end ${mib(r.rssAtEndBytes)} (${growth === undefined ? 'n/a' : `${growth >= 0 ? '+' : ''}${fmt(growth / 1024 / 1024)} MiB`}), peak ${mib(r.run.engineRssPeakBytes)}`,
    `  store after a third of the messages ${mib(r.storeAfterThirdBytes)}, at the end ${mib(r.storeAtEndBytes)}`,
    `  due → delivered p50 ${fmt(r.run.latencyMs.p50, 1)} ms, p99 ${fmt(r.run.latencyMs.p99, 1)} ms, p99.9 ${fmt(r.run.latencyMs.p999, 1)} ms, max ${fmt(r.run.latencyMs.max, 1)} ms; ${r.run.busy} 503s, ${r.run.errors} errors`,
  ].join('\n');
}
