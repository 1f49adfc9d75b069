import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { undici } from '../senders/http/undici.ts';
import { loadClientTls } from '../config/tls.ts';
import { type HmacConfig, signedHeaders } from '../senders/http/auth/hmac.ts';
import { VERSION } from '../version.ts';
import type { AlertWebhook } from './rules.ts';
import type { NotificationStatus } from './view.ts';

/** The first retry waits this long, each next one twice as long, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

/** The signing of a webhook, as the outbound HTTP signer does it (senders/http/auth/hmac.ts). */
function hmacOf(w: AlertWebhook): HmacConfig {
  return {
    type: 'hmac',
    secret: w.secret,
    header: w.signatureHeader,
    prefix: 'sha256=',
    encoding: 'hex',
    timestamp: { header: w.timestampHeader, format: 'unix' },
  };
}

/**
 * POSTs alert notifications to webhooks, signed, each try with a timeout and failed tries again
 * after a growing wait; a notification that fails every try is logged. Nothing waits on it: a
 * receiver that is down never holds up deliveries or the evaluation of the rules.
 */
export class WebhookNotifier {
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  /** Connection pools of webhooks with a `tls` block, by webhook id; the default pool for the others. */
  private agents = new Map<string, { tls: string; agent: Dispatcher }>();

  constructor(log: Logger) {
    this.log = log;
  }

  /** Starts sending `body` to `webhook`; the returned status is updated as it goes. */
  send(webhook: AlertWebhook, body: string, alertState: NotificationStatus['alertState'], alert: string): NotificationStatus {
    const status: NotificationStatus = { webhook: webhook.id, alertState, state: 'sending', attempts: 0, at: new Date().toISOString() };
    void this.deliver(webhook, body, status, alert);
    return status;
  }

  private async deliver(webhook: AlertWebhook, body: string, status: NotificationStatus, alert: string): Promise<void> {
    for (;;) {
      status.attempts++;
      const failure = await this.post(webhook, body);
      status.at = new Date().toISOString();
      if (failure === undefined) {
        status.state = 'sent';
        delete status.error;
        return;
      }
      status.error = failure;
      const where = { webhook: webhook.id, alert, attempt: status.attempts, reason: failure };
      if (status.attempts > webhook.retries || this.stopping.signal.aborted) {
        status.state = 'failed';
        this.log.error(where, 'an alert notification could not be sent; it is not tried again');
        return;
      }
      const waitMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (status.attempts - 1));
      this.log.warn({ ...where, retryInMs: waitMs }, 'an alert notification failed; it is tried again');
      try {
        await sleep(waitMs, undefined, { signal: this.stopping.signal, ref: false });
      } catch {
        status.state = 'failed';
        status.at = new Date().toISOString();
        return;
      }
    }
  }

  /** One try: undefined when the receiver answered 2xx, else why not. */
  private async post(webhook: AlertWebhook, body: string): Promise<string | undefined> {
    try {
      const res = await undici().request(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': `Conduit/${VERSION}`, ...signedHeaders(hmacOf(webhook), body) },
        body,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(webhook.timeoutMs)]),
        ...this.dispatcher(webhook),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300 ? undefined : `HTTP ${res.statusCode}`;
    } catch (e) {
      const err = e as Error & { code?: string };
      return err.name === 'TimeoutError' ? `no answer within ${webhook.timeoutMs} ms` : (err.code ?? err.name);
    }
  }

  private dispatcher(webhook: AlertWebhook): { dispatcher?: Dispatcher } {
    if (!webhook.tls) return {};
    const tls = JSON.stringify(webhook.tls);
    let entry = this.agents.get(webhook.id);
    if (entry?.tls !== tls) {
      void entry?.agent.close();
      // Checked when the rules were loaded; read again here, as a renewal may have replaced them.
      entry = { tls, agent: new (undici().Agent)({ connect: loadClientTls(webhook.tls) }) };
      this.agents.set(webhook.id, entry);
    }
    return { dispatcher: entry.agent };
  }

  /** Stops every try under way and every wait for the next one. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.agents.values()].map((e) => e.agent.close()));
    this.agents = new Map();
  }
}
