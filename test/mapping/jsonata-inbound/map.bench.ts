/**
 * jsonata mapping benchmark: events mapped per second on one core by
 * mappings/platform-result-jsonata.yaml and by the built-in platform-result mapping, JSON parse
 * and schema check included, for each valid sample of samples/platform-events. Prints figures;
 * asserts nothing. Run on its own: under `node --test` the runner's async hooks slow every
 * promise, and JSONata makes many.
 *
 *   node test/mapping/jsonata-inbound/map.bench.ts [milliseconds per sample and mapping, default 1000] [sample …]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPlatformResultMapping } from '../../../src/mapping/platform-result/map.ts';
import { PlatformResultSettings } from '../../../src/mapping/platform-result/settings.ts';
import type { InboundMapping } from '../../../src/mapping/types.ts';
import { mappingSettings, PLATFORM_EVENTS_DIR } from '../../support/repo.ts';
import { SAMPLE_MAPPING, validSampleNames } from './support.ts';

const ms = Number(process.argv[2] ?? 1000);
const names = process.argv.length > 3 ? process.argv.slice(3) : validSampleNames();
const builtIn = createPlatformResultMapping('platform-result', PlatformResultSettings.parse(mappingSettings('platform-result.yaml')));

async function perSecond(mapping: InboundMapping, text: string): Promise<number> {
  const input = { text, format: 'json' } as const;
  for (let i = 0; i < 50; i++) await mapping.map(input);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 20; i++) await mapping.map(input);
    n += 20;
  }
  return n / ((performance.now() - start) / 1000);
}

const n = (x: number, width: number) => Math.round(x).toString().padStart(width);
console.log(`${'sample'.padEnd(24)} ${'results'.padStart(7)} ${'jsonata events/s'.padStart(17)} ${'results/s'.padStart(10)} ${'built-in events/s'.padStart(18)}`);
for (const name of names) {
  const text = readFileSync(join(PLATFORM_EVENTS_DIR, `${name}.json`), 'utf8');
  const results = (await SAMPLE_MAPPING.map({ text, format: 'json' }))[0]!.report.observations.length;
  const jsonata = await perSecond(SAMPLE_MAPPING, text);
  const fast = await perSecond(builtIn, text);
  console.log(`${name.padEnd(24)} ${n(results, 7)} ${n(jsonata, 17)} ${n(jsonata * results, 10)} ${n(fast, 18)}`);
}
