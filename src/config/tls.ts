import { z } from 'zod';

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
