import type { LabReport } from '../../canonical/report.ts';
import { ConduitError } from '../../errors.ts';
import { type CodeTables, type CompiledExpression, compileExpression } from '../../mapping/expressions/index.ts';
import { formatPath } from '../../mapping/issues.ts';
import { type PlannedFile, type PlannedRequest, REQUEST_PLAN_CONTENT_TYPE } from '../../protocols/http/request-plan.ts';
import type { EncodeContext, Encoded, Encoder } from '../types.ts';
import { bareExpression, type JsonTemplateSettings, type StepSettings, stepsOf } from './settings.ts';
import { compileTemplate, evaluateTemplate, type Step, type Template, type TemplateIssue } from './template.ts';

/** Code tables as a mapping context hands them over (file tables of the mapping). */
export interface JsonTemplateContext {
  readonly tables?: ReadonlyMap<string, { readonly rows: ReadonlyMap<string, Readonly<Record<string, string>>> }>;
  report?(issue: { readonly path: readonly PropertyKey[]; readonly message: string; readonly code: string }): void;
}

interface CompiledFile {
  readonly base64: Template;
  readonly filename: Template;
  readonly contentType: Template;
}

interface CompiledStep {
  readonly name: string;
  readonly at: readonly Step[];
  readonly when?: CompiledExpression;
  readonly perObservation: boolean;
  readonly method: PlannedRequest['method'];
  readonly path: Template;
  readonly headers: ReadonlyArray<readonly [string, Template]>;
  readonly body?: Template;
  readonly form?: ReadonlyArray<readonly [string, Template | CompiledFile]>;
  readonly saveAs?: Readonly<Record<string, string>>;
  readonly skipIfSaved?: readonly string[];
}

function compileStep(step: StepSettings & { name: string }, at: readonly Step[], tables: CodeTables, issues: TemplateIssue[]): CompiledStep {
  const t = (value: unknown, key: readonly Step[]) => compileTemplate(value, tables, [...at, ...key], issues);
  let when: CompiledExpression | undefined;
  if (step.when !== undefined) {
    try {
      when = compileExpression(bareExpression(step.when), tables);
    } catch (e) {
      issues.push({ path: [...at, 'when'], message: (e as Error).message });
    }
  }
  const skip = step.skipIfSaved === undefined ? undefined : typeof step.skipIfSaved === 'string' ? [step.skipIfSaved] : step.skipIfSaved;
  return {
    name: step.name,
    at,
    ...(when ? { when } : {}),
    perObservation: step.perObservation,
    method: step.method,
    path: t(step.path, ['path']),
    headers: Object.entries(step.headers ?? {}).map(([k, v]) => [k, t(v, ['headers', k])] as const),
    ...(step.body === undefined ? {} : { body: t(step.body, ['body']) }),
    ...(step.form === undefined
      ? {}
      : {
          form: Object.entries(step.form).map(([k, v]) => [
            k,
            typeof v === 'string'
              ? t(v, ['form', k])
              : { base64: t(v.base64, ['form', k, 'base64']), filename: t(v.filename, ['form', k, 'filename']), contentType: t(v.contentType, ['form', k, 'contentType']) },
          ] as const),
        }),
    ...(step.saveAs ? { saveAs: Object.fromEntries(Object.entries(step.saveAs).map(([k, v]) => [k, bareExpression(v)])) } : {}),
    ...(skip ? { skipIfSaved: skip } : {}),
  };
}

function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

function where(step: CompiledStep, key: string): string {
  return formatPath([...step.at, key], 'settings');
}

async function textOf(t: Template, input: unknown, bindings: Record<string, unknown>, what: string): Promise<string | undefined> {
  const v = await evaluateTemplate(t, input, bindings);
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${what}: expected text, the mapping gave ${Array.isArray(v) ? 'a list' : 'an object'}`);
}

async function request(step: CompiledStep, input: unknown, bindings: Record<string, unknown>): Promise<PlannedRequest> {
  const path = await textOf(step.path, input, bindings, where(step, 'path'));
  if (path === undefined || !path.startsWith('/')) {
    throw new Error(`${where(step, 'path')}: expected a path starting with '/', the mapping gave ${path === undefined ? 'nothing' : `'${path.slice(0, 40)}'`}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, t] of step.headers) {
    const v = await textOf(t, input, bindings, where(step, `headers.${name}`));
    if (v !== undefined) headers[name] = v;
  }
  const out: PlannedRequest = { step: step.name, method: step.method, path, ...(Object.keys(headers).length > 0 ? { headers } : {}) };
  if (step.body) {
    const body = await evaluateTemplate(step.body, input, bindings);
    if (body !== undefined) out.body = body;
  }
  if (step.form) {
    const form: Record<string, string | PlannedFile> = {};
    for (const [name, part] of step.form) {
      const at = where(step, `form.${name}`);
      if ('t' in part) {
        const v = await textOf(part, input, bindings, at);
        if (v !== undefined) form[name] = v;
        continue;
      }
      const base64 = await textOf(part.base64, input, bindings, `${at}.base64`);
      // A file the report does not have is left out, like any field that gives nothing.
      if (base64 === undefined) continue;
      const filename = (await textOf(part.filename, input, bindings, `${at}.filename`)) ?? name;
      const contentType = (await textOf(part.contentType, input, bindings, `${at}.contentType`)) ?? 'application/octet-stream';
      form[name] = { filename, contentType, base64 };
    }
    out.form = form;
  }
  if (step.saveAs) out.saveAs = step.saveAs;
  if (step.skipIfSaved) out.skipIfSaved = [...step.skipIfSaved];
  return out;
}

/**
 * Canonical report → request plan for the `http` destination: each step in order, skipped when
 * its `when` does not hold, repeated per observation with `perObservation`. Expressions see
 * `{ report, observation? }`, with `$controlId`, `$createdAt` and `$index` (the observation's
 * position) bound. An expression that fails refuses the report at intake (ENCODING_FAILED),
 * naming the field of the mapping.
 */
export function createJsonTemplateEncoder(id: string, settings: JsonTemplateSettings, context?: JsonTemplateContext): Encoder {
  const tables: Map<string, ReadonlyMap<string, Readonly<Record<string, string>>>> = new Map(
    Object.entries(settings.tables).map(([name, rows]) => [name, new Map(Object.entries(rows))]),
  );
  for (const [name, table] of context?.tables ?? []) {
    if (tables.has(name)) context?.report?.({ path: ['tables', name], code: 'table_name', message: `table '${name}' is also defined in settings.tables` });
    tables.set(name, table.rows);
  }
  const issues: TemplateIssue[] = [];
  const steps = stepsOf(settings).map(({ step, at }) => compileStep(step, at, tables, issues));
  if (issues.length > 0) {
    if (!context?.report) {
      throw new ConduitError('CONFIG_INVALID', `mapping ${id}: ${issues.map((i) => `${formatPath(i.path, 'settings')}: ${i.message}`).join('; ')}`);
    }
    for (const i of issues) context.report({ path: ['settings', ...i.path], code: 'expression', message: i.message });
  }
  return {
    kind: 'json-template',
    format: 'json',
    async encode(report: LabReport, ctx: EncodeContext): Promise<Encoded> {
      const requests: PlannedRequest[] = [];
      const base = { controlId: ctx.controlId, createdAt: ctx.createdAt };
      for (const step of steps) {
        const items: Array<{ input: unknown; bindings: Record<string, unknown> }> = step.perObservation
          ? report.observations.map((observation, index) => ({ input: { report, observation }, bindings: { ...base, index } }))
          : [{ input: { report }, bindings: base }];
        for (const { input, bindings } of items) {
          if (step.when) {
            let holds: unknown;
            try {
              holds = await step.when.evaluate(input, bindings);
            } catch (e) {
              throw new Error(`${where(step, 'when')}: ${(e as Error).message}`);
            }
            if (!truthy(holds)) continue;
          }
          requests.push(await request(step, input, bindings));
        }
      }
      const warnings = requests.length === 0 ? ['no request: every step was skipped by its when; the destination acknowledges without sending'] : [];
      return { payload: JSON.stringify(requests, null, 2), contentType: REQUEST_PLAN_CONTENT_TYPE, ...(warnings.length > 0 ? { warnings } : {}) };
    },
  };
}
