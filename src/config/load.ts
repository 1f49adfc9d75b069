import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import type { Encoder } from '../encoders/types.ts';
import { encoderKinds, inboundMappingKinds, type MappingKind } from '../mapping/kinds.ts';
import type { InboundMapping } from '../mapping/types.ts';
import { senderPlugins, sourcePlugins } from '../plugins.ts';
import { ChannelConfig, type DestinationConfig } from './channel.ts';
import { resolveEnvRefs } from './env-refs.ts';
import { formatPath } from '../mapping/issues.ts';
import type { EngineSettings } from './settings.ts';
import { type ConfigIssue, readYamlFile, type YamlFile } from './yaml-file.ts';

export interface ResolvedDestination {
  readonly config: DestinationConfig;
  readonly encoder: Encoder;
  /** Short hash of the outbound mapping file, recorded with each message it encodes. */
  readonly mappingVersion: string;
  readonly senderKind: string;
  readonly senderConfig: unknown;
}

export interface ResolvedChannel {
  readonly file: string;
  readonly config: ChannelConfig;
  readonly sourceKind: string;
  readonly sourceConfig: unknown;
  readonly mapping?: InboundMapping;
  readonly destinations: readonly ResolvedDestination[];
}

export interface Configuration {
  readonly channels: readonly ResolvedChannel[];
  readonly issues: readonly ConfigIssue[];
}

const MappingFile = z
  .object({
    kind: z.string().min(1, 'expected the mapping kind'),
    description: z.string().optional(),
    settings: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

function pushZodIssues(issues: ConfigIssue[], file: YamlFile, error: z.ZodError, prefix: PropertyKey[] = []): void {
  for (const i of error.issues) {
    const path = [...prefix, ...i.path];
    issues.push({ file: file.file, path: formatPath(path), line: file.lineOf(path), message: i.message, code: i.code });
  }
}

/** Plugin blocks are checked by the plugin's schema without the `type` that chose the plugin. */
function withoutType(block: { type: string }): Record<string, unknown> {
  const { type: _type, ...rest } = block;
  return rest;
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

interface LoadedMapping<T> {
  value: T;
  version: string;
}

/**
 * Reads and checks every channel and mapping file. Every problem is reported in one pass,
 * each with its file, line, path and what was expected; nothing is started here.
 */
export function loadConfiguration(settings: Pick<EngineSettings, 'channelsDir' | 'mappingsDir'>, env: NodeJS.ProcessEnv = process.env): Configuration {
  const issues: ConfigIssue[] = [];
  const rel = (f: string) => relative(process.cwd(), f) || f;
  const mappingCache = new Map<string, LoadedMapping<InboundMapping | Encoder> | undefined>();

  const loadMapping = <T>(
    name: string,
    kinds: Record<string, MappingKind<unknown, T>>,
    direction: string,
    from: { file: YamlFile; path: PropertyKey[] },
  ): LoadedMapping<T> | undefined => {
    const cacheKey = `${direction}:${name}`;
    if (mappingCache.has(cacheKey)) return mappingCache.get(cacheKey) as LoadedMapping<T> | undefined;
    const candidates = ['.yaml', '.yml', '.json'].map((ext) => join(settings.mappingsDir, name + ext));
    const path = candidates.find((p) => existsSync(p));
    let result: LoadedMapping<T> | undefined;
    if (!path) {
      issues.push({
        file: from.file.file, path: formatPath(from.path), line: from.file.lineOf(from.path), code: 'mapping_missing',
        message: `no mapping file '${name}.yaml' in ${rel(settings.mappingsDir)}`,
      });
    } else {
      const text = readFileSync(path, 'utf8');
      const { yaml, issues: syntax } = readYamlFile(rel(path), text);
      issues.push(...syntax);
      if (yaml) {
        const parsed = MappingFile.safeParse(resolveEnvRefs(yaml, env, issues));
        if (!parsed.success) pushZodIssues(issues, yaml, parsed.error);
        else {
          const kind = kinds[parsed.data.kind];
          if (!kind) {
            issues.push({
              file: yaml.file, path: 'kind', line: yaml.lineOf(['kind']), code: 'mapping_kind',
              message: `'${parsed.data.kind}' is not an ${direction} mapping kind; expected one of ${Object.keys(kinds).join(', ')}`,
            });
          } else {
            const s = kind.settings.safeParse(parsed.data.settings);
            if (!s.success) pushZodIssues(issues, yaml, s.error, ['settings']);
            else {
              const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
              result = { value: kind.create(name, s.data), version };
            }
          }
        }
      }
    }
    mappingCache.set(cacheKey, result as LoadedMapping<InboundMapping | Encoder> | undefined);
    return result;
  };

  const channels: ResolvedChannel[] = [];
  const ids = new Map<string, string>();
  const endpoints = new Map<string, string>();
  const files = yamlFiles(settings.channelsDir);
  if (files.length === 0) {
    issues.push({ file: rel(settings.channelsDir), path: '(dir)', message: 'no channel files (*.yaml) found', code: 'no_channels' });
  }
  for (const path of files) {
    const { yaml, issues: syntax } = readYamlFile(rel(path));
    issues.push(...syntax);
    if (!yaml) continue;
    const parsed = ChannelConfig.safeParse(resolveEnvRefs(yaml, env, issues));
    if (!parsed.success) {
      pushZodIssues(issues, yaml, parsed.error);
      continue;
    }
    const config = parsed.data;
    const before = issues.length;
    const stem = basename(path).replace(/\.(ya?ml|json)$/, '');
    if (stem !== config.id) {
      issues.push({ file: yaml.file, path: 'id', line: yaml.lineOf(['id']), code: 'id_mismatch', message: `channel id '${config.id}' differs from the file name '${stem}'` });
    }
    const other = ids.get(config.id);
    if (other) issues.push({ file: yaml.file, path: 'id', line: yaml.lineOf(['id']), code: 'duplicate_id', message: `channel id '${config.id}' is also used by ${other}` });
    ids.set(config.id, yaml.file);

    const sourcePlugin = sourcePlugins[config.source.type];
    let sourceConfig: unknown;
    if (!sourcePlugin) {
      issues.push({ file: yaml.file, path: 'source.type', line: yaml.lineOf(['source', 'type']), code: 'unknown_source', message: `unknown source type '${config.source.type}'; expected one of ${Object.keys(sourcePlugins).join(', ')}` });
    } else {
      const s = sourcePlugin.config.safeParse(withoutType(config.source));
      if (!s.success) pushZodIssues(issues, yaml, s.error, ['source']);
      else {
        sourceConfig = s.data;
        if (config.enabled) {
          for (const ep of sourcePlugin.endpoints(s.data, config.id)) {
            const owner = endpoints.get(ep);
            if (owner) issues.push({ file: yaml.file, path: 'source', line: yaml.lineOf(['source']), code: 'endpoint_conflict', message: `${ep} is already used by channel ${owner}` });
            endpoints.set(ep, config.id);
          }
        }
      }
    }

    const mapping = config.mapping ? loadMapping(config.mapping, inboundMappingKinds, 'inbound', { file: yaml, path: ['mapping'] }) : undefined;
    const destinations: ResolvedDestination[] = [];
    config.destinations.forEach((d, i) => {
      const encoder = loadMapping(d.mapping, encoderKinds, 'outbound', { file: yaml, path: ['destinations', i, 'mapping'] });
      const plugin = senderPlugins[d.sender.type];
      if (!plugin) {
        issues.push({
          file: yaml.file, path: `destinations[${i}].sender.type`, line: yaml.lineOf(['destinations', i, 'sender', 'type']), code: 'unknown_sender',
          message: `unknown sender type '${d.sender.type}'; expected one of ${Object.keys(senderPlugins).join(', ')}`,
        });
        return;
      }
      const s = plugin.config.safeParse(withoutType(d.sender));
      if (!s.success) {
        pushZodIssues(issues, yaml, s.error, ['destinations', i, 'sender']);
        return;
      }
      if (encoder) destinations.push({ config: d, encoder: encoder.value, mappingVersion: encoder.version, senderKind: d.sender.type, senderConfig: s.data });
    });
    if (issues.length === before && sourcePlugin) {
      channels.push({
        file: yaml.file,
        config,
        sourceKind: config.source.type,
        sourceConfig,
        ...(mapping ? { mapping: mapping.value } : {}),
        destinations,
      });
    }
  }
  return { channels, issues };
}
