import type { ConfigIssue, YamlFile } from './yaml-file.ts';
import { formatPath } from '../mapping/issues.ts';

const REF = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

/**
 * Replaces `${ENV_NAME}` references in every string of a configuration tree, so secrets stay
 * in the environment and out of the files. A reference to an unset variable is an issue.
 */
export function resolveEnvRefs(file: YamlFile, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      return v.replace(REF, (whole, name: string) => {
        const value = env[name];
        if (value === undefined) {
          issues.push({ file: file.file, path: formatPath(path), line: file.lineOf(path), message: `environment variable ${name} is not set`, code: 'env_missing' });
          return whole;
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
