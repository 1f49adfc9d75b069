import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InboundInput } from '../mapping/types.ts';

/**
 * The layout of samples/ and of the golden (expected) outputs checked in beside them.
 *
 *   samples/platform-events/full-bmp-panel.json                        a sample (json input)
 *   samples/platform-events/full-bmp-panel.platform-to-lis.lis.hl7     what channel platform-to-lis
 *                                                                      sends to destination lis
 *   samples/platform-events/invalid-value-number.platform-to-lis.error.txt
 *                                                                      why that channel refuses it
 *   samples/hl7v2/07-two-orders-urine-serology-v25.hl7-to-ehr.ehr.2.json
 *                                                                      the 2nd of several reports
 *   <sample>.<channel>.filtered.txt                                    the filter or routing rule
 *                                                                      that sent a report nowhere
 *
 * A sample's name has no dot, so every file with more dots is an output of one; channel and
 * destination ids have none either (lower-case letters, digits and dashes).
 */

type Format = InboundInput['format'];

/** Per inbound format, the folder of samples/ that holds its samples. */
export const SAMPLE_DIRS = {
  json: 'platform-events',
  hl7v2: 'hl7v2',
} as const satisfies Record<Format, string>;

export const SAMPLE_EXTENSIONS = {
  json: '.json',
  hl7v2: '.hl7',
} as const satisfies Record<Format, string>;

/** Samples whose name starts so are refused on purpose: their golden output is an error file. */
export const INVALID_SAMPLE_PREFIX = 'invalid-';

const SAMPLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ID = '[a-z0-9][a-z0-9-]*';
/** `<sample>.<channel>.<error|filtered>.txt` or `<sample>.<channel>.<destination>[.<report>].<hl7|json>`. */
const EXPECTED_FILE = new RegExp(`^([A-Za-z0-9][A-Za-z0-9_-]*)\\.(${ID})\\.(?:(?:error|filtered)\\.txt|${ID}(?:\\.\\d+)?\\.(?:hl7|json))$`);

export interface Sample {
  /** File name without its extension, e.g. `full-bmp-panel`. */
  readonly name: string;
  readonly path: string;
  readonly format: Format;
  /** Named `invalid-…`: the mapping is expected to refuse it. */
  readonly invalid: boolean;
}

/**
 * The folder holding a channel's samples: `samples/<inbound mapping>/` when the mapping has
 * a folder of its own (its input has a shape of its own, e.g. a partner's report delivery),
 * else the folder of its input format.
 */
export function sampleDirFor(samplesDir: string, mapping: string, format: Format): string {
  const own = join(samplesDir, mapping);
  return existsSync(own) ? own : join(samplesDir, SAMPLE_DIRS[format]);
}

/** Whether a file name is a sample of `format` (and not an expected output beside one). */
export function isSampleFile(file: string, format: Format): boolean {
  const ext = SAMPLE_EXTENSIONS[format];
  return file.endsWith(ext) && SAMPLE_NAME.test(file.slice(0, -ext.length));
}

/** The samples of `format` in `dir` (a folder such as samples/platform-events), sorted by name. */
export function listSamples(dir: string, format: Format): Sample[] {
  if (!existsSync(dir)) return [];
  const ext = SAMPLE_EXTENSIONS[format];
  return readdirSync(dir)
    .filter((f) => isSampleFile(f, format))
    .sort()
    .map((f) => {
      const name = f.slice(0, -ext.length);
      return { name, path: join(dir, f), format, invalid: name.startsWith(INVALID_SAMPLE_PREFIX) };
    });
}

/** Sample and channel of an expected-output file name, or undefined for any other file. */
export function parseExpectedFile(file: string): { sample: string; channel: string } | undefined {
  const m = EXPECTED_FILE.exec(file);
  return m ? { sample: m[1]!, channel: m[2]! } : undefined;
}

/**
 * The expected output of one destination: `<sample>.<channel>.<destination>.<ext>`, with the
 * report's number (from 1) before the extension when the input gave several reports (an
 * ORU^R01 with several orders).
 */
export function outputFileName(sample: string, channel: string, destination: string, ext: 'hl7' | 'json', report?: number): string {
  return `${sample}.${channel}.${destination}${report === undefined ? '' : `.${report}`}.${ext}`;
}

/** The expected refusal of an input: `<sample>.<channel>.error.txt`. */
export function errorFileName(sample: string, channel: string): string {
  return `${sample}.${channel}.error.txt`;
}

/** The filter or routing rule that sent a report nowhere: `<sample>.<channel>.filtered.txt`. */
export function filteredFileName(sample: string, channel: string): string {
  return `${sample}.${channel}.filtered.txt`;
}
