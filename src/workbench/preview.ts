import { basename, dirname } from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readAsSource } from '../cli/preview.ts';
import type { ResolvedChannel } from '../config/load.ts';
import { processInput } from '../engine/channel.ts';
import { InputError } from '../errors.ts';
import { checkSample, GOLDEN_CREATED_AT, goldenControlIds } from '../testing/golden.ts';
import { listSamples, type Sample, sampleDirFor } from '../testing/samples.ts';

export interface PreviewOutput {
  readonly destination: string;
  readonly contentType: string;
  readonly format: 'hl7v2' | 'json' | 'text';
  readonly payload: string;
  readonly warnings?: readonly string[];
}

export interface PreviewReport {
  readonly canonical?: unknown;
  readonly filteredBy?: string;
  readonly outputs: readonly PreviewOutput[];
}

export interface PreviewResult {
  readonly reports: readonly PreviewReport[];
  /** The input was refused (as the source would refuse it): which field, what was expected. */
  readonly refused?: { code: string; issues: ReadonlyArray<{ path: string; message: string }> };
  /** For a sample of samples/: each expected file beside it, and how the output differs. */
  readonly golden?: ReadonlyArray<{ file: string; status: string; diff: readonly string[] }>;
}

/**
 * What a channel would send for an input, from the channel as loaded (a configuration with the
 * workbench's edits): the canonical report of each report the input makes, each destination's
 * output, and for a sample its expected files compared. Control ids and times are those of the
 * golden tests, so the same input previews the same bytes.
 */
export async function preview(channel: ResolvedChannel, input: { text: string } | { sample: Sample }): Promise<PreviewResult> {
  const bytes = 'sample' in input ? readFileSync(input.sample.path) : Buffer.from(input.text, 'utf8');
  const name = 'sample' in input ? basename(input.sample.path) : 'input';
  const reports: PreviewReport[] = [];
  try {
    const controlIds = goldenControlIds();
    for (const i of readAsSource(channel, bytes, name)) {
      for (const r of await processInput(channel, i, GOLDEN_CREATED_AT, { controlIds })) {
        reports.push({
          ...(r.mapped ? { canonical: r.mapped.report } : {}),
          ...(r.filteredBy ? { filteredBy: r.filteredBy } : {}),
          outputs: r.outputs.map((o) => ({
            destination: o.destination.config.id,
            contentType: o.contentType,
            format: o.destination.encoder.format === 'hl7v2' ? 'hl7v2' : o.contentType.includes('json') ? 'json' : 'text',
            payload: o.payload,
            ...(o.warnings?.length ? { warnings: o.warnings } : {}),
          })),
        });
      }
    }
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { reports: [], refused: { code: e.code, issues: e.issues.map((i) => ({ path: i.path, message: i.message })) }, ...(await golden(channel, input)) };
  }
  return { reports, ...(await golden(channel, input)) };
}

async function golden(channel: ResolvedChannel, input: { text: string } | { sample: Sample }): Promise<Pick<PreviewResult, 'golden'>> {
  if (!('sample' in input)) return {};
  const dir = dirname(input.sample.path);
  const { checks } = await checkSample(channel, input.sample, existsSync(dir) ? readdirSync(dir) : []);
  return { golden: checks.map((c) => ({ file: basename(c.path), status: c.status, diff: c.diff })) };
}

/** The samples of a channel (by its inbound mapping and format), with their text. */
export function channelSamples(channel: ResolvedChannel, samplesDir: string): Array<Sample & { text: string }> {
  if (!channel.mapping || !channel.config.mapping) return [];
  const dir = sampleDirFor(samplesDir, channel.config.mapping, channel.mapping.format);
  return listSamples(dir, channel.mapping.format).map((s) => ({ ...s, text: readFileSync(s.path, 'utf8') }));
}

