import jsonata from 'jsonata';
import { toFhirDateTime } from '../../canonical/datetime.ts';
import { isoToDtm } from '../../protocols/hl7v2/index.ts';

/**
 * JSONata expressions for mapping files. Each expression is compiled once (compiling costs far
 * more than evaluating) and evaluated with Conduit's functions bound:
 *
 * - `$lookup(table, key)` → the row of a code table whose key column equals `key` (or
 *   undefined); `$lookup(table, key, column)` → one column of it;
 * - `$hl7dtm(iso)` → HL7 v2 DTM keeping the sender's offset (`+01:00` → `+0100`);
 * - `$fhirDateTime(iso, offset?)` → FHIR dateTime keeping the offset; a local time gets `offset`;
 * - `$identifier(system, value)` → `{ "system": …, "value": … }`, or undefined without a value.
 *
 * Escaping is the encoders' job: expressions produce plain text.
 */

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  /** Character offset in the expression where the problem was found. */
  readonly position: number | undefined;
  readonly expression: string;
  constructor(message: string, expression: string, position?: number) {
    super(message);
    this.expression = expression;
    this.position = position;
  }
}

/** Code tables by name; each row is keyed on its first column. */
export type CodeTables = ReadonlyMap<string, ReadonlyMap<string, Readonly<Record<string, string>>>>;

export interface CompiledExpression {
  readonly source: string;
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
}

export function fhirDateTime(iso: string, offset?: string): string {
  const dt = toFhirDateTime(iso, offset);
  if (dt === undefined) throw new Error(`'${iso}' is not an ISO 8601 date-time`);
  return dt;
}

function errorOf(e: unknown, source: string): ExpressionError {
  const j = e as { message?: string; position?: number; token?: string; code?: string };
  const where = j.position !== undefined ? ` at character ${j.position}${j.token ? ` ('${j.token}')` : ''}` : '';
  return new ExpressionError(`${j.message ?? String(e)}${where}`, source, j.position);
}

/**
 * Compiles an expression with the code tables it may look up. Throws `ExpressionError` with
 * the position of a syntax error, or for a `$lookup` of a table that does not exist.
 */
export function compileExpression(source: string, tables: CodeTables = new Map()): CompiledExpression {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source);
  } catch (e) {
    throw errorOf(e, source);
  }
  for (const m of source.matchAll(/\$lookup\(\s*['"]([^'"]+)['"]/g)) {
    if (!tables.has(m[1]!)) {
      throw new ExpressionError(`$lookup of unknown table '${m[1]}'; tables: ${[...tables.keys()].join(', ') || '(none)'}`, source, m.index);
    }
  }
  expr.registerFunction(
    'lookup',
    (table: string, key: unknown, column?: string) => {
      if (key === undefined || key === null) return undefined;
      const row = tables.get(table)?.get(String(key));
      return row === undefined ? undefined : column === undefined ? row : row[column];
    },
    '<sx?s?:x>',
  );
  expr.registerFunction('hl7dtm', (iso?: string) => (iso === undefined ? undefined : isoToDtm(iso)), '<s?:s>');
  expr.registerFunction('fhirDateTime', (iso?: string, offset?: string) => (iso === undefined ? undefined : fhirDateTime(iso, offset)), '<s?s?:s>');
  expr.registerFunction(
    'identifier',
    (system?: string, value?: string) => (value === undefined || value === '' ? undefined : { ...(system ? { system } : {}), value }),
    '<s?s?:o>',
  );
  return {
    source,
    async evaluate(input, bindings) {
      try {
        return await expr.evaluate(input, bindings);
      } catch (e) {
        throw errorOf(e, source);
      }
    },
  };
}
