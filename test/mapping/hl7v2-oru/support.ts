/**
 * Helpers for the hl7v2-oru mapping tests: the repository's samples and mapping settings,
 * the shared real-world samples (read in place, never copied), and a small ORU^R01 builder.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { LabReport, Observation } from '../../../src/canonical/report.ts';
import type { InputError, InputIssue } from '../../../src/errors.ts';
import { Hl7v2OruSettings, mapOruR01 } from '../../../src/mapping/hl7v2-oru/index.ts';
import type { MappedInput } from '../../../src/mapping/types.ts';
import { Hl7Message } from '../../../src/protocols/hl7v2/index.ts';
import type { MllpClientConnection } from '../../../src/protocols/mllp/index.ts';
import { connectMllp, mllpPortOf, startTestEngine, type TestEngine } from '../../support/in-process.ts';
import { asStored, mappingSettings, refusalOf } from '../../support/repo.ts';
import { SHARED_SAMPLES_DIR } from '../../support/shared-samples.ts';

export { hl7v2Sample as sample, hl7v2SampleNames as sampleNames } from '../../support/repo.ts';

/** The settings of the repository's mappings/hl7v2-oru.yaml. */
export const SETTINGS: Hl7v2OruSettings = Hl7v2OruSettings.parse(mappingSettings('hl7v2-oru.yaml'));

export function settings(overrides: Record<string, unknown>): Hl7v2OruSettings {
  return Hl7v2OruSettings.parse({ ...SETTINGS, ...overrides });
}

/** The shared real-world samples (other people's data: read from their folder only). */
export function sharedSamples(): Array<{ name: string; text: string }> | undefined {
  if (!existsSync(SHARED_SAMPLES_DIR)) return undefined;
  return readdirSync(SHARED_SAMPLES_DIR)
    .filter((f) => f.endsWith('.hl7'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(SHARED_SAMPLES_DIR, name), 'utf8') }));
}

/** Maps a message and returns it as stored (JSON), so absent and undefined fields compare alike. */
export function mapped(text: string, s: Hl7v2OruSettings = SETTINGS): MappedInput[] {
  return asStored(mapOruR01(text, s));
}

/** The one report of a one-order message. */
export function report(text: string, s: Hl7v2OruSettings = SETTINGS): LabReport {
  const out = mapped(text, s);
  assert.equal(out.length, 1, `expected one report, got ${out.length}`);
  return out[0]!.report;
}

export function observation(text: string, i = 0, s: Hl7v2OruSettings = SETTINGS): Observation {
  const o = report(text, s).observations[i];
  assert.ok(o, `no observation ${i}`);
  return o;
}

/** The InputError a message is refused with. */
export function refusal(text: string, s: Hl7v2OruSettings = SETTINGS): InputError {
  return refusalOf(() => mapOruR01(text, s), 'the message was accepted');
}

/** The issues a message is refused with, as `path: message` lines, for readable failures. */
export function issues(text: string, s: Hl7v2OruSettings = SETTINGS): string[] {
  return refusal(text, s).issues.map((i: InputIssue) => `${i.path}: ${i.message}`);
}

/** A running channel `lab-results` with this mapping: an MLLP listener on port 0, no destinations. */
export const MLLP_CHANNEL = `id: lab-results
source:
  type: mllp
  host: 127.0.0.1
  port: 0
mapping: hl7v2-oru
`;

export interface MllpLabChannel {
  /** The engine (set once the block's `before` ran). */
  readonly test: TestEngine;
  /** Sends one message over the connection and parses the answer. */
  send(text: string): Promise<Hl7Message>;
}

/**
 * For a `describe` block: an engine running MLLP_CHANNEL and one MLLP connection to it, opened
 * before the block's tests and closed after them.
 */
export function mllpLabChannel(): MllpLabChannel {
  let t: TestEngine | undefined;
  let conn: MllpClientConnection | undefined;
  before(async () => {
    t = await startTestEngine({ 'lab-results.yaml': MLLP_CHANNEL });
    conn = await connectMllp(mllpPortOf(t));
  });
  after(async () => {
    await conn?.close();
    await t?.stop();
  });
  return {
    get test() {
      if (!t) throw new Error('mllpLabChannel: used before its before() ran');
      return t;
    },
    send: async (text) => Hl7Message.parse((await conn!.request(text, 5000)).toString()),
  };
}

export const MSH = 'MSH|^~\\&|ANALYSER|LAB|CONDUIT|HOSP|20261120091500+0100||ORU^R01^ORU_R01|CTRL-1|P|2.5.1';
export const PID = 'PID|1||MRN-1^^^HOSP^MR||Doe^Jane^Q||19800102|F';
export const ORC = 'ORC|RE|PLC-1|FIL-1';
export const OBR = 'OBR|1|PLC-1|FIL-1|GLU^Glucose^L|||20261120091000+0100|||||||||||||||20261120091400+0100|||F';

/** An OBX with the given fields (1-based: `{ 2: 'NM', 5: '5.4' }`); code GLU, status F unless given. */
export function obx(fields: Record<number, string>): string {
  const f: Record<number, string> = { 1: '1', 2: 'NM', 3: 'GLU^Glucose^L', 5: '5.4', 11: 'F', ...fields };
  const n = Math.max(...Object.keys(f).map(Number));
  return ['OBX', ...Array.from({ length: n }, (_, i) => f[i + 1] ?? '')].join('|');
}

/** A message of segments joined with CR; MSH, PID, ORC and OBR by default. */
export function oru(...rest: string[]): string {
  return [MSH, PID, ORC, OBR, ...rest].join('\r');
}

/** A file's ORU^R01 (ending in CR) whose MSH-18 is `msh18`, with `note` as a TX result: for the character set tests. */
export function charsetOru(controlId: string, msh18: string, note: string): string {
  return [
    `MSH|^~\\&|ANALYSER|LAB|CONDUIT|HOSP|20261120091500+0100||ORU^R01^ORU_R01|${controlId}|P|2.5.1||||||${msh18}`,
    'PID|1||MRN-1^^^HOSP^MR||Doe^Jane',
    OBR,
    `OBX|1|TX|NOTE^Comment^L||${note}||||||F`,
    '',
  ].join('\r');
}

/** A message of exactly these segments. */
export function message(...segments: string[]): string {
  return segments.join('\r');
}
