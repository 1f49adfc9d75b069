import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { LogThrottle } from '../log-throttle.ts';

/** Limits on request bodies across the engine's HTTP port (webhook and REST sources). */
export interface BodyLimits {
  /** Bytes of request bodies held at once across all requests; over it, the largest body is refused (503). */
  readonly maxBytesInFlight: number;
  /** A body that sends nothing for this long is cut (408). */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = Object.freeze({
  maxBytesInFlight: 16 * 1_048_576, // 16 MiB: a REST body of the largest size (10 MB) fits
  idleTimeoutMs: 10_000, // 10 seconds
});

/** The body is over the route's own limit (413). */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  /** The limit it went over: the route's, or the engine's budget when that is smaller. */
  readonly limit: number;
  constructor(limit: number) {
    super(`the body exceeds the limit of ${limit} bytes`);
    this.limit = limit;
  }
}

/** The bodies in flight were over the engine's budget and this one was the largest (503, try again later). */
export class BodyBudgetError extends Error {
  override readonly name = 'BodyBudgetError';
}

/** No byte of the body arrived for `idleTimeoutMs` (408). */
export class BodyTimeoutError extends Error {
  override readonly name = 'BodyTimeoutError';
}

export interface ReadBodyOptions {
  /** Largest body of this route. */
  readonly maxBytes: number;
  /** Sees each chunk as it arrives, e.g. to compute an HMAC without a second pass over the body. */
  readonly onChunk?: (chunk: Buffer) => void;
}

/** One body being read: its size so far and how to refuse it. */
interface Reading {
  size: number;
  fail(error: Error): void;
}

/**
 * Reads request bodies within a budget of bytes held across all of them, so hundreds of slow
 * or stalled uploads cannot fill memory (issue 8: +720 MB from 100 slow REST bodies). When a
 * chunk would go over the budget, the largest body in flight is refused (a 503 its sender
 * retries), not the newest: a flood of large stalled uploads cannot starve small requests.
 * A body that sends nothing for `idleTimeoutMs` is cut, so a stalled one frees its bytes.
 */
export class BodyReader {
  readonly limits: BodyLimits;
  private held = 0;
  private readonly readings = new Set<Reading>();
  private readonly throttle: LogThrottle | undefined;

  constructor(limits: BodyLimits = DEFAULT_BODY_LIMITS, log?: Logger) {
    this.limits = limits;
    this.throttle = log && new LogThrottle(log);
  }

  /** Bytes held now across the bodies being read. */
  get bytesInFlight(): number {
    return this.held;
  }

  /**
   * Resolves with the whole body. Rejects with BodyTooLargeError (over `maxBytes`, also when
   * Content-Length says so up front), BodyBudgetError, BodyTimeoutError, or the stream's
   * error (the client went away). On a refusal the rest of the body is read and dropped.
   */
  read(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      const limit = Math.min(options.maxBytes, this.limits.maxBytesInFlight);
      if (declared > limit) {
        req.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      let chunks: Buffer[] = [];
      const reading: Reading = { size: 0, fail: (e) => finish(e) };
      this.readings.add(reading);
      const timer = setTimeout(() => {
        this.throttle?.warn('timeout', { timeoutMs: this.limits.idleTimeoutMs }, 'request bodies stalled: answered 408');
        finish(new BodyTimeoutError());
      }, this.limits.idleTimeoutMs);
      const finish = (error: Error | undefined): void => {
        if (!this.readings.delete(reading)) return;
        clearTimeout(timer);
        this.held -= reading.size;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
        const body = chunks;
        chunks = [];
        if (error === undefined) {
          resolve(body.length === 1 ? body[0]! : Buffer.concat(body, reading.size));
        } else {
          // Drop what is still coming; the caller answers and closes the connection.
          req.on('error', () => {});
          req.resume();
          reject(error);
        }
      };
      const onData = (chunk: Buffer): void => {
        timer.refresh();
        if (reading.size + chunk.length > options.maxBytes) {
          finish(new BodyTooLargeError(options.maxBytes));
          return;
        }
        if (!this.makeRoom(reading, chunk.length)) return;
        reading.size += chunk.length;
        this.held += chunk.length;
        chunks.push(chunk);
        options.onChunk?.(chunk);
      };
      const onEnd = (): void => finish(undefined);
      const onError = (e: Error): void => finish(e);
      const onClose = (): void => finish(new Error('the client closed the connection before the end of the body'));
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  }

  /** Refuses the largest bodies until `bytes` more fit; false when `reading` itself was the largest (and is refused). */
  private makeRoom(reading: Reading, bytes: number): boolean {
    while (this.held + bytes > this.limits.maxBytesInFlight) {
      let largest = reading;
      let largestSize = reading.size + bytes;
      for (const r of this.readings) {
        if (r.size > largestSize) {
          largest = r;
          largestSize = r.size;
        }
      }
      this.throttle?.warn('budget', { code: 'BACKPRESSURE', maxBytesInFlight: this.limits.maxBytesInFlight }, 'request bodies over the engine budget: the largest answered 503');
      largest.fail(new BodyBudgetError());
      if (largest === reading) return false;
    }
    return true;
  }
}

/** A FHIR OperationOutcome with one issue about the body. */
function bodyOutcome(code: string, diagnostics: string, errorCode?: string) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: `(body): ${diagnostics}`, ...(errorCode ? { details: { text: errorCode } } : {}) }] };
}

export interface BodyRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/**
 * The answer to a body that could not be read: 413 over the route's limit, 503 + Retry-After
 * over the engine's budget, 408 after `idleTimeoutMs` without a byte (RFC 9110 §15.5.9: the
 * server closes the connection; the client learns why instead of a bare reset), else 400.
 * The connection is not reused after any of them: the rest of the body may still be coming.
 */
export function bodyRefusal(error: unknown, limits: BodyLimits): BodyRefusal {
  if (error instanceof BodyTooLargeError) {
    return { status: 413, headers: {}, body: bodyOutcome('too-costly', `body exceeds the limit of ${error.limit} bytes`, 'INPUT_TOO_LARGE') };
  }
  if (error instanceof BodyBudgetError) {
    return {
      status: 503,
      headers: { 'Retry-After': '5' },
      body: bodyOutcome('throttled', 'the engine is holding too many request bodies at once; send it again later', 'BACKPRESSURE'),
    };
  }
  if (error instanceof BodyTimeoutError) {
    return { status: 408, headers: {}, body: bodyOutcome('timeout', `no byte of the body arrived for ${limits.idleTimeoutMs} ms`) };
  }
  return { status: 400, headers: {}, body: bodyOutcome('incomplete', 'the body could not be read to its end') };
}
