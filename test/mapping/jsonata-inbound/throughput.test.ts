/**
 * Throughput of the jsonata sample mapping, printed beside the built-in mapping's (not
 * asserted: it depends on the machine). Measured by map.bench.ts in a child process, away from
 * the test runner's async hooks, which slow JSONata's many promises several times over.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

test('throughput of mappings/platform-result-jsonata.yaml (printed, not asserted)', (t) => {
  const ms = process.env.JSONATA_BENCH_MS ?? '300';
  // The compact form, the full form, and many results; `node test/mapping/jsonata-inbound/map.bench.ts` runs every sample.
  const samples = ['compact-glucose', 'full-bmp-panel', 'urine-dipstick-many'];
  const out = execFileSync(process.execPath, [join(import.meta.dirname, 'map.bench.ts'), ms, ...samples], { encoding: 'utf8', timeout: 120_000 });
  const lines = out.trim().split('\n');
  assert.ok(lines.length > 1, out);
  for (const line of lines) t.diagnostic(line);
});
