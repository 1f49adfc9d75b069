import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { readAsSource } from '../cli/preview.ts';
import type { ResolvedChannel } from '../config/load.ts';
import { processInput } from '../engine/channel.ts';
import { InputError } from '../errors.ts';
import { prettyJson } from '../util/pretty-json.ts';
import { align } from './align.ts';
import { diffHl7 } from './hl7-diff.ts';
import { diffJson } from './json-diff.ts';
import {
  errorFileName,
  filteredFileName,
  outputFileName,
  parseExpectedFile,
  SAMPLE_DIRS,
  type Sample,
  listSamples,
  sampleDirFor,
} from './samples.ts';

/**
 * Golden tests: each sample of a channel's input format goes through the channel exactly as
 * `preview` would send it, and each output is compared with the expected file beside the
 * sample (see samples.ts for the file names).
 */

/** Creation time of every golden output (MSH-7, Bundle.timestamp), so outputs are reproducible. */
export const GOLDEN_CREATED_AT = '2026-01-01T00:00:00.000Z';

/** Control ids T0001, T0002, … numbered afresh for each sample and channel. */
export function goldenControlIds(): () => string {
  let n = 0;
  return () => `T${String(++n).padStart(4, '0')}`;
}

export interface GoldenCheck {
  readonly channel: string;
  readonly sample: string;
  /** The expected file; for a sample the channel failed on, the sample itself. */
  readonly path: string;
  /**
   * ok: the file holds what the channel gives; changed: it differs; new: there is no file yet;
   * stale: the channel gives nothing for this file any more; failed: the channel threw.
   */
  readonly status: 'ok' | 'changed' | 'new' | 'stale' | 'failed';
  /** What the expected file should hold now (ok, changed, new). */
  readonly actual?: string;
  /** Readable differences (changed), or why the file is stale or the channel failed. */
  readonly diff: readonly string[];
}

export interface GoldenOptions {
  /** The samples folder, holding one folder per input format (SAMPLE_DIRS). */
  readonly samplesDir: string;
  /** Only this channel's tests. */
  readonly channelId?: string;
}

/** Runs the golden tests of every channel with an inbound mapping; reads files, writes none. */
export async function runGoldenTests(channels: readonly ResolvedChannel[], o: GoldenOptions): Promise<GoldenCheck[]> {
  const checks: GoldenCheck[] = [];
  const seen = new Set<string>();
  const selected = channels.filter((c) => o.channelId === undefined || c.config.id === o.channelId);
  for (const channel of [...selected].sort((a, b) => a.config.id.localeCompare(b.config.id))) {
    if (!channel.mapping) continue;
    const dir = sampleDirFor(o.samplesDir, channel.config.mapping!, channel.mapping.format);
    const files = existsSync(dir) ? readdirSync(dir).sort() : [];
    for (const sample of listSamples(dir, channel.mapping.format)) {
      const { checks: found, expectedFiles } = await checkSample(channel, sample, files);
      for (const f of expectedFiles) seen.add(f);
      checks.push(...found);
    }
  }
  checks.push(...orphans(channels, o, seen));
  return checks;
}

/**
 * One sample through one channel against the expected files beside it (`files`: the names in
 * the sample's folder): a check per output file, and the expected files that belong to it.
 */
export async function checkSample(channel: ResolvedChannel, sample: Sample, files: readonly string[]): Promise<{ checks: GoldenCheck[]; expectedFiles: string[] }> {
  const id = channel.config.id;
  const dir = dirname(sample.path);
  const existing = files.filter((f) => {
    const p = parseExpectedFile(f);
    return p?.sample === sample.name && p.channel === id;
  });
  const expectedFiles = existing.map((f) => join(dir, f));
  let outputs: Map<string, string>;
  try {
    outputs = await goldenOutputs(channel, sample);
  } catch (e) {
    return { checks: [{ channel: id, sample: sample.name, path: sample.path, status: 'failed', diff: [`${id} failed: ${(e as Error).message}`] }], expectedFiles };
  }
  const checks: GoldenCheck[] = [];
  for (const file of [...new Set([...outputs.keys(), ...existing])].sort()) {
    const path = join(dir, file);
    const actual = outputs.get(file);
    const base = { channel: id, sample: sample.name, path };
    if (actual === undefined) {
      checks.push({ ...base, status: 'stale', diff: [whyStale(file, outputs)] });
    } else if (!existing.includes(file)) {
      checks.push({ ...base, status: 'new', actual, diff: [] });
    } else {
      const expected = readFileSync(path, 'utf8').replace(/\r\n/g, '\n');
      if (expected === actual) checks.push({ ...base, status: 'ok', actual, diff: [] });
      else checks.push({ ...base, status: 'changed', actual, diff: differences(file, expected, actual) });
    }
  }
  return { checks, expectedFiles };
}

/**
 * What a channel gives for one sample, by expected file name: each destination's output as
 * `preview` prints it (ER7 one segment per line; JSON re-indented, numbers as written), the
 * refusal, or the filter that stopped a report.
 */
export async function goldenOutputs(channel: ResolvedChannel, sample: Sample): Promise<Map<string, string>> {
  const id = channel.config.id;
  const files = new Map<string, string>();
  const reports: Awaited<ReturnType<typeof processInput>> = [];
  try {
    // The bytes read as the channel's source reads them (MSH-18, the encoding setting).
    const controlIds = goldenControlIds();
    for (const input of readAsSource(channel, readFileSync(sample.path), basename(sample.path))) {
      reports.push(...(await processInput(channel, input, GOLDEN_CREATED_AT, { controlIds })));
    }
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    files.set(errorFileName(sample.name, id), lines(e.issues.map((i) => `${i.path}: ${i.message}`)));
    return files;
  }
  const filtered: string[] = [];
  for (const [n, report] of reports.entries()) {
    const number = reports.length > 1 ? n + 1 : undefined;
    if (report.filteredBy) filtered.push(`${number === undefined ? '' : `report ${number}: `}${report.filteredBy}`);
    for (const o of report.outputs) {
      const hl7 = o.destination.encoder.format === 'hl7v2';
      const file = outputFileName(sample.name, id, o.destination.config.id, hl7 ? 'hl7' : 'json', number);
      files.set(file, hl7 ? `${o.payload.replace(/\r$/, '').split('\r').join('\n')}\n` : `${prettyJson(o.payload)}\n`);
    }
  }
  if (filtered.length > 0) files.set(filteredFileName(sample.name, id), lines(filtered));
  return files;
}

/** Writes the files of new and changed checks and removes stale ones; returns what it did. */
export function updateExpectedFiles(checks: readonly GoldenCheck[]): Array<{ action: 'wrote' | 'removed'; path: string }> {
  const done: Array<{ action: 'wrote' | 'removed'; path: string }> = [];
  for (const c of checks) {
    if ((c.status === 'new' || c.status === 'changed') && c.actual !== undefined) {
      writeFileSync(c.path, c.actual);
      done.push({ action: 'wrote', path: c.path });
    } else if (c.status === 'stale') {
      unlinkSync(c.path);
      done.push({ action: 'removed', path: c.path });
    }
  }
  return done;
}

function lines(items: readonly string[]): string {
  return items.map((l) => `${l}\n`).join('');
}

function differences(file: string, expected: string, actual: string): string[] {
  const found = file.endsWith('.hl7') ? diffHl7(expected, actual) : file.endsWith('.json') ? diffJson(expected, actual) : diffLines(expected, actual);
  return found.length > 0 ? found : ['the same content, laid out differently (whitespace, line ends or the order of keys)'];
}

/** Line by line, for the error and filtered files. */
function diffLines(expectedText: string, actualText: string): string[] {
  const expected = expectedText.split('\n').filter((l) => l !== '');
  const actual = actualText.split('\n').filter((l) => l !== '');
  const out: string[] = [];
  for (const [i, j] of align(expected, actual, (a, b) => (a === b ? 0 : 1))) {
    const a = i === undefined ? undefined : expected[i]!;
    const b = j === undefined ? undefined : actual[j]!;
    if (a !== undefined && b !== undefined) {
      // Whole lines: an issue's path and message are short, and read best in full.
      if (a !== b) out.push(`line ${i! + 1}: expected '${a}', got '${b}'`);
    } else if (a !== undefined) out.push(`line ${i! + 1}: missing '${a}'`);
    else if (b !== undefined) out.push(`line ${j! + 1}: added '${b}'`);
  }
  return out;
}

function whyStale(file: string, outputs: ReadonlyMap<string, string>): string {
  const refusal = [...outputs.keys()].find((f) => f.endsWith('.error.txt'));
  if (file.endsWith('.error.txt')) return 'expected the input to be refused, but the channel accepts it';
  if (file.endsWith('.filtered.txt')) return 'expected a report to be filtered, but none is';
  if (refusal) return `expected this output, but the channel refuses the input: ${outputs.get(refusal)!.trimEnd().split('\n').join('; ')}`;
  return 'the channel no longer gives this output (a destination removed or renamed, a routing condition, or a different number of reports)';
}

/** Expected files no channel gave or looked at: of a sample, channel or folder that is gone. */
function orphans(channels: readonly ResolvedChannel[], o: GoldenOptions, seen: ReadonlySet<string>): GoldenCheck[] {
  const out: GoldenCheck[] = [];
  const folders = new Set([...Object.values(SAMPLE_DIRS), ...channels.flatMap((c) => (c.config.mapping ? [c.config.mapping] : []))]);
  for (const folder of folders) {
    const dir = join(o.samplesDir, folder);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      const p = parseExpectedFile(file);
      const path = join(dir, file);
      if (!p || seen.has(path) || (o.channelId !== undefined && p.channel !== o.channelId)) continue;
      const channel = channels.find((c) => c.config.id === p.channel);
      const why = !channel
        ? `there is no channel '${p.channel}'`
        : !channel.mapping
          ? `channel ${p.channel} has no inbound mapping`
          : sampleDirFor(o.samplesDir, channel.config.mapping!, channel.mapping.format) !== dir
            ? `channel ${p.channel} takes its samples from ${relative(o.samplesDir, sampleDirFor(o.samplesDir, channel.config.mapping!, channel.mapping.format))}/, not ${folder}/`
            : `there is no sample '${p.sample}' in ${folder}/`;
      out.push({ channel: p.channel, sample: p.sample, path, status: 'stale', diff: [why] });
    }
  }
  return out;
}
