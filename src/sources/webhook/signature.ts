import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InputError } from '../../errors.ts';
import { aroundBody, describeTimestampFormat, parseSignedContent, parseTimestamp, type SignedPart } from '../../http/signed-content.ts';
import { signedContentOf, type WebhookHmacConfig } from './config.ts';
import { SeenSignatures } from './replay.ts';

/** Why a signature was refused: `detail.reason` of the audit event. */
export type SignatureRefusalReason =
  | 'signature-missing'
  | 'signature-malformed'
  | 'signature-mismatch'
  | 'signed-header-missing'
  | 'timestamp-missing'
  | 'timestamp-malformed'
  | 'timestamp-stale'
  | 'timestamp-future'
  | 'replayed';

/** A refused signature: a 401 (INPUT_BAD_SIGNATURE) naming the header and what was expected. */
export class SignatureRefused extends InputError {
  readonly reason: SignatureRefusalReason;
  constructor(reason: SignatureRefusalReason, header: string, message: string) {
    super('INPUT_BAD_SIGNATURE', [{ path: `(header ${header})`, code: 'signature', message }]);
    this.reason = reason;
  }
}

/** A SHA-256 digest, exactly: 64 hex digits, or 44 base64 characters (the `=` may be left off). */
const DIGEST = { hex: /^[0-9a-fA-F]{64}$/, base64: /^[A-Za-z0-9+/]{43}=?$/ } as const;

/**
 * The digest in the signature header, or undefined when it is not exactly a digest.
 * `Buffer.from(text, 'hex')` stops silently at the first non-hex character, so
 * `sha256=<hex>junk` used to pass; the whole value is checked first.
 */
function signatureDigest(value: string, hmac: WebhookHmacConfig): Buffer | undefined {
  if (!value.startsWith(hmac.prefix)) return undefined;
  const text = value.slice(hmac.prefix.length).trim();
  if (!DIGEST[hmac.encoding].test(text)) return undefined;
  const digest = Buffer.from(text, hmac.encoding);
  // Base64's last character carries spare bits: only the canonical spelling of the digest counts.
  if (hmac.encoding === 'base64' && digest.toString('base64').slice(0, 43) !== text.slice(0, 43)) return undefined;
  return digest;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** One request's verification, started from its headers and fed its body as it streams. */
export interface SignatureCheck {
  update(chunk: Buffer): void;
  /** After the last chunk: throws SignatureRefused when the digest differs or was already used. */
  finish(): void;
  /** The request stored nothing (its intake failed): a retry with the same signature is no replay. */
  release(): void;
}

/**
 * The HMAC-SHA256 check of a webhook source: the signature over the signed-content template
 * (prefix, body as it streams, suffix), and with a timestamp the window around the engine's
 * clock and the memory of the signatures used within it.
 */
export class WebhookSignatures {
  private readonly hmac: WebhookHmacConfig;
  private readonly parts: readonly SignedPart[];
  private readonly template: string;
  private readonly now: () => number;
  readonly seen: SeenSignatures;

  constructor(hmac: WebhookHmacConfig, options: { now?: () => number; onReplayMemoryFull?: () => void } = {}) {
    this.hmac = hmac;
    this.template = signedContentOf(hmac);
    const parsed = parseSignedContent(this.template);
    // The schema refused bad templates already; this is the same parse.
    if ('error' in parsed) throw new Error(`hmac.signedContent: ${parsed.error}`);
    this.parts = parsed.parts;
    this.now = options.now ?? Date.now;
    this.seen = new SeenSignatures(options.onReplayMemoryFull ? { onFull: options.onReplayMemoryFull } : {});
  }

  /** Checks the headers, before the body is read; throws SignatureRefused. */
  begin(req: IncomingMessage): SignatureCheck {
    const hmac = this.hmac;
    const given = header(req, hmac.header);
    const expected = given === undefined ? undefined : signatureDigest(given, hmac);
    if (!expected) {
      const what = this.template === '{body}' ? 'the raw body' : this.template;
      throw new SignatureRefused(
        given === undefined ? 'signature-missing' : 'signature-malformed',
        hmac.header,
        `missing or invalid HMAC-SHA256 signature; expected '${hmac.prefix}<${hmac.encoding} digest of ${what}>'`,
      );
    }
    const timestamp = this.timestamp(req);
    const around = aroundBody(this.parts, { ...(timestamp ? { timestamp: timestamp.text } : {}), header: (name) => header(req, name) });
    if ('missing' in around) {
      throw new SignatureRefused('signed-header-missing', around.missing, `missing header ${around.missing}, which the signature covers`);
    }
    const mac = createHmac('sha256', hmac.secret).update(around.before);
    const refuse = () => new SignatureRefused('signature-mismatch', hmac.header, `the HMAC-SHA256 signature does not match ${this.template === '{body}' ? 'the raw body' : this.template}`);
    let digest: string | undefined;
    return {
      update: (chunk) => {
        mac.update(chunk);
      },
      finish: () => {
        const actual = mac.update(around.after).digest();
        if (!timingSafeEqual(actual, expected)) throw refuse();
        if (!timestamp) return;
        const key = actual.toString('base64');
        if (!this.seen.remember(key, timestamp.ms + timestamp.toleranceMs, this.now())) {
          throw new SignatureRefused('replayed', hmac.header, 'this signature was already used');
        }
        digest = key;
      },
      release: () => {
        if (digest !== undefined) this.seen.forget(digest);
      },
    };
  }

  /** The timestamp header, checked against the window; undefined when none is configured. */
  private timestamp(req: IncomingMessage): { text: string; ms: number; toleranceMs: number } | undefined {
    const t = this.hmac.timestamp;
    if (!t) return undefined;
    const text = header(req, t.header);
    const format = describeTimestampFormat(t.format);
    if (text === undefined) throw new SignatureRefused('timestamp-missing', t.header, `missing timestamp; expected ${format}`);
    const ms = parseTimestamp(text.trim(), t.format);
    if (ms === undefined) throw new SignatureRefused('timestamp-malformed', t.header, `not a timestamp; expected ${format}`);
    const toleranceMs = t.toleranceSeconds * 1000;
    const skew = this.now() - ms;
    const window = `signatures are accepted within ${t.toleranceSeconds} s of the engine's clock (is the sender's clock right?)`;
    if (skew > toleranceMs) throw new SignatureRefused('timestamp-stale', t.header, `the timestamp is ${Math.round(skew / 1000)} s old; ${window}`);
    if (-skew > toleranceMs) throw new SignatureRefused('timestamp-future', t.header, `the timestamp is ${Math.round(-skew / 1000)} s in the future; ${window}`);
    return { text, ms, toleranceMs };
  }
}
