import type { SourcePlugin } from '../types.ts';
import { RestSourceConfig } from './config.ts';
import { createRestSource, restPath } from './source.ts';

export const restSourcePlugin: SourcePlugin<RestSourceConfig> = {
  kind: 'rest',
  config: RestSourceConfig,
  endpoints: (config, channelId) => [`http ${restPath(channelId, config)}`, `http ${restPath(channelId, config)}/*`],
  create: createRestSource,
};
export { restPath };
