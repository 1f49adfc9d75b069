/**
 * The repository's own sample messages and mapping files, read in place, and the helpers the
 * mapping tests share: a mapped value as stored, and the InputError an input is refused with.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../../src/errors.ts';
import { listSamples } from '../../src/testing/samples.ts';

export const REPO = join(import.meta.dirname, '..', '..');
/** samples/platform-events/: platform webhook events, one JSON file each. */
export const PLATFORM_EVENTS_DIR = join(REPO, 'samples', 'platform-events');
/** samples/hl7v2/: ORU^R01 messages, one .hl7 file each. */
export const HL7V2_SAMPLES_DIR = join(REPO, 'samples', 'hl7v2');

/** The `settings` of a mapping file of mappings/ (e.g. `platform-result.yaml`), not validated. */
export function mappingSettings(file: string): unknown {
  return (parse(readFileSync(join(REPO, 'mappings', file), 'utf8')) as { settings: unknown }).settings;
}

/** A sample event of samples/platform-events/ (`name` without `.json`), parsed: a fresh object on every call. */
export function platformEvent(name: string): unknown {
  return JSON.parse(readFileSync(join(PLATFORM_EVENTS_DIR, `${name}.json`), 'utf8'));
}

/** A message of samples/hl7v2/, as bytes decoded from UTF-8. */
export function hl7v2Sample(name: string): string {
  return readFileSync(join(HL7V2_SAMPLES_DIR, name), 'utf8');
}

/** The file names of the samples of samples/hl7v2/ (not the golden outputs beside them), sorted. */
export function hl7v2SampleNames(): string[] {
  return listSamples(HL7V2_SAMPLES_DIR, 'hl7v2')
    .filter((s) => !s.invalid)
    .map((s) => `${s.name}.hl7`);
}

/**
 * The sample events of samples/platform-events/ (names without `.json`, sorted): not the golden
 * outputs `conduit test` keeps beside them, and without the `invalid-*` ones unless asked.
 */
export function platformEventNames(options: { invalid?: boolean } = {}): string[] {
  return listSamples(PLATFORM_EVENTS_DIR, 'json')
    .filter((s) => options.invalid || !s.invalid)
    .map((s) => s.name);
}

/** A value as stored (a JSON round trip), so absent and undefined fields compare alike. */
export function asStored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The InputError `run` throws; fails with `accepted` when it throws nothing, and when it throws anything else. */
export function refusalOf(run: () => unknown, accepted: string): InputError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e;
  }
  assert.fail(accepted);
}
