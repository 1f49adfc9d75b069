import { z } from 'zod';
import type { CodeTables } from '../expressions/index.ts';

/**
 * Settings of a `jsonata` inbound mapping file (see mappings/platform-result-jsonata.yaml):
 *
 * - `report`: the canonical report as a tree whose string leaves starting with `=` are JSONata
 *   expressions and whose other leaves are literals; or one `=` expression for all of it;
 * - `sourceId`, `sourceVersion`: the idempotency key (default: the report's id and version);
 * - `reports`: an expression giving the items of an input that holds several reports; each
 *   item is then the context of `report`, `sourceId` and `sourceVersion`;
 * - `tables`: code tables for `$lookup(table, key, column)`, as `table → key → column → text`,
 *   beside the ones the file names under its own `tables:` (CSV or YAML files).
 *
 * The schema checks the shape only. The expressions and the report tree are checked when the
 * kind is created, with the file's tables at hand, so that every problem of the file shows in
 * one pass (see `compileJsonataMapping`).
 */

const expressionOrText = z.string({ error: "expected a JSONata expression starting with '=', or a literal text" });

const Table = z.record(z.string(), z.record(z.string(), z.string({ error: 'expected text (quote numbers in YAML)' }), { error: 'expected a row: column → text' }), {
  error: 'expected a table: key → row',
});

export const JsonataInboundSettings = z
  .object({
    /** The input format; only JSON is mapped by this kind. */
    format: z.literal('json', { error: "expected 'json'" }).default('json'),
    sourceId: expressionOrText.optional(),
    sourceVersion: expressionOrText.optional(),
    reports: z.string().startsWith('=', "expected a JSONata expression starting with '='").optional(),
    report: z.union([z.string(), z.record(z.string(), z.unknown())], { error: "expected the report: a tree of fields, or one '=' expression" }),
    tables: z.record(z.string(), Table).default({}),
  })
  .strict();
export type JsonataInboundSettings = z.output<typeof JsonataInboundSettings>;

/** Code tables of the settings, in the form `$lookup` reads. */
export function inlineTables(tables: JsonataInboundSettings['tables']): CodeTables {
  return new Map(Object.entries(tables).map(([name, rows]) => [name, new Map(Object.entries(rows))]));
}
