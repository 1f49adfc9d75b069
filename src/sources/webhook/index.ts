import type { SourcePlugin } from '../types.ts';
import { WebhookSourceConfig } from './config.ts';
import { createWebhookSource, webhookPath } from './source.ts';

export const webhookSourcePlugin: SourcePlugin<WebhookSourceConfig> = {
  kind: 'webhook',
  config: WebhookSourceConfig,
  endpoints: (config, channelId) => [`http ${webhookPath(channelId, config)}`],
  create: createWebhookSource,
};
export { webhookPath };
