import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { z } from 'zod';
import type { EngineSettings } from '../config/settings.ts';
import { sendJson } from '../http/routes.ts';
import type { LogThrottle } from '../log-throttle.ts';
import { auditRefusal } from './refusal-audit.ts';
import type { SourceContext } from './types.ts';

/** A SHA-256 fingerprint: 32 bytes in hex, with or without colons, as `openssl x509 -fingerprint -sha256` prints it. */
const Fingerprint = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/, 'expected a SHA-256 fingerprint: 64 hex digits, colons between the bytes allowed')
  .transform(normalFingerprint);

/**
 * Client-certificate authentication of an HTTP source (webhook, REST). The certificate must
 * verify against the engine's client CA (--tls-client-ca); `subjects` and `fingerprints`, when
 * given, narrow which ones are accepted (a certificate must match both lists then).
 */
export const ClientCertificateConfig = z
  .object({
    /** false: a request without a certificate passes (one that presents a certificate is still checked). */
    required: z.boolean().default(true),
    /** Accepted subject CNs or SAN DNS names, compared without regard to case. */
    subjects: z.array(z.string().min(1)).min(1, 'expected at least one subject, or leave subjects out').optional(),
    /** Accepted SHA-256 fingerprints of the certificate itself. */
    fingerprints: z.array(Fingerprint).min(1, 'expected at least one fingerprint, or leave fingerprints out').optional(),
  })
  .strict();
export type ClientCertificateConfig = z.infer<typeof ClientCertificateConfig>;

function normalFingerprint(text: string): string {
  const hex = text.replaceAll(':', '').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/**
 * Why a source's `clientCertificate` cannot work with the engine's settings, or undefined: a
 * certificate can only be asked for on HTTPS with a client CA.
 */
export function clientCertificateProblem(sourceConfig: unknown, settings: Partial<Pick<EngineSettings, 'tlsClientCa'>>): string | undefined {
  const block = (sourceConfig as { clientCertificate?: ClientCertificateConfig } | undefined)?.clientCertificate;
  if (block === undefined || settings.tlsClientCa !== undefined) return undefined;
  return 'client certificates need the engine to serve HTTPS with a client CA: set --tls-cert, --tls-key and --tls-client-ca (CONDUIT_TLS_CERT, CONDUIT_TLS_KEY, CONDUIT_TLS_CLIENT_CA)';
}

/** A refused certificate: 401 when none or not verified, 403 when verified but not allowed here. */
export interface CertificateRefusal {
  readonly status: 401 | 403;
  /** Short, for the audit trail: no-certificate, not-verified, subject-not-allowed, fingerprint-not-allowed. */
  readonly reason: string;
  readonly diagnostics: string;
  /** The TLS stack's verification error (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, …). */
  readonly code?: string;
}

/** Subject CN(s) and SAN DNS names of a certificate, lower case. */
function namesOf(cert: PeerCertificate): string[] {
  const cn = cert.subject?.CN as string | string[] | undefined;
  const names = cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
  for (const entry of (cert.subjectaltname ?? '').split(', ')) if (entry.startsWith('DNS:')) names.push(entry.slice(4));
  return names.map((n) => n.toLowerCase());
}

/** The check alone, on the request's TLS socket: undefined when the request may go on. */
export function checkClientCertificate(config: ClientCertificateConfig, req: IncomingMessage): CertificateRefusal | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  const cert = socket.encrypted ? socket.getPeerCertificate?.() : undefined;
  if (!cert || Object.keys(cert).length === 0) {
    if (!config.required) return undefined;
    return {
      status: 401,
      reason: 'no-certificate',
      diagnostics: socket.encrypted
        ? 'a client certificate signed by the CA this engine trusts for clients is required'
        : 'a client certificate is required, and this request did not come over HTTPS',
    };
  }
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'not verified');
    return { status: 401, reason: 'not-verified', code, diagnostics: `the client certificate does not verify against the engine's client CA (${code})` };
  }
  if (config.subjects) {
    const names = namesOf(cert);
    if (!config.subjects.some((s) => names.includes(s.toLowerCase()))) {
      return {
        status: 403,
        reason: 'subject-not-allowed',
        diagnostics: `the client certificate's subject (${names.join(', ') || 'no CN or DNS name'}) is not one this source accepts`,
      };
    }
  }
  if (config.fingerprints && !config.fingerprints.includes(cert.fingerprint256)) {
    return { status: 403, reason: 'fingerprint-not-allowed', diagnostics: `the client certificate (SHA-256 ${cert.fingerprint256}) is not one this source accepts` };
  }
  return undefined;
}

/**
 * A source's client-certificate gate (`clientCertificate` of its config), checked before the
 * body is read: true when the request may go on; false when it was answered 401 or 403 with an
 * OperationOutcome, and audited (`source.certificate.refused`). Without the block every request
 * goes on.
 */
export function clientCertificateGate(
  config: ClientCertificateConfig | undefined,
  ctx: Pick<SourceContext, 'audit' | 'channelId'>,
  throttle: LogThrottle,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  if (!config) return () => true;
  return (req, res) => {
    const refusal = checkClientCertificate(config, req);
    if (!refusal) return true;
    auditRefusal(ctx, throttle, req, 'source.certificate.refused', { reason: refusal.reason, ...(refusal.code ? { code: refusal.code } : {}) });
    throttle.warn(`certificate ${refusal.reason}`, { channel: ctx.channelId, reason: refusal.reason, code: refusal.code }, 'a request without an acceptable client certificate was refused');
    req.resume();
    // A refused body may still be arriving: the connection cannot carry the next request.
    res.shouldKeepAlive = false;
    const issue = { severity: 'error', code: refusal.status === 401 ? 'login' : 'forbidden', diagnostics: refusal.diagnostics };
    sendJson(res, refusal.status, { resourceType: 'OperationOutcome', issue: [issue] });
    return false;
  };
}
