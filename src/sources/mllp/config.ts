import { z } from 'zod';

export const MllpSourceConfig = z
  .object({
    /** Interface to listen on; 0.0.0.0 for every interface. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    maxFrameBytes: z.number().int().positive().default(16 * 1024 * 1024),
    encoding: z.enum(['utf-8', 'latin1']).default('utf-8'),
    /**
     * How to answer, to rehearse a LIS's failures: AA (store, then accept), AE / AR (refuse
     * without storing), silent (store nothing, answer nothing).
     */
    respond: z.enum(['AA', 'AE', 'AR', 'silent']).default('AA'),
    /** Longest wait for the backlog to drain before answering AE, while reads are paused. */
    backpressureWaitMs: z.number().int().positive().default(30_000),
    tls: z
      .object({ cert: z.string(), key: z.string(), ca: z.string().optional(), requestCert: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict();
export type MllpSourceConfig = z.infer<typeof MllpSourceConfig>;
