/**
 * Helpers for the `jsonata` inbound mapping tests: the repository's sample mapping
 * (mappings/platform-result-jsonata.yaml), mappings built from settings written in a test, and
 * the refusal an input gets.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { InputError, type InputIssue } from '../../../src/errors.ts';
import { compileJsonataMapping, createJsonataInboundMapping, JsonataInboundSettings } from '../../../src/mapping/jsonata-inbound/index.ts';
import { formatPath } from '../../../src/mapping/issues.ts';
import type { InboundMapping, MappedInput } from '../../../src/mapping/types.ts';
import { asStored, mappingSettings, PLATFORM_EVENTS_DIR } from '../../support/repo.ts';

/** The mapping of mappings/platform-result-jsonata.yaml. */
export const SAMPLE_MAPPING = jsonataMapping(mappingSettings('platform-result-jsonata.yaml'));

/** A `jsonata` mapping from its settings (the `settings:` of a file); fails on a problem of the settings. */
export function jsonataMapping(settings: unknown): InboundMapping {
  const parsed = JsonataInboundSettings.safeParse(settings);
  if (!parsed.success) assert.fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return createJsonataInboundMapping('test', parsed.data);
}

/** The problems of settings as `path: message` lines, path from the file's top (`settings.report.id`). */
export function settingsProblems(settings: unknown): string[] {
  const parsed = JsonataInboundSettings.safeParse(settings);
  if (!parsed.success) return parsed.error.issues.map((i) => `${formatPath(['settings', ...i.path])}: ${i.message}`);
  const { issues } = compileJsonataMapping(parsed.data);
  assert.ok(issues.length > 0, 'the settings were accepted');
  return issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

/** Maps a JSON body (an object is serialised) and returns the result as stored. */
export async function mapped(body: unknown, mapping: InboundMapping = SAMPLE_MAPPING): Promise<readonly MappedInput[]> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return asStored(await mapping.map({ text, format: 'json' }));
}

/** The InputError a body is refused with. */
export async function refusal(body: unknown, mapping: InboundMapping = SAMPLE_MAPPING): Promise<InputError> {
  try {
    await mapped(body, mapping);
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e;
  }
  assert.fail('the input was accepted');
}

/** The issues a body is refused with, as `path: message` lines for readable failures. */
export async function issues(body: unknown, mapping: InboundMapping = SAMPLE_MAPPING): Promise<string[]> {
  return (await refusal(body, mapping)).issues.map((i: InputIssue) => `${i.path}: ${i.message}`);
}

/**
 * The valid sample events of samples/platform-events/ (names without `.json`, sorted): not the
 * `invalid-*` ones, and not the golden outputs kept beside them (a sample's name has no dot).
 */
export function validSampleNames(): string[] {
  return readdirSync(PLATFORM_EVENTS_DIR)
    .filter((f) => /^[A-Za-z0-9][A-Za-z0-9_-]*\.json$/.test(f) && !f.startsWith('invalid-'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A sample event as a test edits it. */
// biome-ignore lint/suspicious/noExplicitAny: samples are edited freely by the tests.
export type Editable = any;

/** A minimal valid report tree, to which a test adds or changes fields. */
export function minimalReport(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '=result.id',
    version: 1,
    correction: false,
    status: 'final',
    observations: '=result.observations.{ "code": { "code": analyte }, "value": value, "status": "final" }',
    provenance: { kind: 'platform-event' },
    ...extra,
  };
}
