/**
 * A sandbox EHR for trying the FHIR channels by hand: `npm run sandbox:ehr` starts the FHIR
 * server peer (Medplum's FhirRouter over an in-memory repository, validating every write) on
 * 127.0.0.1:8103 (or SANDBOX_EHR_PORT) at /fhir/R4, until Ctrl-C. Nothing is kept on disk.
 * Transactions run entry by entry (see README: FhirRouter refuses conditional transactions
 * above 8 entries).
 */
import { startFhirServer } from './server.ts';

const port = Number(process.env.SANDBOX_EHR_PORT ?? 8103);
const fhir = await startFhirServer({ port, transactions: false });
process.stdout.write(`Sandbox EHR (FHIR R4) at ${fhir.baseUrl}\n  e.g. curl -s '${fhir.baseUrl}/DiagnosticReport?_count=5'\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    fhir.close().then(() => process.exit(0));
  });
}
