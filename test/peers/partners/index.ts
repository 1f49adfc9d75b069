export { type FormPart, type HttpPeer, isPdfBase64, parseMultipart, PeerError, type RecordedRequest, startHttpPeer, tinyPdf } from './http-peer.ts';
export {
  ALL_PERMISSIONS,
  type HmacIntegration,
  type Integration,
  type LisApiOptions,
  type LisApiPeer,
  type LisPatient,
  type LisTest,
  PERMISSIONS,
  type Permission,
  SANDBOX_LIS,
  startLisApi,
  type TokenIntegration,
} from './lis-api.ts';
export { type ReferenceLabCredentials, type ReferenceLabOptions, type ReferenceLabPeer, type ReportDeliveryOptions, SANDBOX_DOCUS, startReferenceLab } from './reference-lab.ts';
export { type PoolState, type ResultsApiOptions, type ResultsApiPeer, type ResultsApp, SANDBOX_C19T, startResultsApi, TEST_RESULTS, type TestState } from './results-api.ts';
export { sequence } from '../fhir-server/script.ts';
