import { z } from 'zod';
import { ClientTlsConfig } from '../../config/tls.ts';

/** Defaults of the MLLP destination, in one place, with their units. */
export const MLLP_DESTINATION_DEFAULTS = Object.freeze({
  connectTimeoutMs: 5_000, // 5 seconds, TCP connect plus TLS handshake
  ackTimeoutMs: 10_000, // 10 seconds from writing the message to its ACK
  maxFrameBytes: 16 * 1024 * 1024, // 16 MiB, largest ACK accepted
  encoding: 'utf-8',
} as const);

const positiveMs = z.number().int().positive();

const tlsConfig = ClientTlsConfig;

/** Configuration of one MLLP destination. Unknown keys are errors. */
export const mllpDestinationConfig = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    connectTimeoutMs: positiveMs.default(MLLP_DESTINATION_DEFAULTS.connectTimeoutMs),
    ackTimeoutMs: positiveMs.default(MLLP_DESTINATION_DEFAULTS.ackTimeoutMs),
    maxFrameBytes: z.number().int().positive().default(MLLP_DESTINATION_DEFAULTS.maxFrameBytes),
    /** Character encoding of the messages and ACKs on the wire. */
    encoding: z.enum(['utf-8', 'latin1']).default(MLLP_DESTINATION_DEFAULTS.encoding),
    tls: tlsConfig.optional(),
  })
  .strict();

export type MllpDestinationConfig = z.infer<typeof mllpDestinationConfig>;
export type MllpDestinationTlsConfig = z.infer<typeof tlsConfig>;
