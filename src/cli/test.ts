import { relative, resolve } from 'node:path';
import { loadConfiguration } from '../config/load.ts';
import type { EngineSettings } from '../config/settings.ts';
import { formatIssue } from '../config/yaml-file.ts';
import { type GoldenCheck, runGoldenTests, updateExpectedFiles } from '../testing/golden.ts';
import { UsageError } from './args.ts';

export interface TestOptions {
  /** Rewrite the expected files (after review) instead of failing on differences. */
  update: boolean;
  channelId?: string;
  /** Folder holding platform-events/ and hl7v2/ (default ./samples). */
  samplesDir?: string;
}

/**
 * `conduit test`: the golden tests of every channel with an inbound mapping. One line per
 * expected file (ok, FAIL, new), then the differences of each failure, then `N passed, M failed`.
 * Exit 1 on any difference or missing file; `--update` writes them instead and exits 0.
 */
export async function testCommand(settings: EngineSettings, o: TestOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { channels, issues } = loadConfiguration(settings);
  if (issues.length > 0) {
    for (const i of issues) err.write(`${formatIssue(i)}\n`);
    err.write(`conduit: ${issues.length} configuration problem(s); fix them first (conduit validate lists them)\n`);
    return 1;
  }
  const channel = o.channelId === undefined ? undefined : channels.find((c) => c.config.id === o.channelId);
  if (o.channelId !== undefined && !channel) {
    throw new UsageError(`no channel '${o.channelId}'; channels: ${channels.map((c) => c.config.id).join(', ') || '(none)'}`);
  }
  for (const c of channel ? [channel] : channels) {
    if (!c.mapping) out.write(`# ${c.config.id}: no inbound mapping, nothing to test\n`);
  }
  const samplesDir = resolve(o.samplesDir ?? 'samples');
  const checks = await runGoldenTests(channels, { samplesDir, ...(o.channelId === undefined ? {} : { channelId: o.channelId }) });
  const rel = (p: string) => relative(process.cwd(), p) || p;

  if (o.update) {
    const done = new Map(updateExpectedFiles(checks).map((d) => [d.path, d.action]));
    for (const c of checks) {
      if (c.status === 'failed') out.write(`FAIL  ${rel(c.path)}: ${c.diff.join('; ')}\n`);
      else out.write(`${(done.get(c.path) ?? 'ok').padEnd(8)}${rel(c.path)}\n`);
    }
    const count = (a: string) => [...done.values()].filter((x) => x === a).length;
    const failed = checks.filter((c) => c.status === 'failed').length;
    out.write(`${checks.length - done.size - failed} unchanged, ${count('wrote')} written, ${count('removed')} removed${failed ? `, ${failed} failed` : ''}\n`);
    return failed > 0 ? 1 : 0;
  }

  for (const c of checks) out.write(`${label(c).padEnd(6)}${rel(c.path)}\n`);
  const failures = checks.filter((c) => c.status !== 'ok');
  for (const c of failures.filter((x) => x.diff.length > 0)) {
    out.write(`\n${label(c)} ${rel(c.path)}\n`);
    for (const line of c.diff) out.write(`  ${line}\n`);
  }
  if (failures.some((c) => c.status === 'new')) {
    out.write(`\nno expected file for the outputs marked new: review them (conduit preview), then write them with conduit test --update\n`);
  } else if (failures.length > 0) {
    out.write(`\nif the new outputs are right (an intended change of a mapping or encoder), conduit test --update rewrites the expected files\n`);
  }
  out.write(`${checks.length - failures.length} passed, ${failures.length} failed\n`);
  return failures.length > 0 ? 1 : 0;
}

function label(c: GoldenCheck): string {
  switch (c.status) {
    case 'ok':
      return 'ok';
    case 'new':
      return 'new';
    case 'changed':
    case 'stale':
    case 'failed':
      return 'FAIL';
    default:
      return c.status satisfies never;
  }
}
