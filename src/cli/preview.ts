import { readFileSync } from 'node:fs';
import { loadConfiguration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatIssue } from '../config/yaml-file.ts';
import { processInput } from '../engine/channel.ts';
import { InputError } from '../errors.ts';
import { prettyJson } from '../util/pretty-json.ts';
import { UsageError } from './args.ts';

export interface PreviewOptions {
  channelId: string;
  inputFile: string;
  raw: boolean;
  destination?: string;
  canonical: boolean;
}

/**
 * `conduit preview <channel> <file>`: prints exactly what the channel would send for that
 * input, without sending or storing anything. Invalid input exits 1 with the same errors
 * the source would answer.
 */
export async function previewCommand(settings: EngineSettings, o: PreviewOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { channels, issues } = loadConfiguration(settings);
  const channel = channels.find((c) => c.config.id === o.channelId);
  if (!channel) {
    for (const i of issues) err.write(`${formatIssue(i)}\n`);
    throw new UsageError(`no valid channel '${o.channelId}'; channels: ${channels.map((c) => c.config.id).join(', ') || '(none)'}`);
  }
  const text = readFileSync(o.inputFile, 'utf8');
  const format = channel.mapping?.format ?? (text.trimStart().startsWith('MSH') ? 'hl7v2' : 'json');
  let processed: Awaited<ReturnType<typeof processInput>>;
  try {
    processed = await processInput(channel, { text, format }, new Date().toISOString());
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    err.write(`${o.inputFile}: ${e.code}\n`);
    for (const i of e.issues) err.write(`  ${i.path}: ${i.message}\n`);
    return 1;
  }
  const many = processed.length > 1;
  for (const [n, result] of processed.entries()) {
    if (many) out.write(`# report ${n + 1} of ${processed.length}\n`);
    if (o.canonical || channel.destinations.length === 0) {
      out.write(`${JSON.stringify(result.mapped?.report ?? { raw: text }, null, 2)}\n`);
      if (o.canonical) continue;
    }
    const outputs = result.outputs.filter((x) => !o.destination || x.destination.config.id === o.destination);
    if (o.destination && outputs.length === 0) throw new UsageError(`channel ${o.channelId} has no destination '${o.destination}'`);
    for (const x of outputs) {
      if (outputs.length > 1 && !o.raw) out.write(`# destination ${x.destination.config.id} (${x.contentType})\n`);
      if (o.raw) out.write(x.payload);
      else if (x.destination.encoder.format === 'hl7v2') out.write(`${x.payload.replace(/\r$/, '').split('\r').join('\n')}\n`);
      else out.write(`${prettyJson(x.payload)}\n`);
    }
  }
  return 0;
}
