import type { Logger } from 'pino';
import { ConduitError } from '../../errors.ts';
import { type AuthProvider, sharedAuthProvider } from '../http/auth/index.ts';
import { exchange, type HttpAnswer } from '../http/exchange.ts';
import { type DispatcherFor, sharedTlsDispatchers } from '../http/tls-dispatcher.ts';
import { type OutboundMessage, type Sender, type SenderDeps, type SendOutcome, sendByPassed } from '../types.ts';
import { classifyAnswer, failure, inspectBundle, type SentBundle } from './classify.ts';
import type { FhirDestinationConfig } from './config.ts';
import { InFlight } from '../in-flight.ts';
import { warnIfCredentialsInsecure } from '../http/insecure.ts';

const FHIR_JSON = 'application/fhir+json';

export interface FhirSenderOptions {
  /** Overrides the provider built from `config.auth` (shared by the lanes of a destination). */
  readonly auth?: AuthProvider;
}


/**
 * Delivers FHIR batch and transaction Bundles: one POST to the base URL per message
 * (FHIR R4 http.html#transaction), classified from the status and the transaction-response.
 *
 * Plain HTTP (undici's `request`, pooled keep-alive connections; see http/exchange.ts), not a FHIR
 * client such as fhir-kit-client: we need the raw status and headers (Retry-After), the raw body for the
 * delivery history, and our own auth, timeouts and classification; retries and backoff are the
 * dispatcher's. A FHIR client would parse, retry or throw in its own way and hide all three.
 *
 * A 401 invalidates the token and the POST is repeated once, at once, with a fresh one (the
 * server may have revoked or expired it early). Logs carry the message id, status and codes,
 * never bodies or tokens.
 */
export class FhirSender implements Sender {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly auth: AuthProvider;
  /** Connection pools: the destination's `tls`, or the default. */
  private readonly dispatcherFor: DispatcherFor;
  private readonly log: Logger;
  private readonly inFlight = new InFlight();
  private closed = false;

  /** Throws CONFIG_INVALID when a SMART private key or a `tls` file cannot be read or used. */
  constructor(config: FhirDestinationConfig, deps: SenderDeps, options: FhirSenderOptions = {}) {
    const base = new URL(config.baseUrl);
    this.url = config.baseUrl;
    this.timeoutMs = config.timeoutMs;
    this.headers = Object.freeze({ accept: FHIR_JSON, ...lowerCaseKeys(config.headers ?? {}), 'content-type': FHIR_JSON });
    this.dispatcherFor = sharedTlsDispatchers(config.tls, config.baseUrl);
    this.auth = options.auth ?? sharedAuthProvider(config.auth, { timeoutMs: config.timeoutMs, dispatcherFor: this.dispatcherFor });
    this.log = deps.log.child({ sender: 'fhir', host: base.host });
    warnIfCredentialsInsecure(this.log, base, config.auth);
  }

  /** Resolves with the outcome; never rejects. Sends may overlap (the HTTP client pools connections). */
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    return this.inFlight.track(this.attempt(message, signal).catch((err: unknown) => this.failed(err, message)));
  }

  /** Later sends fail with HTTP_ABORTED; waits for the sends in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.inFlight.settled();
  }

  private async attempt(message: OutboundMessage, signal: AbortSignal): Promise<SendOutcome> {
    if (this.closed) return failure('HTTP_ABORTED', 'the sender is closed');
    if (signal.aborted) return failure('HTTP_ABORTED', 'aborted before the Bundle was sent');
    const sent = inspectBundle(message.payload);
    if (!sent) {
      this.log.warn({ messageId: message.messageId, code: 'FHIR_PAYLOAD_INVALID' }, 'FHIR payload is not a batch or transaction Bundle');
      return failure('FHIR_PAYLOAD_INVALID', `the payload (${message.contentType}) is not a JSON Bundle of type transaction or batch`);
    }
    let authorization = await this.auth.authorization(signal);
    let answer = await this.post(message, authorization, signal);
    if (answer.status === 401 && authorization !== undefined && this.auth.invalidate(authorization)) {
      this.log.info({ messageId: message.messageId, status: 401 }, 'FHIR server refused the token; retrying once with a fresh one');
      authorization = await this.auth.authorization(signal);
      answer = await this.post(message, authorization, signal);
    }
    return this.classify(answer, sent, message);
  }

  private post(message: OutboundMessage, authorization: string | undefined, signal: AbortSignal): Promise<HttpAnswer> {
    // A token request can take long enough for the lane's lease to run out.
    const late = sendByPassed(message);
    if (late) throw late;
    const headers = authorization === undefined ? this.headers : { ...this.headers, authorization };
    return exchange(this.url, { method: 'POST', headers, body: message.payload }, this.timeoutMs, signal, this.dispatcherFor(this.url));
  }

  private classify(answer: HttpAnswer, sent: SentBundle, message: OutboundMessage): SendOutcome {
    const outcome = classifyAnswer(answer, sent);
    const fields = { messageId: message.messageId, status: answer.status, entries: sent.entries };
    if (outcome.status === 'acknowledged') this.log.debug(fields, 'FHIR Bundle delivered');
    else this.log.warn({ ...fields, code: outcome.code, outcome: outcome.status }, 'FHIR Bundle not delivered');
    return outcome;
  }

  private failed(err: unknown, message: OutboundMessage): SendOutcome {
    if (err instanceof ConduitError) {
      this.log.warn({ messageId: message.messageId, code: err.code, errno: err.context['errno'] }, 'FHIR delivery attempt failed');
      const retryAfterMs = err.context['retryAfterMs'];
      return failure(err.code, err.message, typeof retryAfterMs === 'number' ? { retryAfterMs } : {});
    }
    // Not a delivery failure: a bug. Still resolve, so one message cannot stall its lane.
    this.log.error({ messageId: message.messageId, error: (err as Error)?.name }, 'FHIR sender: unexpected error');
    return failure('HTTP_CONNECTION_LOST', `unexpected error: ${(err as Error)?.name ?? 'unknown'}`);
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
