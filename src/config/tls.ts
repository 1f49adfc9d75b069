import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { ConduitError } from '../errors.ts';

/**
 * TLS of a client connection (MLLP destination, Kafka brokers): PEM file paths, read when the
 * connection is configured. Verification of the peer's certificate is on unless turned off.
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

/**
 * node:tls options from the config, reading the PEM files now: an unreadable file is a
 * configuration error (CONFIG_INVALID at `tls.<field>`), found when the connector is created.
 */
export function loadClientTls(config: ClientTlsConfig): ConnectionOptions {
  const read = (field: 'ca' | 'cert' | 'key'): Buffer | undefined => {
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
  return {
    rejectUnauthorized: config.rejectUnauthorized,
    ...(ca ? { ca: [ca] } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(config.servername ? { servername: config.servername } : {}),
  };
}
