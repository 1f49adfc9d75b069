import type { SourcePlugin } from '../types.ts';
import { KafkaSourceConfig, kafkaGroupId } from './config.ts';
import { createKafkaSource } from './source.ts';

export { KAFKA_SOURCE_DEFAULTS, KafkaSourceConfig, kafkaGroupId } from './config.ts';

/**
 * The `kafka` source kind. It claims its consumer group on its brokers: two channels in one
 * group would split the topic's partitions between them.
 */
export const kafkaSourcePlugin: SourcePlugin<KafkaSourceConfig> = {
  kind: 'kafka',
  config: KafkaSourceConfig,
  endpoints: (config, channelId) => [`kafka group ${kafkaGroupId(config, channelId)} at ${[...config.brokers].sort().join(',')}`],
  create: createKafkaSource,
};
