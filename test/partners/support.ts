import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO, type TestEngine } from '../support/in-process.ts';

/** A delivery attempt as the admin API shows it. */
export interface AttemptView {
  outcome: 'acknowledged' | 'rejected' | 'retryable';
  code?: string;
  detail?: string;
  response?: string;
  startedAt: string;
}

export interface MessageView {
  status: string;
  deliveries: Array<{ destinationId: string; status: string; payload: string; contentType: string; attempts: AttemptView[] }>;
}

/** One exchange of an attempt's `response`, as the http destination records it. */
export interface ExchangeView {
  step: string;
  method: string;
  path: string;
  status?: number;
  outcome: 'ok' | 'duplicate' | 'skipped' | 'failed';
  body?: unknown;
}

export const FAST_DELIVERY = { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 200 };

/**
 * A sample channel file of the repository (channels/<id>.yaml), enabled, renamed `as` (webhook
 * path /channels/<as>) and pointed at a peer: `edit` changes the parsed file (the sender block
 * of the first destination is `sender`).
 */
export function sampleChannel(id: string, edit: (channel: Record<string, unknown>, sender: Record<string, unknown>) => void, as: string = id): string {
  const channel = parse(readFileSync(join(REPO, 'channels', `${id}.yaml`), 'utf8')) as Record<string, unknown>;
  channel['enabled'] = true;
  channel['id'] = as;
  (channel['source'] as Record<string, unknown>)['path'] = `/channels/${as}`;
  const destination = (channel['destinations'] as Array<Record<string, unknown>>)[0]!;
  destination['delivery'] = { ...FAST_DELIVERY };
  edit(channel, destination['sender'] as Record<string, unknown>);
  return stringify(channel);
}

export function fixture(name: string): Record<string, unknown> & { result: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8'));
}

export function sample(name: string): Record<string, unknown> & { result: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(REPO, 'samples', 'platform-events', `${name}.json`), 'utf8'));
}

/** POSTs an event to a channel, waits until nothing is pending, and returns the message as the admin API shows it. */
export async function deliver(t: TestEngine, channelPath: string, event: unknown): Promise<MessageView & { id: string }> {
  const res = await t.post(channelPath, event);
  assert.ok(res.status === 201, `intake answered ${res.status}: ${await res.clone().text()}`);
  const { messageId } = (await res.json()) as { messageId: string };
  await t.drained();
  return { id: messageId, ...(await view(t, messageId)) };
}

export async function view(t: TestEngine, messageId: string): Promise<MessageView> {
  const res = await t.admin(`/api/messages/${messageId}`);
  assert.equal(res.status, 200);
  return (await res.json()) as MessageView;
}

/** Asks the admin API to send a message again and waits for it. */
export async function resend(t: TestEngine, messageId: string): Promise<MessageView> {
  const res = await t.admin(`/api/messages/${messageId}/resend`, { method: 'POST' });
  assert.equal(res.status, 202);
  await t.drained();
  return view(t, messageId);
}

export function exchanges(attempt: AttemptView | undefined): ExchangeView[] {
  assert.ok(attempt?.response, 'the attempt has a response');
  return JSON.parse(attempt.response) as ExchangeView[];
}

/** A copy of an event with another result id (and optionally accession), so the webhook takes it as new. */
export function withResult<T extends { result: Record<string, unknown> }>(event: T, changes: Record<string, unknown>): T {
  const copy = structuredClone(event);
  Object.assign(copy.result, changes);
  if (typeof copy.result['id'] === 'string') (copy as Record<string, unknown>)['id'] = `evt_${copy.result['id']}_${copy.result['version'] ?? 1}`;
  return copy;
}
