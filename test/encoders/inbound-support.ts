/**
 * An inbound ORU^R01 through the hl7v2-oru mapping to both outputs: the ORU^R01 read back with
 * our codec, and the FHIR Bundle's resources.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { LabReport } from '../../src/canonical/report.ts';
import type { Encoded } from '../../src/encoders/types.ts';
import { Hl7v2OruSettings, mapOruR01 } from '../../src/mapping/hl7v2-oru/index.ts';
import type { Hl7Message } from '../../src/protocols/hl7v2/index.ts';
import { fhirEncoder } from './mapping-support.ts';
import { CTX, encodeAndParse } from './support.ts';

export const MSH = 'MSH|^~\\&|LIS|LAB|CONDUIT|HOSP|20261120091500+0100||ORU^R01^ORU_R01|C-1|P|2.5.1';
export const PID = 'PID|1||000731^^^NORTH^MR||Doe^Jane||19800102|F';

export interface Through {
  readonly report: LabReport;
  readonly oru: Hl7Message;
  readonly bundle: Bundle;
  resources<T extends Resource>(type: T['resourceType']): T[];
}

export function through(segments: string[], fhirSettings: Record<string, unknown> = {}): Through {
  const [m] = mapOruR01(segments.join('\r'), Hl7v2OruSettings.parse({}));
  const report = m!.report;
  const bundle = JSON.parse((fhirEncoder(fhirSettings).encoder.encode(report, CTX) as Encoded).payload) as Bundle;
  return {
    report,
    oru: encodeAndParse(report),
    bundle,
    resources: <T extends Resource>(type: T['resourceType']) => bundle.entry!.map((e) => e.resource!).filter((r): r is T => r.resourceType === type),
  };
}
