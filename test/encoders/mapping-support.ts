/**
 * Encoders built the way a mapping file builds them (kind.create with sections and the
 * repository's code tables), for tests of `fields:`, `segments:` and table codes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { fhirBundleKind } from '../../src/encoders/fhir-bundle/kind.ts';
import { FhirBundleSettings } from '../../src/encoders/fhir-bundle/settings.ts';
import { OruR01Sections } from '../../src/encoders/oru-r01/edits.ts';
import { oruR01Kind } from '../../src/encoders/oru-r01/kind.ts';
import { OruR01Settings } from '../../src/encoders/oru-r01/settings.ts';
import type { EncodeContext, Encoder } from '../../src/encoders/types.ts';
import type { MappingIssue } from '../../src/mapping/kinds.ts';
import { type CodeTable, parseCodeTable } from '../../src/mapping/tables/index.ts';
import { CTX } from './support.ts';

export const TABLES_DIR = join(import.meta.dirname, '..', '..', 'mappings', 'tables');

/** A table as a mapping names it: parsed from text, with `file` as written under `tables:`. */
export function table(file: string, text: string): CodeTable {
  const r = parseCodeTable(file, text);
  if (!r.table) throw new Error(JSON.stringify(r.issues));
  return r.table;
}

/** The repository's starter tables, named as the repository's mappings name them. */
export function repoTables(): Map<string, CodeTable> {
  const t = new Map<string, CodeTable>();
  for (const name of ['analytes', 'units', 'flags']) t.set(name, table(`tables/${name}.csv`, readFileSync(join(TABLES_DIR, `${name}.csv`), 'utf8')));
  return t;
}

export interface Built {
  encoder: Encoder;
  issues: MappingIssue[];
}

/** An oru-r01 encoder from YAML sections (`fields:`, `segments:`) and settings, as the loader builds it. */
export function oruFromYaml(yaml: string, opts: { settings?: Record<string, unknown>; tables?: Map<string, CodeTable> } = {}): Built {
  const sections = OruR01Sections.parse(parse(yaml) ?? {});
  const issues: MappingIssue[] = [];
  const encoder = oruR01Kind.create('test', OruR01Settings.parse(opts.settings ?? {}), {
    tables: opts.tables ?? repoTables(),
    sections,
    report: (i) => issues.push(i),
  });
  return { encoder, issues };
}

/** Encodes with the oru-r01 sections in `yaml`, failing on any mapping problem; the ER7 text and warnings. */
export async function encodeWith(yaml: string, report: Parameters<Encoder['encode']>[0], opts: Parameters<typeof oruFromYaml>[1] = {}, ctx: EncodeContext = CTX) {
  const { encoder, issues } = oruFromYaml(yaml, opts);
  if (issues.length > 0) throw new Error(`mapping problems: ${JSON.stringify(issues)}`);
  return encoder.encode(report, ctx);
}

export function fhirEncoder(settings: Record<string, unknown> = {}, tables: Map<string, CodeTable> = repoTables()): Built {
  const issues: MappingIssue[] = [];
  const encoder = fhirBundleKind.create('test', FhirBundleSettings.parse(settings), { tables, sections: {}, report: (i) => issues.push(i) });
  return { encoder, issues };
}
