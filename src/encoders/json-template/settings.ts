import { z } from 'zod';
import { HTTP_METHODS, placeholdersIn, SAVED_NAME } from '../../protocols/http/request-plan.ts';
import { isExpression, leaves, type Step, syntaxProblem } from './template.ts';

/**
 * Settings of a `json-template` mapping: the requests one report becomes for an `http`
 * destination. Either one request (`method`, `path`, `headers`, `body` or `form` at the top)
 * or `steps`, sent in order. See src/encoders/json-template/README.md.
 */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the destination sets: the mapping cannot. */
const RESERVED = new Set(['authorization', 'content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

const savedName = z.string().regex(SAVED_NAME, 'expected a name of letters, digits and _, e.g. patientId');
const text = z.string({ error: "expected a JSONata expression starting with '=', or a literal text" });
/** A condition or a saveAs expression: always JSONata, with or without a leading '='. */
const expression = z.string({ error: 'expected a JSONata expression' }).min(1, 'expected a JSONata expression');

const FileTemplate = z
  .object({
    /** The file's content in base64, normally an expression such as `=report.attachments[0].dataBase64`. */
    base64: text,
    filename: text,
    contentType: text,
  })
  .strict();

const Table = z.record(z.string(), z.record(z.string(), z.string({ error: 'expected text (quote numbers in YAML)' }), { error: 'expected a row: column → text' }), {
  error: 'expected a table: key → row',
});

const requestFields = {
  /** Only when this holds (JSONata over `{ report, observation? }`); default always. */
  when: expression.optional(),
  /** One request per observation of the report (`observation` bound), instead of one. */
  perObservation: z.boolean().default(false),
  method: z.enum(HTTP_METHODS, { error: `expected one of ${HTTP_METHODS.join(', ')}` }).default('POST'),
  /** Appended to the destination's baseUrl: a literal starting with '/', or an expression giving one. */
  path: text,
  headers: z.record(z.string().regex(HEADER_NAME, 'expected an HTTP header name'), text).optional(),
  /** The JSON body: a template tree. */
  body: z.unknown().optional(),
  /** A multipart/form-data body instead: field → text, or a file. */
  form: z.record(z.string().min(1), z.union([text, FileTemplate])).optional(),
};

const StepSettings = z
  .object({
    /** For messages and the admin API; default `step-<n>`. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'expected letters, digits, - and _').optional(),
    ...requestFields,
    /** Values to keep from the answer for later steps' `{{name}}` placeholders: name → JSONata over the answer's JSON body. */
    saveAs: z.record(savedName, expression).optional(),
    /** Skip this step when a value is already saved (e.g. a search found the patient). */
    skipIfSaved: z.union([savedName, z.array(savedName)]).optional(),
  })
  .strict();
export type StepSettings = z.output<typeof StepSettings>;

const SINGLE_KEYS = ['when', 'perObservation', 'method', 'path', 'headers', 'body', 'form'] as const;

export const JsonTemplateSettings = z
  .object({
    ...requestFields,
    path: text.optional(),
    steps: z.array(StepSettings).min(1, 'expected at least one step').optional(),
    /** Code tables for `$lookup(table, key, column)`, as `table → key → column → text`. */
    tables: z.record(z.string(), Table).default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.steps === undefined) {
      if (s.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'expected the request path (or a list of steps)' });
    } else {
      for (const k of SINGLE_KEYS) {
        // perObservation and method are defaulted: only an explicit value conflicts.
        const set = k === 'perObservation' ? s.perObservation : k === 'method' ? false : s[k] !== undefined;
        if (set) ctx.addIssue({ code: 'custom', path: [k], message: `'${k}' belongs inside a step when the mapping has steps` });
      }
    }
    for (const i of checkSteps(stepsOf(s))) ctx.addIssue({ code: 'custom', path: [...i.path], message: i.message });
  });
export type JsonTemplateSettings = z.output<typeof JsonTemplateSettings>;

/** The steps of the settings, a single request being one step; with the path of each in the file. */
export function stepsOf(s: JsonTemplateSettings): Array<{ step: StepSettings & { name: string }; at: readonly Step[] }> {
  if (s.steps) return s.steps.map((step, i) => ({ step: { ...step, name: step.name ?? `step-${i + 1}` }, at: ['steps', i] }));
  const { steps: _s, tables: _t, ...single } = s;
  return [{ step: { ...single, path: s.path ?? '/', name: 'request' }, at: [] }];
}

/** Strips the optional '=' of a condition or saveAs expression. */
export function bareExpression(source: string): string {
  return source.startsWith('=') ? source.slice(1) : source;
}

/**
 * What a schema cannot see: expression syntax, literal paths, bodies on GET, reserved
 * headers, and `{{name}}` placeholders that no earlier step saves.
 */
function checkSteps(steps: ReturnType<typeof stepsOf>): Array<{ path: readonly Step[]; message: string }> {
  const issues: Array<{ path: readonly Step[]; message: string }> = [];
  const names = new Set<string>();
  const saved = new Set<string>();
  for (const { step, at } of steps) {
    if (names.has(step.name)) issues.push({ path: [...at, 'name'], message: `duplicate step name '${step.name}'` });
    names.add(step.name);
    const templates: Array<{ at: readonly Step[]; value: unknown }> = [
      { at: [...at, 'path'], value: step.path },
      ...leaves(step.headers ?? {}, [...at, 'headers']),
      ...(step.body === undefined ? [] : leaves(step.body, [...at, 'body'])),
      ...leaves(step.form ?? {}, [...at, 'form']),
    ];
    for (const leaf of templates) {
      if (!isExpression(leaf.value)) continue;
      const problem = syntaxProblem(leaf.value.slice(1));
      if (problem) issues.push({ path: leaf.at, message: problem });
    }
    for (const [key, source] of [['when', step.when], ...Object.entries(step.saveAs ?? {}).map(([k, v]) => [`saveAs.${k}`, v])] as const) {
      if (source === undefined) continue;
      const problem = syntaxProblem(bareExpression(source));
      if (problem) issues.push({ path: [...at, ...key.split('.')], message: problem });
    }
    if (!step.path.startsWith('=') && !step.path.startsWith('/')) {
      issues.push({ path: [...at, 'path'], message: "expected a path starting with '/' (it is appended to the destination's baseUrl), or an '=' expression" });
    }
    if (step.body !== undefined && step.form !== undefined) issues.push({ path: [...at, 'form'], message: 'a request has a JSON body or a form, not both' });
    if ((step.method === 'GET' || step.method === 'DELETE') && (step.body !== undefined || step.form !== undefined)) {
      issues.push({ path: [...at, step.body !== undefined ? 'body' : 'form'], message: `a ${step.method} request has no body` });
    }
    for (const name of Object.keys(step.headers ?? {})) {
      if (RESERVED.has(name.toLowerCase())) issues.push({ path: [...at, 'headers', name], message: `header '${name}' is set by the destination (auth, body type); it cannot be set here` });
    }
    for (const leaf of templates) {
      if (typeof leaf.value !== 'string') continue;
      for (const name of placeholdersIn(leaf.value)) {
        if (!saved.has(name)) issues.push({ path: leaf.at, message: `{{${name}}} is not saved by an earlier step (saveAs: { ${name}: … })` });
      }
    }
    const skip = step.skipIfSaved === undefined ? [] : typeof step.skipIfSaved === 'string' ? [step.skipIfSaved] : step.skipIfSaved;
    for (const name of skip) {
      if (!saved.has(name)) issues.push({ path: [...at, 'skipIfSaved'], message: `'${name}' is not saved by an earlier step` });
    }
    for (const name of Object.keys(step.saveAs ?? {})) saved.add(name);
  }
  return issues;
}
