import type { SenderPlugin } from '../types.ts';
import { type MllpDestinationConfig, mllpDestinationConfig } from './config.ts';
import { MllpSender } from './sender.ts';

export { MLLP_DESTINATION_DEFAULTS, type MllpDestinationConfig, type MllpDestinationTlsConfig, mllpDestinationConfig } from './config.ts';
export { MllpSender } from './sender.ts';

/** The `mllp` destination kind. `create` throws CONFIG_INVALID when a TLS file cannot be read. */
export const mllpSenderPlugin: SenderPlugin<MllpDestinationConfig> = {
  kind: 'mllp',
  module: import.meta.url,
  config: mllpDestinationConfig,
  create: (config, deps) => new MllpSender(config, deps),
};
