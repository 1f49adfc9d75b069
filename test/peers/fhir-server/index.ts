export { type FhirServerOptions, type FhirServerPeer, loadFhirDefinitions, type RecordedRequest, startFhirServer, ValidatingRepository } from './server.ts';
export { operationOutcome, type Script, type ScriptedAnswer, type ScriptedRequest, sequence } from './script.ts';
