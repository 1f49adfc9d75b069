/**
 * Runs `conduit start` as a child process, for tests that kill the engine (kill -9) or must
 * not share its CPU with the load they generate (benchmarks). The engine listens on port 0;
 * the URL is read back from its 'Conduit is listening' log line, so there is no probe-then-bind
 * race (see STYLE.md section 6).
 *
 * A workspace is a temp directory with `channels/`, `mappings/` (a copy of the repository's)
 * and `data/`. Starting a second engine on the same workspace restarts on the same store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export const REPO = join(import.meta.dirname, '..', '..');
const CONDUIT_BIN = join(REPO, 'src', 'bin', 'conduit.js');
/** The bin's shebang (`#!/usr/bin/env -S NAME=value … node …`): the engine runs here as it does installed. */
const SHEBANG = /^#!\S*env -S (.*?)\bnode\b(.*)$/m.exec(readFileSync(CONDUIT_BIN, 'utf8'));
/** The node flags after `node`. */
const ENGINE_NODE_FLAGS = (SHEBANG?.[2] ?? '').split(' ').filter(Boolean);
/** The environment variables before it. */
const ENGINE_ENV: Record<string, string> = Object.fromEntries(
  (SHEBANG?.[1] ?? '')
    .split(' ')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

export interface Workspace {
  readonly dir: string;
  readonly channelsDir: string;
  readonly mappingsDir: string;
  readonly dataDir: string;
  /** Deletes the whole directory. */
  remove(): void;
}

/** A fresh temp workspace holding the given channel files (file name → YAML text) and a copy of mappings/. */
export function createWorkspace(channels: Record<string, string>): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-e2e-'));
  const channelsDir = join(dir, 'channels');
  const mappingsDir = join(dir, 'mappings');
  const dataDir = join(dir, 'data');
  mkdirSync(channelsDir);
  mkdirSync(dataDir);
  for (const [name, text] of Object.entries(channels)) writeFileSync(join(channelsDir, name), text);
  cpSync(join(REPO, 'mappings'), mappingsDir, { recursive: true });
  return { dir, channelsDir, mappingsDir, dataDir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SampleChannelOptions {
  /** Port of the MLLP receiver the destination sends to (on 127.0.0.1). */
  mllpPort: number;
  /** Webhook path; the sample's own by default (/channels/platform-to-lis). */
  path?: string;
  /** Overrides of the destination's `delivery` block (lanes, maxAttempts, backoff…). */
  delivery?: Record<string, unknown>;
  /** Overrides of the destination's `sender` block (ackTimeoutMs…). */
  sender?: Record<string, unknown>;
  /** Replaces the channel's `retention` block (e.g. { content: '1m', metadata: '1m' }). */
  retention?: Record<string, string>;
}

/**
 * The repository's sample channel channels/platform-to-lis.yaml (webhook → ORU^R01 → MLLP),
 * with its MLLP destination pointed at `mllpPort`. Returned as YAML text.
 */
export function sampleChannel(options: SampleChannelOptions): string {
  const channel = parse(readFileSync(join(REPO, 'channels', 'platform-to-lis.yaml'), 'utf8')) as {
    source: Record<string, unknown>;
    destinations: Array<{ sender: Record<string, unknown>; delivery?: Record<string, unknown> }>;
  };
  if (options.path) channel.source.path = options.path;
  const destination = channel.destinations[0]!;
  Object.assign(destination.sender, { host: '127.0.0.1', port: options.mllpPort }, options.sender);
  destination.delivery = { ...destination.delivery, ...options.delivery };
  if (options.retention) (channel as Record<string, unknown>).retention = options.retention;
  return stringify(channel);
}

export interface StartEngineOptions {
  /** Start on this workspace (e.g. to restart on the same data directory); it is left in place. */
  workspace?: Workspace;
  /** Channel files of a new workspace, which `stop()` then removes. Ignored with `workspace`. */
  channels?: Record<string, string>;
  durability?: 'full' | 'normal';
  /** info (default), debug or trace: the URL is read from an info line. */
  logLevel?: 'info' | 'debug' | 'trace';
  maxBacklog?: number;
  /** Extra node options, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  execArgv?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  adminToken?: string;
  /** How long to wait for 'Conduit is listening'. Default 20 s. */
  startTimeoutMs?: number;
}

export interface EngineProcess {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  readonly adminToken: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly workspace: Workspace;
  /** Every stdout line (pino JSON), in order, as it arrives. */
  readonly logs: string[];
  /** Every stderr line. */
  readonly stderr: string[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, waits for the exit (SIGKILL after `timeoutMs`), then removes the workspace if it was created here. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** fetch against the admin API with the bearer token. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Pending (queued, sent, errored) deliveries of a channel, from GET /api/channels. */
  pendingDeliveries(channelId: string): Promise<number>;
}

const DEFAULT_ADMIN_TOKEN = 'engine-process-test-token-0123456789';

/** Children still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Starts `conduit start --port 0` in a child process and resolves once it is listening. */
export async function startEngine(options: StartEngineOptions = {}): Promise<EngineProcess> {
  const ownsWorkspace = options.workspace === undefined;
  const workspace = options.workspace ?? createWorkspace(options.channels ?? {});
  const adminToken = options.adminToken ?? DEFAULT_ADMIN_TOKEN;
  const args = [
    ...ENGINE_NODE_FLAGS,
    ...(options.execArgv ?? []),
    CONDUIT_BIN,
    'start',
    '--port', '0',
    '--host', '127.0.0.1',
    '--data', workspace.dataDir,
    '--channels', workspace.channelsDir,
    '--mappings', workspace.mappingsDir,
    '--durability', options.durability ?? 'full',
    '--log-level', options.logLevel ?? 'info',
    ...(options.maxBacklog !== undefined ? ['--max-backlog', String(options.maxBacklog)] : []),
  ];
  // Only what the engine needs from our environment: no CONDUIT_* of the developer's shell leaks in.
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', CONDUIT_ADMIN_TOKEN: adminToken, ...ENGINE_ENV, ...options.env };
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  const logs: string[] = [];
  const stderr: string[] = [];
  let listening: (url: string) => void = () => {};
  const listeningUrl = new Promise<string>((resolve) => {
    listening = resolve;
  });
  collectLines(child.stdout!, (line) => {
    logs.push(line);
    if (line.includes('Conduit is listening')) {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'Conduit is listening' && entry.url) listening(entry.url);
      } catch {
        // not a JSON line: ignore
      }
    }
  });
  collectLines(child.stderr!, (line) => stderr.push(line));

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const url = await Promise.race([
    listeningUrl,
    exited.then(({ code, signal }) => {
      throw new Error(`the engine exited before listening (code ${code}, signal ${signal}):\n${[...stderr, ...logs].join('\n')}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the engine did not listen within ${timeoutMs} ms:\n${[...stderr, ...logs].join('\n')}`)), timeoutMs);
    }),
  ]).catch(async (e: unknown) => {
    child.kill('SIGKILL');
    await exited;
    if (ownsWorkspace) workspace.remove();
    throw e;
  });
  clearTimeout(timer);

  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const admin = (path: string, init?: RequestInit) =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init?.headers } });

  return {
    url,
    port: Number(new URL(url).port),
    adminToken,
    child,
    pid: child.pid!,
    workspace,
    logs,
    stderr,
    exited,
    kill,
    admin,
    async stop(stopTimeoutMs = 10_000) {
      const t = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const result = await kill('SIGTERM');
      clearTimeout(t);
      if (ownsWorkspace) workspace.remove();
      return result;
    },
    async pendingDeliveries(channelId: string) {
      const res = await admin('/api/channels');
      if (!res.ok) throw new Error(`GET /api/channels: ${res.status}`);
      const body = (await res.json()) as { channels: Array<{ id: string; deliveries: Record<string, number> }> };
      const channel = body.channels.find((c) => c.id === channelId);
      if (!channel) throw new Error(`no channel ${channelId}`);
      const d = channel.deliveries;
      return (d.queued ?? 0) + (d.sent ?? 0) + (d.errored ?? 0);
    },
  };
}

/** Polls the admin API until channel `channelId` has no pending delivery. */
export async function waitForDrained(engine: EngineProcess, channelId: string, timeoutMs = 30_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await engine.pendingDeliveries(channelId);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${pending} deliveries still pending on ${channelId} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Peak resident set size (VmHWM) of a process, in bytes, from /proc (Linux only). */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function collectLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p !== '') onLine(p);
  });
  stream.on('end', () => {
    if (rest !== '') onLine(rest);
    rest = '';
  });
}
