import { z } from 'zod';
import { AcceptedCharsets } from '../text.ts';

export const MllpSourceConfig = z
  .object({
    /** Interface to listen on; 0.0.0.0 for every interface. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    maxFrameBytes: z.number().int().positive().default(16 * 1024 * 1024),
    encoding: z.enum(['utf-8', 'latin1']).default('utf-8'),
    /** MSH-18 values (HL7 table 0211) accepted; absent, every one the engine decodes. An empty MSH-18 means `encoding`. */
    charsets: AcceptedCharsets.optional(),
    /**
     * How to answer, to rehearse a LIS's failures: AA (store, then accept), AE / AR (refuse
     * without storing), silent (store nothing, answer nothing).
     */
    respond: z.enum(['AA', 'AE', 'AR', 'silent']).default('AA'),
    /** Longest wait for the backlog to drain before answering AE, while reads are paused. */
    backpressureWaitMs: z.number().int().positive().default(30_000),
    /** A frame that has begun and then gets no byte for this long is dropped with its connection (the sender sends it again); 0 never. */
    frameTimeoutMs: z.number().int().min(0).default(10_000),
    /** A connection idle between frames for this long is closed; 0 (default) keeps it open, as a LIS often holds one connection for hours. */
    idleTimeoutMs: z.number().int().min(0).default(0),
    /** Payload bytes buffered across the listener's connections; over it, the connection holding the most is dropped. Default maxFrameBytes + 4 MiB, at least 16 MiB. */
    maxBufferedBytes: z.number().int().positive().optional(),
    /** Open connections at most; more are closed as they connect. */
    maxConnections: z.number().int().positive().default(100),
    tls: z
      .object({ cert: z.string(), key: z.string(), ca: z.string().optional(), requestCert: z.boolean().default(false) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.maxBufferedBytes !== undefined && c.maxBufferedBytes < c.maxFrameBytes) {
      ctx.addIssue({ code: 'custom', path: ['maxBufferedBytes'], message: `expected at least maxFrameBytes (${c.maxFrameBytes}), or one frame of the largest size could never be received` });
    }
  });
export type MllpSourceConfig = z.infer<typeof MllpSourceConfig>;
