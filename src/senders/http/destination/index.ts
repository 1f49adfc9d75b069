import type { SenderPlugin } from '../../types.ts';
import { type HttpDestinationConfig, httpDestinationConfig } from './config.ts';
import { HttpSender } from './sender.ts';

export { apiMessage, classifyAnswer, describeAnswer, type ResponseRules, type Verdict } from './classify.ts';
export { HTTP_DESTINATION_DEFAULTS, type HttpDestinationAuth, type HttpDestinationConfig, httpDestinationAuth, httpDestinationConfig } from './config.ts';
export { multipartBody } from './multipart.ts';
export { type RequestAuth, requestAuth } from './request-auth.ts';
export { HttpSender, type HttpSenderOptions } from './sender.ts';

/** The `http` destination kind: partner REST APIs. `create` throws CONFIG_INVALID when a SMART private key is unusable. */
export const httpSenderPlugin: SenderPlugin<HttpDestinationConfig> = {
  kind: 'http',
  module: import.meta.url,
  config: httpDestinationConfig,
  create: (config, deps) => new HttpSender(config, deps),
};
