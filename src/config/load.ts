import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import type { Encoder } from '../encoders/types.ts';
import { encoderKinds, inboundMappingKinds, sectionKeys } from '../mapping-kinds.ts';
import type { MappingKind } from '../mapping/kinds.ts';
import { type MappingTables, TableFiles } from '../mapping/tables/files.ts';
import type { InboundMapping } from '../mapping/types.ts';
import { senderPlugins, sourcePlugins } from '../plugins.ts';
import { clientCertificateProblem } from '../sources/client-certificate.ts';
import { ChannelConfig, DestinationConfig } from './channel.ts';
import { describeEnvIssue, type EnvValues, parseWithEnvValues, resolveEnvRefs } from './env-refs.ts';
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
  /** The inbound mapping as name@content-hash, recorded with each message it maps. */
  readonly mappingVersion?: string;
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
    /** Code tables by name → file, relative to the mappings directory. */
    tables: z.record(z.string(), z.string({ error: 'expected a path relative to the mappings directory, e.g. tables/analytes.csv' })).default({}),
    // The sections some kind reads (fields, segments …): checked against the file's kind below.
    ...Object.fromEntries(sectionKeys().map((k) => [k, z.unknown().optional()])),
  })
  .strict();

/**
 * name@version of a mapping: a hash of the file and of every table it names, so that editing a
 * table changes the version of each mapping that uses it. Without tables it is the file's hash.
 */
function mappingVersion(text: string, tables: MappingTables | undefined): string {
  const h = createHash('sha256').update(text);
  for (const t of [...(tables?.contents ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(`\u0000${t.name}\u0000${t.path}\u0000`).update(t.text);
  }
  return h.digest('hex').slice(0, 12);
}

function pushZodIssues(issues: ConfigIssue[], file: YamlFile, error: z.ZodError, prefix: PropertyKey[] = [], envValues: EnvValues = new Map()): void {
  for (const i of error.issues) {
    const path = [...prefix, ...i.path];
    if (i.code === 'unrecognized_keys') {
      // Point at each unknown key itself, not at the object that holds it.
      for (const key of i.keys) {
        const at = [...path, key];
        issues.push({ file: file.file, path: formatPath(at), line: file.lineOf(at), message: `unknown key '${key}'`, code: i.code });
      }
      continue;
    }
    issues.push({ file: file.file, path: formatPath(path), line: file.lineOf(path), message: describeEnvIssue(i, formatPath(path), envValues), code: i.code });
  }
}

/**
 * The top-level sections of a mapping file that its kind reads (`fields`, `segments` …),
 * parsed by the kind's schema; a section of another kind is an unknown key here.
 */
function parseSections(
  kind: MappingKind<unknown, unknown, unknown>,
  file: YamlFile,
  data: Record<string, unknown>,
  issues: ConfigIssue[],
): { ok: boolean; value: unknown } {
  const own = new Set(Object.keys(kind.sections?.shape ?? {}));
  let ok = true;
  const present: Record<string, unknown> = {};
  for (const key of sectionKeys()) {
    if (data[key] === undefined) continue;
    if (own.has(key)) present[key] = data[key];
    else {
      ok = false;
      issues.push({ file: file.file, path: key, line: file.lineOf([key]), message: `unknown key '${key}'; kind ${data.kind} does not read it`, code: 'unrecognized_keys' });
    }
  }
  if (!kind.sections) return { ok, value: {} };
  const parsed = kind.sections.safeParse(present);
  if (!parsed.success) {
    pushZodIssues(issues, file, parsed.error);
    return { ok: false, value: undefined };
  }
  return { ok, value: parsed.data };
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
export function loadConfiguration(
  settings: Pick<EngineSettings, 'channelsDir' | 'mappingsDir'> & Partial<Pick<EngineSettings, 'tlsClientCa'>>,
  env: NodeJS.ProcessEnv = process.env,
): Configuration {
  const issues: ConfigIssue[] = [];
  const rel = (f: string) => relative(process.cwd(), f) || f;
  // Per direction and name: the loaded mapping, or why a reference to it cannot be used. A
  // reference problem (no such file, a mapping of the other direction) is reported at every
  // reference; problems inside the mapping file are reported once, in that file.
  type CachedMapping = { result?: LoadedMapping<InboundMapping | Encoder>; refProblem?: Pick<ConfigIssue, 'code' | 'message'> };
  const mappingCache = new Map<string, CachedMapping>();
  const tableFiles = new TableFiles(settings.mappingsDir, rel);

  const loadMapping = <T>(
    name: string,
    kinds: Record<string, MappingKind<unknown, T>>,
    direction: string,
    from: { file: YamlFile; path: PropertyKey[] },
  ): LoadedMapping<T> | undefined => {
    const cacheKey = `${direction}:${name}`;
    const cached = mappingCache.get(cacheKey) ?? (loadMappingFile(name, kinds, direction) as CachedMapping);
    mappingCache.set(cacheKey, cached);
    if (cached.refProblem) issues.push({ file: from.file.file, path: formatPath(from.path), line: from.file.lineOf(from.path), ...cached.refProblem });
    return cached.result as LoadedMapping<T> | undefined;
  };

  const loadMappingFile = <T>(
    name: string,
    kinds: Record<string, MappingKind<unknown, T>>,
    direction: string,
  ): { result?: LoadedMapping<T>; refProblem?: Pick<ConfigIssue, 'code' | 'message'> } => {
    const candidates = ['.yaml', '.yml', '.json'].map((ext) => join(settings.mappingsDir, name + ext));
    const path = candidates.find((p) => existsSync(p));
    let result: LoadedMapping<T> | undefined;
    if (!path) {
      return { refProblem: { code: 'mapping_missing', message: `no mapping file '${name}.yaml' in ${rel(settings.mappingsDir)}` } };
    } else {
      const text = readFileSync(path, 'utf8');
      const { yaml, issues: syntax } = readYamlFile(rel(path), text);
      issues.push(...syntax);
      if (yaml) {
        const before = issues.length;
        const envValues: EnvValues = new Map();
        const parsed = MappingFile.safeParse(resolveEnvRefs(yaml, env, issues, envValues));
        // An unset ${ENV} reference (reported by resolveEnvRefs) leaves the mapping unusable.
        const envSet = issues.length === before;
        if (!parsed.success) pushZodIssues(issues, yaml, parsed.error);
        else {
          const kind = Object.hasOwn(kinds, parsed.data.kind) ? kinds[parsed.data.kind] : undefined;
          const otherKinds: Record<string, unknown> = kinds === encoderKinds ? inboundMappingKinds : encoderKinds;
          if (!kind && Object.hasOwn(otherKinds, parsed.data.kind)) {
            // A valid mapping used in the wrong place: the channel file is what needs fixing.
            const other = direction === 'inbound' ? 'outbound' : 'inbound';
            return {
              refProblem: {
                code: 'mapping_kind',
                message: `mapping '${name}' is an ${other} mapping (kind ${parsed.data.kind}); expected an ${direction} mapping, of kind ${Object.keys(kinds).join(', ')}`,
              },
            };
          }
          if (!kind) {
            issues.push({
              file: yaml.file, path: 'kind', line: yaml.lineOf(['kind']), code: 'mapping_kind',
              message: `'${parsed.data.kind}' is not an ${direction} mapping kind; expected one of ${Object.keys(kinds).join(', ')}`,
            });
          }
          // Tables are read whatever the kind, so their problems show in this pass too; a problem
          // inside a table file is reported there, once, however many mappings use it.
          const tables = tableFiles.read(parsed.data.tables);
          for (const i of tables.refIssues) issues.push({ file: yaml.file, path: formatPath(i.path), line: yaml.lineOf(i.path), message: i.message, code: i.code });
          issues.push(...tableFiles.issues.splice(0));
          if (kind) {
            const { result: s } = parseWithEnvValues(kind.settings, parsed.data.settings, ['settings'], envValues);
            if (!s.success) pushZodIssues(issues, yaml, s.error, ['settings'], envValues);
            const sections = parseSections(kind, yaml, parsed.data as Record<string, unknown>, issues);
            if (s.success && sections.ok && envSet && tables.tables) {
              const problems = issues.length;
              const value = kind.create(name, s.data, {
                tables: tables.tables.tables,
                sections: sections.value,
                report: (i) => issues.push({ file: yaml.file, path: formatPath(i.path), line: yaml.lineOf(i.path), message: i.message, code: i.code }),
              });
              if (issues.length === problems) result = { value, version: mappingVersion(text, tables.tables) };
            }
          }
        }
      }
    }
    return result ? { result } : {};
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
    // Counted from here: an unset ${ENV} reference makes the channel unusable too.
    const before = issues.length;
    const envValues: EnvValues = new Map();
    const { result: parsed, value: data } = parseWithEnvValues(ChannelConfig, resolveEnvRefs(yaml, env, issues, envValues), [], envValues);
    if (!parsed.success) pushZodIssues(issues, yaml, parsed.error, [], envValues);
    // The rest is checked even when the channel's own shape is wrong, on the parts that are
    // well-formed, so that every problem of the file shows in one pass.
    const config: ChannelParts = parsed.success ? parsed.data : wellFormedParts(data);
    const stem = basename(path).replace(/\.(ya?ml|json)$/, '');
    if (config.id !== undefined) {
      if (stem !== config.id) {
        issues.push({ file: yaml.file, path: 'id', line: yaml.lineOf(['id']), code: 'id_mismatch', message: `channel id '${config.id}' differs from the file name '${stem}'` });
      }
      const other = ids.get(config.id);
      if (other) issues.push({ file: yaml.file, path: 'id', line: yaml.lineOf(['id']), code: 'duplicate_id', message: `channel id '${config.id}' is also used by ${other}` });
      ids.set(config.id, yaml.file);
    }

    const source = config.source;
    const sourcePlugin = source && Object.hasOwn(sourcePlugins, source.type) ? sourcePlugins[source.type] : undefined;
    let sourceConfig: unknown;
    if (!source) {
      // Its problem is reported above.
    } else if (!sourcePlugin) {
      issues.push({ file: yaml.file, path: 'source.type', line: yaml.lineOf(['source', 'type']), code: 'unknown_source', message: `unknown source type '${source.type}'; expected one of ${Object.keys(sourcePlugins).join(', ')}` });
    } else {
      const { result: s } = parseWithEnvValues(sourcePlugin.config, withoutType(source), ['source'], envValues);
      if (!s.success) pushZodIssues(issues, yaml, s.error, ['source'], envValues);
      else {
        sourceConfig = s.data;
        const tlsProblem = clientCertificateProblem(s.data, settings);
        if (tlsProblem) {
          issues.push({ file: yaml.file, path: 'source.clientCertificate', line: yaml.lineOf(['source', 'clientCertificate']), code: 'tls_required', message: tlsProblem });
        }
        if (config.enabled && config.id !== undefined) {
          for (const ep of sourcePlugin.endpoints(s.data, config.id)) {
            const owner = endpoints.get(ep);
            if (owner) issues.push({ file: yaml.file, path: 'source', line: yaml.lineOf(['source']), code: 'endpoint_conflict', message: `${ep} is already used by channel ${owner}` });
            endpoints.set(ep, config.id);
          }
        }
      }
    }

    const mapping = config.mapping ? loadMapping(config.mapping, inboundMappingKinds, 'inbound', { file: yaml, path: ['mapping'] }) : undefined;
    // A mapping file shared with an earlier channel reports its problems only once; this
    // channel is still unusable without it.
    let mappingsLoaded = config.mapping === undefined || mapping !== undefined;
    const destinations: ResolvedDestination[] = [];
    config.destinations.forEach((d, i) => {
      if (!d) return; // Its problems are reported above.
      const encoder = loadMapping(d.mapping, encoderKinds, 'outbound', { file: yaml, path: ['destinations', i, 'mapping'] });
      if (!encoder) mappingsLoaded = false;
      const plugin = Object.hasOwn(senderPlugins, d.sender.type) ? senderPlugins[d.sender.type] : undefined;
      if (!plugin) {
        issues.push({
          file: yaml.file, path: `destinations[${i}].sender.type`, line: yaml.lineOf(['destinations', i, 'sender', 'type']), code: 'unknown_sender',
          message: `unknown sender type '${d.sender.type}'; expected one of ${Object.keys(senderPlugins).join(', ')}`,
        });
        return;
      }
      const { result: s } = parseWithEnvValues(plugin.config, withoutType(d.sender), ['destinations', i, 'sender'], envValues);
      if (!s.success) {
        pushZodIssues(issues, yaml, s.error, ['destinations', i, 'sender'], envValues);
        return;
      }
      if (encoder) destinations.push({ config: d, encoder: encoder.value, mappingVersion: `${d.mapping}@${encoder.version}`, senderKind: d.sender.type, senderConfig: s.data });
    });
    if (parsed.success && issues.length === before && sourcePlugin && mappingsLoaded) {
      channels.push({
        file: yaml.file,
        config: parsed.data,
        sourceKind: parsed.data.source.type,
        sourceConfig,
        ...(mapping ? { mapping: mapping.value, mappingVersion: `${config.mapping}@${mapping.version}` } : {}),
        destinations,
      });
    }
  }
  return { channels, issues };
}

/** What of a channel is checked beyond its own schema: the parsed channel, or its well-formed parts. */
interface ChannelParts {
  id?: string | undefined;
  enabled: boolean;
  source?: { type: string } | undefined;
  mapping?: string | undefined;
  /** Undefined where a destination is itself malformed. */
  destinations: ReadonlyArray<DestinationConfig | undefined>;
}

function wellFormedParts(data: unknown): ChannelParts {
  const raw = (data !== null && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const part = <T>(schema: z.ZodType<T>, value: unknown): T | undefined => {
    const r = schema.safeParse(value);
    return r.success ? r.data : undefined;
  };
  return {
    id: part(ChannelConfig.shape.id, raw.id),
    enabled: part(ChannelConfig.shape.enabled, raw.enabled) ?? true,
    source: part(ChannelConfig.shape.source, raw.source),
    mapping: part(ChannelConfig.shape.mapping, raw.mapping),
    destinations: Array.isArray(raw.destinations) ? raw.destinations.map((d) => part(DestinationConfig, d)) : [],
  };
}
