import { loadConfiguration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatIssue } from '../config/yaml-file.ts';

/** `conduit validate`: checks every channel and mapping file; exit 1 on any problem. */
export function validateCommand(settings: EngineSettings, out: NodeJS.WritableStream, json: boolean): number {
  const { channels, issues } = loadConfiguration(settings);
  if (json) {
    out.write(`${JSON.stringify({ ok: issues.length === 0, channels: channels.map((c) => c.config.id), issues }, null, 2)}\n`);
    return issues.length === 0 ? 0 : 1;
  }
  for (const i of issues) out.write(`${formatIssue(i)}\n`);
  if (issues.length === 0) {
    out.write(`ok: ${channels.length} channel(s) valid: ${channels.map((c) => c.config.id).join(', ')}\n`);
    return 0;
  }
  out.write(`${issues.length} problem(s) found\n`);
  return 1;
}
