/**
 * The partner sandboxes on fixed loopback ports, for trying the partner sample channels by
 * hand (`node test/peers/partners/start.ts`, then enable the channels and `npm start`):
 *
 * - reference lab (seed 001) on 127.0.0.1:8104; interpretation reports are delivered to the
 *   docus-report-delivery channel on 127.0.0.1:8080, signed with DOCUS_DELIVERY_SECRET;
 * - results API (seed 002) on 127.0.0.1:8105, token endpoint /connect/token; any test code is
 *   taken as checked in;
 * - LIS partner API (seed 004) on 127.0.0.1:8106.
 *
 * The credentials are the SANDBOX_* values the sample channels carry.
 */
import { SANDBOX_C19T, SANDBOX_DOCUS, SANDBOX_LIS, startLisApi, startReferenceLab, startResultsApi } from './index.ts';

/** The secret the docus-report-delivery channel verifies; the sandbox's, not a real one. */
export const SANDBOX_DOCUS_DELIVERY_SECRET = 'sandbox-docus-delivery-secret';

const lab = await startReferenceLab({
  port: 8104,
  delivery: { url: process.env['DOCUS_DELIVERY_URL'] ?? 'http://127.0.0.1:8080/channels/docus-report-delivery', secret: process.env['DOCUS_DELIVERY_SECRET'] ?? SANDBOX_DOCUS_DELIVERY_SECRET },
  autoDeliver: true,
});
const results = await startResultsApi({ port: 8105, autoCheckIn: true });
const lis = await startLisApi({ port: 8106 });
process.stdout.write(
  [
    `reference lab (seed 001)   ${lab.url}   x-api-key ${SANDBOX_DOCUS.apiKey}, x-team-id ${SANDBOX_DOCUS.teamId}, x-auth-key ${SANDBOX_DOCUS.authKey}`,
    `results API (seed 002)     ${results.url}   paths under /v1, token ${results.tokenUrl}, client_id ${SANDBOX_C19T.organizationId}:${SANDBOX_C19T.appId}`,
    `LIS partner API (seed 004) ${lis.url}/api/v1   Authorization: Bearer ${SANDBOX_LIS.token}`,
    '',
  ].join('\n'),
);
const stop = async () => {
  await Promise.all([lab.close(), results.close(), lis.close()]);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
