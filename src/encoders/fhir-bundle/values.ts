import type { CodeableConcept, Observation, Quantity } from '@medplum/fhirtypes';
import { toFhirDateTime } from '../../canonical/datetime.ts';
import type { CodeTable } from '../../mapping/tables/table.ts';

/**
 * FHIR value[x], reference ranges and interpretations from values as sent. Nothing is
 * computed: a number is written with the digits it was sent with, and anything that is not
 * a plain number, a comparator with a number or a ratio stays text.
 */

/** FHIR decimal (and JSON number) syntax. */
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/;
const COMPARATOR = /^(<=|>=|<|>)\s*(-?(?:0|[1-9]\d*)(?:\.\d+)?)$/;
const RATIO = /^((?:0|[1-9]\d*)(?:\.\d+)?)\s*:\s*((?:0|[1-9]\d*)(?:\.\d+)?)$/;
const INTERVAL = /^\s*(-?(?:0|[1-9]\d*)(?:\.\d+)?)\s*(?:-|–|\.\.)\s*(-?(?:0|[1-9]\d*)(?:\.\d+)?)\s*$/;

/**
 * JSON.stringify would write 6.0 as 6 and 1.250 as 1.25; FHIR decimals keep their precision.
 * Decimals are carried as marked strings and unmarked after serialising (see `toJson`).
 */
const MARK = '\u0000decimal:';
export type Decimal = number;
export function decimal(text: string): Decimal {
  return `${MARK}${text}` as unknown as number;
}

/** Serialises a resource, writing marked decimals as JSON numbers with their digits as sent. */
export function toJson(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000decimal:(-?[0-9.]+)"/g, '$1');
}

export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}

export interface UnitInfo {
  unit?: string;
  ucum?: string;
}

function quantity(value: string, u: UnitInfo): Quantity {
  return {
    value: decimal(value),
    ...(u.unit ? { unit: u.unit } : {}),
    ...(u.ucum ? { system: 'http://unitsofmeasure.org', code: u.ucum } : {}),
  };
}

type ValueX = Pick<Observation, 'valueQuantity' | 'valueString' | 'valueRatio'>;

export function observationValue(text: string, u: UnitInfo): ValueX {
  const v = text.trim();
  if (DECIMAL.test(v)) return { valueQuantity: quantity(v, u) };
  const cmp = COMPARATOR.exec(v);
  if (cmp) return { valueQuantity: { ...quantity(cmp[2]!, u), comparator: cmp[1] as Quantity['comparator'] } };
  const ratio = RATIO.exec(v);
  if (ratio && !u.unit) return { valueRatio: { numerator: { value: decimal(ratio[1]!) }, denominator: { value: decimal(ratio[2]!) } } };
  return { valueString: text };
}

/** Reference range: the text always; low and high only for a plain numeric interval. */
export function referenceRange(text: string, u: UnitInfo): NonNullable<Observation['referenceRange']>[number] {
  const m = INTERVAL.exec(text);
  if (!m) return { text };
  return { low: quantity(m[1]!, u), high: quantity(m[2]!, u), text };
}

/** Codes of http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation that analysers send as flags. */
const V3_INTERPRETATION: Record<string, string> = {
  L: 'Low', H: 'High', LL: 'Critical low', HH: 'Critical high', LU: 'Significantly low', HU: 'Significantly high',
  N: 'Normal', A: 'Abnormal', AA: 'Critical abnormal', '<': 'Off scale low', '>': 'Off scale high',
  I: 'Intermediate', R: 'Resistant', S: 'Susceptible', MS: 'moderately susceptible', VS: 'very susceptible',
  SDD: 'Susceptible-dose dependent', NS: 'Non-susceptible', POS: 'Positive', NEG: 'Negative', IND: 'Indeterminate',
  DET: 'Detected', ND: 'Not detected', E: 'Equivocal', EX: 'outside threshold', HX: 'above high threshold', LX: 'below low threshold',
  U: 'Significant change up', D: 'Significant change down', B: 'Better', W: 'Worse', IE: 'Insufficient evidence', NR: 'Non-reactive', RR: 'Reactive', WR: 'Weakly reactive',
};

const V3_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/**
 * One CodeableConcept per analyser flag: coded where the flag is a v3 interpretation code, else
 * where the flags table maps it (`fhir_code`, `fhir_display`), text otherwise. The flag as sent
 * is always the text.
 */
export function interpretation(flags: readonly string[], table?: CodeTable): CodeableConcept[] {
  return flags
    .filter((f) => f.trim() !== '')
    .map((f) => {
      const display = Object.hasOwn(V3_INTERPRETATION, f) ? V3_INTERPRETATION[f] : undefined;
      if (display) return { coding: [{ system: V3_SYSTEM, code: f, display }], text: f };
      const row = table?.rows.get(f);
      if (row?.fhir_code) return { coding: [{ system: V3_SYSTEM, code: row.fhir_code, ...(row.fhir_display ? { display: row.fhir_display } : {}) }], text: f };
      return { text: f };
    });
}

/**
 * FHIR dateTime from ISO text: the sender's offset is kept; a time without one gets
 * `offsetForLocalTimes` (FHIR requires a zone once there is a time).
 */
export function fhirDateTime(iso: string, offsetForLocalTimes: string): string {
  return toFhirDateTime(iso, offsetForLocalTimes) ?? iso;
}

/** FHIR instant (Bundle.timestamp, DiagnosticReport.issued) needs a full date and time. */
export function fhirInstant(iso: string, offsetForLocalTimes: string): string | undefined {
  const dt = fhirDateTime(iso, offsetForLocalTimes);
  return /^\d{4}-\d{2}-\d{2}T/.test(dt) ? dt : undefined;
}
