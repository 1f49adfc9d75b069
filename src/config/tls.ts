import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, createSecureContext } from 'node:tls';
import { z } from 'zod';
import { ConduitError } from '../errors.ts';

/**
 * TLS of a client connection (MLLP, FHIR and HTTP destinations, Kafka brokers): PEM file paths,
 * read when the connection is configured. Verification of the peer's certificate is on unless
 * turned off.
 */
export const ClientTlsConfig = z
  .object({
    /** PEM file of the CA(s) that sign the peer's certificate; the system CAs when absent. */
    ca: z.string().min(1).optional(),
    /** PEM client certificate and its key, for mutual TLS: both or neither. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    rejectUnauthorized: z.boolean().default(true),
    /** SNI and certificate host name, when it differs from the address connected to. */
    servername: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: [tls.cert === undefined ? 'cert' : 'key'], message: 'tls.cert and tls.key go together: give both or neither' });
    }
  });
export type ClientTlsConfig = z.infer<typeof ClientTlsConfig>;

/** The PEM files of one TLS end, read. */
export interface PemMaterial {
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}
export type PemField = keyof PemMaterial;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** OpenSSL's codes for PEM that is not what it should be, in words. */
function pemReason(err: unknown, field: PemField): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') return 'the key does not match the certificate';
  if (code === 'ERR_OSSL_PEM_NO_START_LINE' || code === 'ERR_OSSL_UNSUPPORTED' || code === 'ERR_OSSL_PEM_BAD_BASE64_DECODE') {
    return field === 'key' ? `not a PEM private key (${code})` : `not a PEM certificate (${code})`;
  }
  return code ?? (err as Error)?.message ?? 'unknown error';
}

/**
 * Why PEM material cannot serve TLS (not PEM, a key that does not match its certificate, a CA
 * file without a certificate), or undefined when it can. createSecureContext silently ignores a
 * CA file that holds no certificate, so CAs are parsed here.
 */
export function pemProblem(material: PemMaterial): { field: PemField; reason: string } | undefined {
  if (material.ca) {
    const blocks = material.ca.toString('latin1').match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) return { field: 'ca', reason: 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)' };
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (err) {
        return { field: 'ca', reason: `a certificate in it cannot be read (${(err as NodeJS.ErrnoException).code ?? 'invalid'})` };
      }
    }
  }
  for (const field of ['cert', 'key'] as const) {
    const pem = material[field];
    if (!pem) continue;
    try {
      createSecureContext({ [field]: pem });
    } catch (err) {
      return { field, reason: pemReason(err, field) };
    }
  }
  if (material.cert && material.key) {
    try {
      createSecureContext({ cert: material.cert, key: material.key });
    } catch (err) {
      return { field: 'key', reason: pemReason(err, 'key') };
    }
  }
  return undefined;
}

/**
 * node:tls options from the config, reading the PEM files now: an unreadable file or one that
 * is not usable PEM is a configuration error (CONFIG_INVALID at `tls.<field>`), found when the
 * connector is created.
 */
export function loadClientTls(config: ClientTlsConfig): ConnectionOptions {
  const read = (field: PemField): Buffer | undefined => {
    const path = config[field];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new ConduitError('CONFIG_INVALID', `tls.${field}: cannot read '${path}' (${code})`, { location: `tls.${field}`, cause: err });
    }
  };
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  const problem = pemProblem({ ca, cert, key });
  if (problem) {
    throw new ConduitError('CONFIG_INVALID', `tls.${problem.field}: '${config[problem.field]}': ${problem.reason}`, { location: `tls.${problem.field}` });
  }
  return {
    rejectUnauthorized: config.rejectUnauthorized,
    ...(ca ? { ca: [ca] } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(config.servername ? { servername: config.servername } : {}),
  };
}
