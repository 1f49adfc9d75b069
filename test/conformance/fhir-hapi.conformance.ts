/**
 * Conformance tier: every FHIR Bundle the sample channels produce from every sample
 * (platform events and HL7 v2 messages) validates with 0 errors under the HAPI FHIR R4
 * instance validator, offline. Warnings (unknown LOINC/UCUM codes, narrative) are allowed
 * and printed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { readAsSource } from '../../src/cli/preview.ts';
import { loadConfiguration } from '../../src/config/load.ts';
import { processInput } from '../../src/engine/channel.ts';
import { listSamples, sampleDirFor } from '../../src/testing/samples.ts';
import { ensureHapiFhirValidator, validateFhirFiles } from '../peers/hapi-fhir-validator/fhir-validator.ts';
import { REPO } from '../support/in-process.ts';


before(async () => {
  await ensureHapiFhirValidator();
});

test('every Bundle from every sample validates with 0 errors under HAPI FHIR R4', async () => {
  const config = loadConfiguration({ channelsDir: join(REPO, 'channels'), mappingsDir: join(REPO, 'mappings') });
  assert.deepEqual(config.issues, []);
  const out = mkdtempSync(join(tmpdir(), 'conduit-fhir-'));
  after(() => rmSync(out, { recursive: true, force: true }));
  const files: string[] = [];
  const formats = new Set<string>();
  for (const channel of config.channels) {
    const format = channel.mapping?.format;
    if (!format || !channel.destinations.some((d) => d.encoder.kind === 'fhir-bundle')) continue;
    const dir = sampleDirFor(join(REPO, 'samples'), channel.config.mapping!, format);
    if (!existsSync(dir)) continue;
    formats.add(format);
    for (const { name: sample, path } of listSamples(dir, format).filter((s) => !s.invalid)) {
      // Read as the channel's source reads the bytes (MSH-18), as `conduit test` does.
      const reports = [];
      for (const input of readAsSource(channel, readFileSync(path), basename(path))) reports.push(...(await processInput(channel, input, '2026-11-22T08:00:00.000Z')));
      for (const [i, r] of reports.entries()) {
        for (const o of r.outputs.filter((x) => x.destination.encoder.kind === 'fhir-bundle')) {
          const file = join(out, `${channel.config.id}--${sample}--${i}.json`);
          writeFileSync(file, o.payload);
          files.push(file);
        }
      }
    }
  }
  assert.ok(formats.has('json'), 'a sample channel turns platform events into Bundles');
  const results = await validateFhirFiles(files);
  const noise = new Map<string, number>();
  for (const r of results) {
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.file.split('/').pop()} errors=${r.errors.length} warnings=${r.warnings.length}`);
    for (const e of r.errors) console.log(`     error ${e.location}: ${e.message}`);
    for (const w of r.warnings) {
      const key = (w as { messageId?: string }).messageId ?? w.message.slice(0, 60);
      noise.set(key, (noise.get(key) ?? 0) + 1);
      if (!/dom-6|performer/.test(key)) console.log(`     warning ${w.location}: ${w.message}`);
    }
  }
  console.log('warnings by kind:', Object.fromEntries(noise));
  assert.equal(results.length, files.length);
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => ({ file: r.file, errors: r.errors })),
    [],
  );
});
