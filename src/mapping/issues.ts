import type { z } from 'zod';
import type { InputIssue } from '../errors.ts';

/** `['result', 'observations', 1, 'value']` → `result.observations[1].value`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Turns zod issues into input issues that name the field and what was expected. */
export function zodIssues(error: z.ZodError, prefix = ''): InputIssue[] {
  return error.issues.map((i) => ({
    path: formatPath(i.path, prefix),
    message: i.message,
    code: i.code,
  }));
}
