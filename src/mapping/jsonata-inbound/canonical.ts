import { z } from 'zod';
import type { InputIssue } from '../../errors.ts';

/**
 * The canonical report's schema read as a tree, for what JSONata output needs before zod sees
 * it: where a field is a list, which keys exist, and how to say what a value is.
 */

export type Step = string | number;

/** The schema without its optional / default wrappers. */
export function bare(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}

/** True where the report may leave the field out (optional, or a default fills it). */
export function isOptional(schema: z.ZodType): boolean {
  return schema instanceof z.ZodOptional || schema instanceof z.ZodDefault;
}

/** The fields of an object schema, or undefined for any other schema. */
export function fieldsOf(schema: z.ZodType): Readonly<Record<string, z.ZodType>> | undefined {
  const s = bare(schema);
  return s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : undefined;
}

/** The element schema of a list, or undefined for any other schema. */
export function elementOf(schema: z.ZodType): z.ZodType | undefined {
  const s = bare(schema);
  return s instanceof z.ZodArray ? (s.element as z.ZodType) : undefined;
}

/** `a string`, `a number`, `a list`, `an object`, `true/false`, `null`, `nothing`, `an empty string`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return v === '' ? 'an empty string' : 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/**
 * Lists JSONata gave as one value become lists of one (a path that matches once yields the
 * item, not a list of it: `result.observations.{…}` over one observation gives an object).
 * Keys the canonical report does not have are reported, not silently dropped as zod would.
 * Values are never converted.
 */
export function normalize(value: unknown, schema: z.ZodType, path: Step[], unknownKeys: Step[][]): unknown {
  if (value === undefined || value === null) return value;
  const element = elementOf(schema);
  if (element) {
    const list = Array.isArray(value) ? value : [value];
    return list.map((v, i) => normalize(v, element, [...path, i], unknownKeys));
  }
  const fields = fieldsOf(schema);
  if (fields && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const field = Object.hasOwn(fields, k) ? fields[k] : undefined;
      if (field === undefined) unknownKeys.push([...path, k]);
      else out[k] = normalize(v, field, [...path, k], unknownKeys);
    }
    return out;
  }
  return value;
}

/** The value at `path` inside `root`, or undefined. */
export function valueAt(root: unknown, path: readonly Step[]): unknown {
  let v = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (Array.isArray(v) !== (typeof p === 'number')) return undefined;
    v = (v as Record<Step, unknown>)[p];
  }
  return v;
}

/** Where a value came from, as the issue's message names it: ` from result.value`, or nothing. */
export interface Origin {
  /** The input path the value was read from, when known. */
  readonly input?: string;
  /** True when the mapping has nothing for the field at all. */
  readonly unmapped?: boolean;
}

/**
 * One zod issue of a mapped report as the sender and the integrator read it: the canonical
 * path, what was expected, what the mapping gave, and from which input field.
 * Values are not quoted: issues travel in responses and logs, values may be health data.
 */
export function reportIssue(issue: z.core.$ZodIssue, path: string, given: unknown, origin: Origin): InputIssue {
  const from = origin.input === undefined ? '' : ` from ${origin.input}`;
  if (given === undefined) {
    if (origin.unmapped) return { path, code: 'required', message: 'required, and the mapping does not set it' };
    const why = origin.input === undefined ? '' : `: ${origin.input} is not in the input`;
    return { path, code: 'required', message: `required, but the mapping gave nothing${why}` };
  }
  const gave = `the mapping gave ${describeValue(given)}${from}`;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      // A number for a text field: JSON numbers have already lost their text ("5.40" → 5.4),
      // so converting would change the value. The integrator converts knowingly or not at all.
      const hint = typeof given === 'number' && issue.expected === 'string' ? '; a number is not turned into text (write $string(…) in the mapping to convert it knowingly)' : '';
      return { path, code: 'invalid_type', message: `expected ${expected}; ${gave}${hint}` };
    }
    case 'invalid_value':
      return {
        path,
        code: 'invalid_value',
        message: `expected one of ${issue.values.map(String).join(', ')}; the mapping gave ${typeof given === 'string' ? 'another string' : describeValue(given)}${from}`,
      };
    case 'too_small':
      if (issue.origin === 'string') return { path, code: 'too_small', message: `must not be empty; ${gave}` };
      return { path, code: 'too_small', message: `${issue.message.replace(/^Too small: /, '')}; ${gave}` };
    case 'invalid_format':
      // The canonical schema's own message says what is expected ("expected an ISO 8601 date-time such as …").
      return { path, code: 'invalid_format', message: `${issue.message}; the mapping gave another string${from}` };
    default:
      return { path, code: issue.code, message: `${issue.message}; ${gave}` };
  }
}
