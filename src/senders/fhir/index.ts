import type { SenderPlugin } from '../types.ts';
import { type FhirDestinationConfig, fhirDestinationConfig } from './config.ts';
import { FhirSender } from './sender.ts';

export { classifyAnswer, inspectBundle, operationOutcomeText, summarizeStatuses } from './classify.ts';
export { FHIR_DESTINATION_DEFAULTS, type FhirDestinationConfig, fhirDestinationConfig } from './config.ts';
export { FhirSender, type FhirSenderOptions } from './sender.ts';

/** The `fhir` destination kind. `create` throws CONFIG_INVALID when a SMART private key is unusable. */
export const fhirSenderPlugin: SenderPlugin<FhirDestinationConfig> = {
  kind: 'fhir',
  module: import.meta.url,
  config: fhirDestinationConfig,
  create: (config, deps) => new FhirSender(config, deps),
};
