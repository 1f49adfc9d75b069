import { fhirSenderPlugin } from './fhir/index.ts';
import { fileSenderPlugin } from './file/index.ts';
import { httpSenderPlugin } from './http/destination/index.ts';
import { kafkaSenderPlugin } from './kafka/index.ts';
import { mllpSenderPlugin } from './mllp/index.ts';
import type { SenderPlugin } from './types.ts';

/** The destination kinds the engine knows: a new one is one folder with a plugin object and one line here. */
// `any` erases each plugin's own config type; the loader parses a block with the plugin's schema before create().
// biome-ignore lint/suspicious/noExplicitAny: see above
export const senderPlugins: Record<string, SenderPlugin<any>> = {
  mllp: mllpSenderPlugin,
  fhir: fhirSenderPlugin,
  http: httpSenderPlugin,
  file: fileSenderPlugin,
  kafka: kafkaSenderPlugin,
};
