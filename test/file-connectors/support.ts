/**
 * Shared helpers of the file connector tests: temp directories, channel files that read a
 * drop directory and deliver to a sandbox LIS, and polling for what the engine did to a file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestEngine } from '../support/in-process.ts';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A fresh temp directory, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'conduit-file-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Names of the regular files of a directory, sorted; [] when it does not exist. */
export function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => statSync(join(dir, n)).isFile())
      .sort();
  } catch {
    return [];
  }
}

export interface FileChannelOptions {
  inbox: string;
  /** hl7v2-oru for HL7 v2 files, platform-result for platform events in JSON; none stores as received. */
  mapping?: 'hl7v2-oru' | 'platform-result';
  /** Port of the sandbox LIS the ORU^R01 goes to; no destination without it. */
  lisPort?: number;
  /** Extra source keys, as YAML lines at source level (e.g. `stableMs: 300`). */
  source?: Record<string, string | number | boolean>;
}

/** A channel file: file drop → mapping → ORU^R01 → MLLP to the sandbox LIS. Fast polling for tests. */
export function fileChannel(id: string, o: FileChannelOptions): string {
  const source = { pollIntervalMs: 50, stableMs: 200, ...o.source };
  const lines = [`id: ${id}`, 'source:', '  type: file', `  directory: ${JSON.stringify(o.inbox)}`];
  for (const [k, v] of Object.entries(source)) lines.push(`  ${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`);
  if (o.mapping) lines.push(`mapping: ${o.mapping}`);
  if (o.lisPort !== undefined) {
    lines.push(
      'destinations:',
      '  - id: lis',
      '    mapping: oru-r01-lis',
      '    sender:',
      '      type: mllp',
      '      host: 127.0.0.1',
      `      port: ${o.lisPort}`,
      '      ackTimeoutMs: 2000',
      '    delivery:',
      '      maxAttempts: 3',
      '      initialBackoffMs: 50',
      '      maxBackoffMs: 200',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Polls `probe` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export interface StoredMessage {
  id: string;
  sourceId: string;
  rawInput: string;
  deliveries: Array<{
    destinationId: string;
    controlId: string;
    status: string;
    payload: string;
    contentType: string;
    attempts: Array<{ attempt: number; outcome: string; code?: string; detail?: string; response?: string }>;
  }>;
}

/** The stored messages of a channel, oldest first, through the admin API. */
export async function storedMessages(t: TestEngine, channelId: string): Promise<StoredMessage[]> {
  const list = (await (await t.admin(`/api/messages?channel=${channelId}&limit=500`)).json()) as { messages: Array<{ id: string }> };
  const out: StoredMessage[] = [];
  for (const m of list.messages.reverse()) out.push((await (await t.admin(`/api/messages/${m.id}`)).json()) as StoredMessage);
  return out;
}
