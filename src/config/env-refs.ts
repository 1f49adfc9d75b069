import type { z } from 'zod';
import { formatPath } from '../mapping/issues.ts';
import type { ConfigIssue, YamlFile } from './yaml-file.ts';

/** `${NAME}`, or `${NAME:-default}`: the default when NAME is not set. */
const REF = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REF = /^\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}$/;

/** The values that were one whole `${NAME}` reference (`port: ${LIS_PORT}`): formatted path → NAME. */
export type EnvValues = Map<string, string>;

/**
 * Replaces `${ENV_NAME}` references in every string of a configuration tree, so secrets stay
 * in the environment and out of the files. A reference to an unset variable is an issue, unless
 * it gives a default (`${LIS_SANDBOX_PORT:-2575}`, as in a shell). Values that were one whole
 * reference are recorded in `whole`: see parseWithEnvValues.
 */
export function resolveEnvRefs(file: YamlFile, env: NodeJS.ProcessEnv, issues: ConfigIssue[], whole: EnvValues = new Map()): unknown {
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      const ref = WHOLE_REF.exec(v);
      if (ref && (env[ref[1]!] !== undefined || ref[2] !== undefined)) whole.set(formatPath(path), ref[1]!);
      return v.replace(REF, (ref, name: string, fallback: string | undefined) => {
        const value = env[name] ?? fallback;
        if (value === undefined) {
          issues.push({ file: file.file, path: formatPath(path), line: file.lineOf(path), message: `environment variable ${name} is not set`, code: 'env_missing' });
          return ref;
        }
        return value;
      });
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    }
    return v;
  };
  return walk(file.data, []);
}

/** Strict, unlike Number(): '' and ' ' are not 0, '1e3' and '0x10' are not numbers. */
const NUMBER = /^-?\d+(\.\d+)?$/;

function converted(text: string, expected: 'number' | 'boolean'): number | boolean | undefined {
  if (expected === 'number') return NUMBER.test(text) ? Number(text) : undefined;
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

function wantsScalar(issue: z.core.$ZodIssue): issue is z.core.$ZodIssueInvalidType & { expected: 'number' | 'boolean' } {
  return issue.code === 'invalid_type' && (issue.expected === 'number' || issue.expected === 'boolean');
}

/**
 * Parses `value`, the part of a file at `at`, with `schema`. Substitution makes text, so a
 * whole `${NAME}` reference where the schema wants a number or a boolean (`port: ${LIS_PORT}`,
 * `enabled: ${FEED_ON}`) is converted ('2575' → 2575, 'true' → true) and the part parsed again:
 * ranges and the rest are validated on the converted value. Text that is not a number or a
 * boolean stays text, and the schema's issue at its path stays: describeEnvIssue names the
 * variable. Returns the result and the value as converted.
 */
export function parseWithEnvValues<T>(schema: z.ZodType<T>, value: unknown, at: readonly PropertyKey[], whole: EnvValues): { result: z.ZodSafeParseResult<T>; value: unknown } {
  let current = value;
  for (;;) {
    const result = schema.safeParse(current);
    if (result.success || whole.size === 0) return { result, value: current };
    const copy = structuredClone(current);
    let changed = false;
    for (const issue of result.error.issues) {
      if (!wantsScalar(issue) || !whole.has(formatPath([...at, ...issue.path]))) continue;
      const parent = issue.path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k], copy) as Record<PropertyKey, unknown> | undefined;
      const key = issue.path[issue.path.length - 1]!;
      const text = parent?.[key];
      const v = typeof text === 'string' ? converted(text, issue.expected) : undefined;
      if (v === undefined || !parent) continue;
      parent[key] = v;
      changed = true;
    }
    if (!changed) return { result, value: current };
    current = copy;
  }
}

/**
 * The message of a schema issue at `path`, naming the variable when the value there came from
 * one. The variable's value is never quoted: it may be a secret put in the wrong place.
 */
export function describeEnvIssue(issue: z.core.$ZodIssue, path: string, whole: EnvValues): string {
  const name = whole.get(path);
  if (name === undefined) return issue.message;
  if (wantsScalar(issue)) {
    return issue.expected === 'number'
      ? `expected a number: environment variable ${name} must hold one (digits, with an optional '-' and decimal point)`
      : `expected true or false: environment variable ${name} must hold 'true' or 'false'`;
  }
  return `${issue.message} (the value of environment variable ${name})`;
}
