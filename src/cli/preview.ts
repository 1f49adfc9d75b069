import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadConfiguration, type ResolvedChannel } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatIssue } from '../config/yaml-file.ts';
import { processInput } from '../engine/channel.ts';
import { InputError } from '../errors.ts';
import type { InboundInput } from '../mapping/types.ts';
import type { FileSourceConfig } from '../sources/file/config.ts';
import { fileInputs } from '../sources/file/inputs.ts';
import type { KafkaSourceConfig } from '../sources/kafka/config.ts';
import type { MllpSourceConfig } from '../sources/mllp/config.ts';
import { decodeInput } from '../sources/text.ts';
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
 * The inputs a file's bytes make for the channel's source, decoded exactly as that source
 * decodes them (src/sources/text.ts): a file drop splits and reads it as it would read it from
 * its inbox; MLLP and Kafka read HL7 v2 in its MSH-18 character set, else their `encoding`;
 * HTTP sources read UTF-8 JSON.
 */
export function readAsSource(channel: ResolvedChannel, bytes: Buffer, name: string): InboundInput[] {
  const format = (fallback: InboundInput['format']): InboundInput['format'] =>
    channel.mapping?.format ?? (bytes.toString('latin1', 0, 64).replace(/^[\s\x0b\ufeff\xef\xbb\xbf]+/, '').startsWith('MSH') ? 'hl7v2' : fallback);
  switch (channel.sourceKind) {
    case 'file': {
      const { inputs, unparsed } = fileInputs(name, bytes, channel.sourceConfig as FileSourceConfig);
      if (unparsed[0]) throw unparsed[0].error;
      return inputs.map((i) => i.input);
    }
    case 'mllp':
      return [{ text: decodeInput(bytes, 'hl7v2', channel.sourceConfig as MllpSourceConfig), format: 'hl7v2' }];
    case 'kafka': {
      const config = channel.sourceConfig as KafkaSourceConfig;
      return [{ text: decodeInput(bytes, config.format, config, '(file)'), format: config.format }];
    }
    default: {
      const f = format('json');
      return [{ text: decodeInput(bytes, f, 'utf-8', '(file)'), format: f }];
    }
  }
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
  const refused = (e: InputError, label = ''): number => {
    err.write(`${o.inputFile}${label}: ${e.code}\n`);
    for (const i of e.issues) err.write(`  ${i.path}: ${i.message}\n`);
    return 1;
  };
  let inputs: InboundInput[];
  try {
    inputs = readAsSource(channel, readFileSync(o.inputFile), basename(o.inputFile));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return refused(e);
  }
  const processed: Array<{ result: Awaited<ReturnType<typeof processInput>>[number]; text: string }> = [];
  for (const [n, input] of inputs.entries()) {
    try {
      for (const result of await processInput(channel, input, new Date().toISOString())) processed.push({ result, text: input.text });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return refused(e, inputs.length > 1 ? ` (message ${n + 1} of ${inputs.length})` : '');
    }
  }
  const many = processed.length > 1;
  for (const [n, { result, text }] of processed.entries()) {
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
