import type { SourcePlugin } from '../types.ts';
import { MllpSourceConfig } from './config.ts';
import { createMllpSource } from './source.ts';

export const mllpSourcePlugin: SourcePlugin<MllpSourceConfig> = {
  kind: 'mllp',
  config: MllpSourceConfig,
  endpoints: (config) => (config.port === 0 ? [] : [`tcp ${config.host}:${config.port}`]),
  create: createMllpSource,
};
