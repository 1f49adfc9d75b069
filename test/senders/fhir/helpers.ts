import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { createLogger } from '../../../src/log.ts';
import { type FhirDestinationConfig, FhirSender, type FhirSenderOptions, fhirDestinationConfig } from '../../../src/senders/fhir/index.ts';
import type { OutboundMessage, SendOutcome } from '../../../src/senders/types.ts';

/** A fixture of `fixtures/` as text. */
export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

export const LAB_REPORT = fixture('lab-report-transaction.json');
export const INVALID_OBSERVATION = fixture('invalid-observation-transaction.json');

export function outbound(payload: string, id = 'm1', attempt = 1): OutboundMessage {
  return { messageId: `msg-${id}`, destinationId: 'ehr', payload, contentType: 'application/fhir+json', controlId: id, attempt };
}

/** The production logger (redaction included), writing into an array. */
export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('trace', { write: (line: string) => lines.push(line) });
  return { log, lines };
}

/** Cleanups run by the test file's `after`, last registered first. */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  add<T extends { close(): Promise<unknown> }>(thing: T): T {
    this.steps.push(() => thing.close());
    return thing;
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await step();
    this.steps.length = 0;
  }
}

/** A sender for `config` (parsed, defaults filled), closed by `cleanup`. */
export function fhirSender(
  cleanup: Cleanup,
  config: Record<string, unknown>,
  options: { log?: Logger } & FhirSenderOptions = {},
): FhirSender {
  const parsed: FhirDestinationConfig = fhirDestinationConfig.parse(config);
  const { log = captureLog().log, ...rest } = options;
  return cleanup.add(new FhirSender(parsed, { log }, rest));
}

/** `lanes` senders made from one parsed config, as the engine makes the lanes of a destination. */
export function laneSenders(cleanup: Cleanup, config: Record<string, unknown>, lanes: number, log: Logger = captureLog().log): FhirSender[] {
  const parsed = fhirDestinationConfig.parse(config);
  return Array.from({ length: lanes }, () => cleanup.add(new FhirSender(parsed, { log })));
}

export function send(sender: FhirSender, payload: string = LAB_REPORT, signal: AbortSignal = new AbortController().signal): Promise<SendOutcome> {
  return sender.send(outbound(payload), signal);
}

export function assertOutcome<S extends SendOutcome['status']>(
  outcome: SendOutcome,
  status: S,
  code?: string,
): asserts outcome is Extract<SendOutcome, { status: S }> {
  assert.equal(outcome.status, status, JSON.stringify(outcome).slice(0, 2000));
  if (code !== undefined) assert.equal('code' in outcome ? outcome.code : undefined, code, JSON.stringify(outcome).slice(0, 2000));
}

/** Resolves after `ms`. Used only to let a token expire; nothing asserts on durations. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
