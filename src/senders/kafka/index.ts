import type { SenderPlugin } from '../types.ts';
import { type KafkaDestinationConfig, kafkaDestinationConfig } from './config.ts';
import { KafkaSender } from './sender.ts';

export { KAFKA_DESTINATION_DEFAULTS, type KafkaDestinationConfig, kafkaDestinationConfig } from './config.ts';
export { KafkaSender } from './sender.ts';

/** The `kafka` destination kind. `create` throws CONFIG_INVALID when a TLS file cannot be read. */
export const kafkaSenderPlugin: SenderPlugin<KafkaDestinationConfig> = {
  kind: 'kafka',
  module: import.meta.url,
  config: kafkaDestinationConfig,
  create: (config, deps) => new KafkaSender(config, deps),
};
