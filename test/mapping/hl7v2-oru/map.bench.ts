/**
 * hl7v2-oru mapping benchmark: ORU^R01 messages (and results) mapped per second on one core,
 * parse included, for each message of samples/hl7v2. Prints figures; asserts nothing.
 *
 *   npx node test/mapping/hl7v2-oru/map.bench.ts [seconds per sample, default 1]
 */
import { mapOruR01 } from '../../../src/mapping/hl7v2-oru/index.ts';
import { SETTINGS, sample, sampleNames } from './support.ts';

const seconds = Number(process.argv[2] ?? 1);
for (const name of sampleNames()) {
  const text = sample(name);
  const results = mapOruR01(text, SETTINGS).reduce((n, m) => n + m.report.observations.length, 0);
  for (let i = 0; i < 500; i++) mapOruR01(text, SETTINGS);
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) mapOruR01(text, SETTINGS);
    n += 100;
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(40)} ${Math.round(perSecond).toString().padStart(7)} messages/s  ${Math.round(perSecond * results).toString().padStart(8)} results/s`);
}
