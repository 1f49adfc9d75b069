import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { z } from 'zod';
import { loadClientTls } from '../config/tls.ts';
import { ConduitError } from '../errors.ts';
import { describeEnvIssue, type EnvValues, parseWithEnvValues, resolveEnvRefs } from '../config/env-refs.ts';
import { type ConfigIssue, readYamlFile, type YamlFile } from '../config/yaml-file.ts';
import { formatPath } from '../mapping/issues.ts';
import { type AlertRule, type AlertRules, AlertsFileShape, AlertWebhook, RULE_KINDS } from './rules.ts';

/** The channels the rules may name: channel id → its destination ids. */
export type ChannelIds = ReadonlyMap<string, readonly string[]>;

function issuesOf(yaml: YamlFile, error: z.ZodError, prefix: readonly PropertyKey[], envValues: EnvValues): ConfigIssue[] {
  return error.issues.flatMap((i): ConfigIssue[] => {
    const path = [...prefix, ...i.path];
    if (i.code === 'unrecognized_keys') {
      // Each unknown key at its own line, as in the channel files.
      return i.keys.map((key) => ({ file: yaml.file, path: formatPath([...path, key]), line: yaml.lineOf([...path, key]), message: `unknown key '${key}'`, code: i.code }));
    }
    return [{ file: yaml.file, path: formatPath(path), line: yaml.lineOf(path), message: describeEnvIssue(i, formatPath(path), envValues), code: i.code }];
  });
}

/**
 * Reads and checks the alerts file: every problem in one pass, each with the file, its line and
 * path and what was expected, as for channel files. With `channels`, a rule that names a channel
 * or destination that is not configured is a problem too. `${ENV}` references are resolved
 * (webhook secrets stay out of the file).
 */
export function loadAlertRules(file: string, channels?: ChannelIds, env: NodeJS.ProcessEnv = process.env): { rules?: AlertRules; issues: ConfigIssue[] } {
  const name = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
    return { issues: [{ file: name, path: '(file)', message: `cannot read the alerts file (${code}); see --alerts (CONDUIT_ALERTS)`, code: 'file_unreadable' }] };
  }
  const { yaml, issues } = readYamlFile(name, text);
  if (!yaml) return { issues };
  const envValues: EnvValues = new Map();
  const data = resolveEnvRefs(yaml, env, issues, envValues) ?? {};
  const top = AlertsFileShape.safeParse(data);
  if (!top.success) return { issues: [...issues, ...issuesOf(yaml, top.error, [], envValues)] };
  const at = (path: PropertyKey[], message: string, code: string): ConfigIssue => ({ file: yaml.file, path: formatPath(path), line: yaml.lineOf(path), message, code });

  const webhooks: AlertWebhook[] = [];
  top.data.webhooks.forEach((w, i) => {
    const { result } = parseWithEnvValues(AlertWebhook, w, ['webhooks', i], envValues);
    if (!result.success) issues.push(...issuesOf(yaml, result.error, ['webhooks', i], envValues));
    else if (webhooks.some((x) => x.id === result.data.id)) issues.push(at(['webhooks', i, 'id'], `webhook id '${result.data.id}' is used twice`, 'duplicate_id'));
    else {
      const tls = tlsProblem(result.data);
      if (tls) issues.push(at(['webhooks', i, 'tls', tls.field], tls.message, 'tls_invalid'));
      webhooks.push(result.data);
    }
  });

  const declared = top.data.webhooks.flatMap((w) => {
    const id = w !== null && typeof w === 'object' ? (w as { id?: unknown }).id : undefined;
    return typeof id === 'string' ? [id] : [];
  });
  const rules: AlertRule[] = [];
  const kinds = Object.keys(RULE_KINDS).join(', ');
  top.data.rules.forEach((r, i) => {
    const kind = r !== null && typeof r === 'object' ? (r as { kind?: unknown }).kind : undefined;
    if (typeof kind !== 'string' || !Object.hasOwn(RULE_KINDS, kind)) {
      const what = kind === undefined ? 'missing kind' : `unknown kind '${String(kind)}'`;
      issues.push(at(['rules', i, ...(kind === undefined ? [] : ['kind'])], `${what}; expected one of ${kinds}`, 'unknown_kind'));
      return;
    }
    const schema = RULE_KINDS[kind as keyof typeof RULE_KINDS] as z.ZodType<AlertRule>;
    const { result } = parseWithEnvValues(schema, r, ['rules', i], envValues);
    if (!result.success) {
      issues.push(...issuesOf(yaml, result.error, ['rules', i], envValues));
      return;
    }
    const rule = result.data;
    if (rules.some((x) => x.id === rule.id)) issues.push(at(['rules', i, 'id'], `rule id '${rule.id}' is used twice`, 'duplicate_id'));
    rule.notify?.forEach((id, k) => {
      // A webhook with problems of its own is reported there, not again here.
      if (!declared.includes(id)) issues.push(at(['rules', i, 'notify', k], `no webhook '${id}'; declared: ${declared.join(', ') || 'none'}`, 'unknown_webhook'));
    });
    if (channels) issues.push(...unknownNames(rule, channels).map((u) => at(['rules', i, u.key], u.message, 'unknown_reference')));
    rules.push(rule);
  });
  if (issues.length > 0) {
    // A value whose variable is not set is reported as that, not again as the unresolved text it left.
    const unset = new Set(issues.filter((i) => i.code === 'env_missing').map((i) => i.path));
    return { issues: issues.filter((i) => i.code === 'env_missing' || !unset.has(i.path)) };
  }
  return { rules: Object.freeze({ file: name, evaluateEveryMs: top.data.evaluateEvery, webhooks, rules }), issues };
}

/** Why the PEM files of a webhook's `tls` block cannot be used (unreadable, not PEM, a key that does not match). */
function tlsProblem(webhook: AlertWebhook): { field: string; message: string } | undefined {
  if (!webhook.tls) return undefined;
  try {
    loadClientTls(webhook.tls);
    return undefined;
  } catch (e) {
    if (!(e instanceof ConduitError)) throw e;
    return { field: e.location?.replace(/^tls\./, '') ?? 'cert', message: e.message };
  }
}

/** A rule's channel or destination that no configured channel has. */
function unknownNames(rule: AlertRule, channels: ChannelIds): Array<{ key: 'channel' | 'destination'; message: string }> {
  if (rule.channel !== undefined && !channels.has(rule.channel)) {
    return [{ key: 'channel', message: `no channel '${rule.channel}'; configured: ${[...channels.keys()].join(', ') || 'none'}` }];
  }
  if (rule.destination === undefined) return [];
  const among = rule.channel !== undefined ? channels.get(rule.channel)! : [...channels.values()].flat();
  if (among.includes(rule.destination)) return [];
  return [{ key: 'destination', message: `no destination '${rule.destination}' ${rule.channel !== undefined ? `in channel ${rule.channel}` : 'in any channel'}` }];
}
