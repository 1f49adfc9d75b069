import type { Coding, LabReport, Observation } from '../canonical/report.ts';
import type { CodeTable } from '../mapping/tables/table.ts';
import type { MappingIssue } from '../mapping/kinds.ts';

/**
 * Standard codes for observations from the code tables a mapping names: LOINC from the
 * `analytes` table (key: the local analyte code; columns loinc, loinc_display, and unit + ucum
 * for the unit it is usually sent in), UCUM from the `units` table (key: the unit as sent;
 * column ucum). Codes the report already carries win; nothing else is changed.
 */

/** The table names encoders read, and the columns each must have. */
export const STANDARD_TABLES = {
  analytes: ['loinc'],
  units: ['ucum'],
} as const;

export interface CodeSources {
  readonly analytes?: CodeTable | undefined;
  readonly units?: CodeTable | undefined;
  /** LOINC by local analyte code, before the table (the FHIR mapping's `settings.loinc`). */
  readonly loinc?: Readonly<Record<string, { code: string; display?: string | undefined }>> | undefined;
  /** UCUM by unit as sent, before the table (the FHIR mapping's `settings.ucumUnits`). */
  readonly ucumUnits?: Readonly<Record<string, string>> | undefined;
}

export interface StandardCodes {
  /** The report with `loinc` and `ucum` filled in where a source knows them. */
  readonly report: LabReport;
  /** Local analyte codes that still have no LOINC, each once, in order. */
  readonly withoutLoinc: readonly string[];
  /** Units (as sent) that still have no UCUM code, each once, in order. */
  readonly withoutUcum: readonly string[];
}

const own = <T>(o: Readonly<Record<string, T>> | undefined, k: string): T | undefined => (o && Object.hasOwn(o, k) ? o[k] : undefined);

function loincFor(o: Observation, s: CodeSources): Coding | undefined {
  if (o.loinc) return o.loinc;
  const set = own(s.loinc, o.code.code);
  if (set) return { code: set.code, ...(set.display ? { display: set.display } : {}), system: 'LN' };
  const row = s.analytes?.rows.get(o.code.code);
  if (!row?.loinc) return undefined;
  return { code: row.loinc, ...(row.loinc_display ? { display: row.loinc_display } : {}), system: 'LN' };
}

function ucumFor(o: Observation, s: CodeSources): string | undefined {
  if (o.ucum || o.unit === undefined || o.unit === '') return o.ucum;
  const known = own(s.ucumUnits, o.unit) || s.units?.rows.get(o.unit)?.ucum;
  if (known) return known;
  // The analyte's own row knows the UCUM code of the unit it is usually sent in.
  const row = s.analytes?.rows.get(o.code.code);
  return row?.ucum && row.unit === o.unit ? row.ucum : undefined;
}

export function withStandardCodes(report: LabReport, s: CodeSources): StandardCodes {
  const withoutLoinc = new Set<string>();
  const withoutUcum = new Set<string>();
  const observations = report.observations.map((o) => {
    const loinc = loincFor(o, s);
    const ucum = ucumFor(o, s);
    if (!loinc) withoutLoinc.add(o.code.code);
    if (!ucum && o.unit) withoutUcum.add(o.unit);
    return loinc === o.loinc && ucum === o.ucum ? o : { ...o, ...(loinc ? { loinc } : {}), ...(ucum ? { ucum } : {}) };
  });
  return { report: { ...report, observations }, withoutLoinc: [...withoutLoinc], withoutUcum: [...withoutUcum] };
}

/** Where LOINC codes come from, for warnings: `tables/analytes.csv`, `settings.loinc`, or undefined when nowhere. */
export function sourceName(table: CodeTable | undefined, setting: { name: string; value: Readonly<Record<string, unknown>> | undefined }): string | undefined {
  const names = [...(setting.value && Object.keys(setting.value).length > 0 ? [setting.name] : []), ...(table ? [table.file] : [])];
  return names.length > 0 ? names.join(' or ') : undefined;
}

/**
 * The warnings of an encoding: one per analyte without LOINC when the mapping has a LOINC source
 * (a mapping without one sends local codes by design). Codes only, never patient data.
 */
export function loincWarnings(codes: StandardCodes, source: string | undefined): string[] {
  if (!source) return [];
  return codes.withoutLoinc.map((c) => `analyte '${c}' has no LOINC code in ${source}; sent with its local code only`);
}

/** Problems with the standard tables a mapping names: a table the encoder reads must have its columns. */
export function checkTableColumns(tables: ReadonlyMap<string, CodeTable>, required: Readonly<Record<string, readonly string[]>>, kind: string): MappingIssue[] {
  const issues: MappingIssue[] = [];
  for (const [name, columns] of Object.entries(required)) {
    const t = tables.get(name);
    if (!t) continue;
    const missing = columns.filter((c) => !t.columns.slice(1).includes(c));
    if (missing.length > 0) {
      issues.push({
        path: ['tables', name], code: 'table_columns',
        message: `table '${name}' (${t.file}) has no column ${missing.map((c) => `'${c}'`).join(', ')}; the ${kind} encoder reads ${columns.join(', ')} from it`,
      });
    }
  }
  return issues;
}
