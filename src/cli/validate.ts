import { loadAlertRules } from '../alerts/load.ts';
import { loadConfiguration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatIssue } from '../config/yaml-file.ts';
import { channelIds } from '../engine/observability.ts';

/** `conduit validate`: checks every channel and mapping file, and the alerts file when there is one; exit 1 on any problem. */
export function validateCommand(settings: EngineSettings, out: NodeJS.WritableStream, json: boolean): number {
  const configuration = loadConfiguration(settings);
  const { channels } = configuration;
  // Rules that name channels are checked against them when the channels themselves are valid.
  const alerts = settings.alerts === undefined ? undefined : loadAlertRules(settings.alerts, configuration.issues.length === 0 ? channelIds(channels) : undefined);
  const issues = [...configuration.issues, ...(alerts?.issues ?? [])];
  if (json) {
    const rules = alerts?.rules ? { alerts: { file: alerts.rules.file, rules: alerts.rules.rules.map((r) => r.id) } } : {};
    out.write(`${JSON.stringify({ ok: issues.length === 0, channels: channels.map((c) => c.config.id), ...rules, issues }, null, 2)}\n`);
    return issues.length === 0 ? 0 : 1;
  }
  for (const i of issues) out.write(`${formatIssue(i)}\n`);
  if (issues.length === 0) {
    out.write(`ok: ${channels.length} channel(s) valid: ${channels.map((c) => c.config.id).join(', ')}\n`);
    if (alerts?.rules) out.write(`ok: ${alerts.rules.rules.length} alert rule(s) valid in ${alerts.rules.file}\n`);
    return 0;
  }
  out.write(`${issues.length} problem(s) found\n`);
  return 1;
}
