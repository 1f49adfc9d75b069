/**
 * `npm run bench`: the end-to-end benchmark (webhook → ORU^R01 → MLLP → ACK, durable) in the
 * configurations that matter, then the codec comparison, in one run. Prints figures; asserts
 * nothing about speed.
 *
 *   npm run bench -- [--events 20000] [--concurrency 64] [--client http|fetch] [--patients 500]
 *                    [--no-normal] [--no-lanes4] [--no-codec] [--codec-seconds 2]
 *                    [--cpu-prof <dir>]   (profiles the engine of the first run)
 *                    [--in-process]       (adds a run with the engine in this process)
 *
 * Runs: durability full with lanes 1 (the sample channel as shipped), durability normal,
 * and full with lanes 4. The machine's load average is printed with each run: on a shared
 * 2-core machine, other work moves the figures a lot.
 */
import { cpus } from 'node:os';
import { formatCodecBench, runCodecBench } from './codec.bench.ts';
import { type E2eBenchResult, formatE2eBench, parseE2eArgs, runE2eBench } from './e2e.bench.ts';

const o = parseE2eArgs(process.argv.slice(2));
console.log(
  `Conduit end-to-end benchmark: ${o.events.toLocaleString('en-US')} full-form platform events, ${o.concurrency} webhook requests in flight (${o.client} keep-alive), ` +
    `${o.patients} patients; engine in a child process, receiver and load generator in this one; node ${process.version}, ${cpus().length} CPUs`,
);

const runs: Array<{ durability: 'full' | 'normal'; lanes: number; inProcess?: boolean }> = [{ durability: o.durability ?? 'full', lanes: o.lanes ?? 1 }];
if (o.normal) runs.push({ durability: 'normal', lanes: o.lanes ?? 1 });
if (o.lanes4) runs.push({ durability: o.durability ?? 'full', lanes: 4 });
if (o.inProcessToo) runs.push({ durability: o.durability ?? 'full', lanes: o.lanes ?? 1, inProcess: true });

const results: E2eBenchResult[] = [];
for (const [i, run] of runs.entries()) {
  const result = await runE2eBench({
    ...o,
    inProcess: false,
    ...run,
    ...(o.cpuProf && i === 0 ? { engineExecArgv: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] } : {}),
  });
  results.push(result);
  console.log(
    `  ${result.label}: ${Math.round(result.endToEndPerSecond)} results/s end to end, intake ${Math.round(result.intakePerSecond)}/s, ` +
      `p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms (load average ${result.loadAverageAtStart.toFixed(1)})`,
  );
}
console.log('');
console.log(formatE2eBench(results));

if (o.codec) {
  console.log('');
  console.log(`HL7 v2 codec, 20-OBX ORU^R01, ${o.codecSeconds} s per codec after warm-up (one core):`);
  console.log(formatCodecBench(await runCodecBench({ seconds: o.codecSeconds })));
}
