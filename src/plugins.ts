import { fileSourcePlugin } from './sources/file/index.ts';
import { kafkaSourcePlugin } from './sources/kafka/index.ts';
import { mllpSourcePlugin } from './sources/mllp/index.ts';
import { restSourcePlugin } from './sources/rest/index.ts';
import type { SourcePlugin } from './sources/types.ts';
import { webhookSourcePlugin } from './sources/webhook/index.ts';

/**
 * The connectors the engine knows. A new source or destination is one folder with a plugin
 * object and one line here (a destination: in senders/plugins.ts); the core never changes for it.
 */
// `any` erases each plugin's own config type; the loader parses a block with the plugin's schema before create().
// biome-ignore lint/suspicious/noExplicitAny: see above
export const sourcePlugins: Record<string, SourcePlugin<any>> = {
  webhook: webhookSourcePlugin,
  mllp: mllpSourcePlugin,
  rest: restSourcePlugin,
  file: fileSourcePlugin,
  kafka: kafkaSourcePlugin,
};

// The destinations are listed in senders/plugins.ts: the sender thread (senders/thread) loads them without the sources.
export { senderPlugins } from './senders/plugins.ts';
