/**
 * A sender plugin for tests of the sender thread (src/senders/thread): its send throws outside
 * any promise, as a bug in a sender's socket handler would, which ends the thread it runs on.
 */
import { z } from 'zod';
import type { SenderPlugin } from '../../src/senders/types.ts';

export const crashingSenderPlugin: SenderPlugin<Record<string, never>> = {
  kind: 'crashing',
  module: import.meta.url,
  config: z.object({}).strict(),
  create: () => ({
    send: () => {
      setImmediate(() => {
        throw new Error('a bug in a sender');
      });
      return new Promise(() => {});
    },
    close: async () => {},
  }),
};
