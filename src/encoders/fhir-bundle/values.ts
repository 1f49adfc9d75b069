import type { CodeableConcept, Coding, Observation, Quantity } from '@medplum/fhirtypes';
import { toFhirDateTime } from '../../canonical/datetime.ts';
import type { CodeTable } from '../../mapping/tables/table.ts';

/**
 * FHIR value[x], reference ranges and interpretations from values as sent. Nothing is
 * computed: a number is written with the digits it was sent with, and anything that is not
 * a plain number, a comparator with a number or a ratio stays text.
 */

/** FHIR decimal (and JSON number) syntax. */
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/;
const COMPARATOR = /^(<=|>=|<|>)\s*([+-]?(?:\d+(?:\.\d+)?|\.\d+))$/;
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

/** R4 core extension: the text as sent, for a value written in another form. */
export const ORIGINAL_TEXT = 'http://hl7.org/fhir/StructureDefinition/originalText';

/** A number with an optional sign and leading zeros, as analysers and forms write them: '+5', '007', '.5'. */
const NUMBER_AS_SENT = /^([+-]?)(\d*)(?:\.(\d+))?$/;

/**
 * The FHIR decimal of a number as sent, with its digits kept: a '+' and leading zeros go,
 * trailing zeros stay ('+05.40' → '5.40'). Undefined for anything else, an exponent included
 * ('1e3' stays text rather than become 1000).
 */
export function decimalOf(text: string): string | undefined {
  if (DECIMAL.test(text)) return text;
  const m = NUMBER_AS_SENT.exec(text);
  if (!m || (m[2] === '' && m[3] === undefined)) return undefined;
  const whole = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  return `${m[1] === '-' ? '-' : ''}${whole}${m[3] !== undefined ? `.${m[3]}` : ''}`;
}

/** The element with the text as sent in an originalText extension, when its own form is not that text. */
function asSent<T extends object>(element: T, written: string, text: string): T {
  return written === text ? element : { extension: [{ url: ORIGINAL_TEXT, valueString: text }], ...element };
}

/**
 * value[x] from the text as sent, never recalculated:
 * - a number (with a comparator: valueQuantity.comparator; a ratio without unit: valueRatio)
 *   keeps its digits; written in another form than sent ('+5', '007', '< 0.5'), the text as
 *   sent goes with it in the originalText extension, so numeric search works and nothing is lost;
 * - surrounding spaces make text: valueString exactly as sent; except that a value the source
 *   declared a number (HL7 v2 NM) is one whatever its padding (HL7 NM has no spaces), with
 *   the padded text in originalText, as the ORU^R01 sends it as NM;
 * - anything else (an exponent, words, a range) is valueString as sent.
 */
export function observationValue(text: string, u: UnitInfo, declaredType?: string): ValueX {
  const trimmed = text.trim();
  const v = trimmed === text || declaredType?.toUpperCase() === 'NM' ? trimmed : undefined;
  if (v === undefined) return { valueString: text };
  const n = decimalOf(v);
  if (n !== undefined) return { valueQuantity: asSent(quantity(n, u), n, text) };
  const cmp = COMPARATOR.exec(v);
  const cmpNumber = cmp ? decimalOf(cmp[2]!) : undefined;
  if (cmp && cmpNumber !== undefined) {
    return { valueQuantity: asSent({ ...quantity(cmpNumber, u), comparator: cmp[1] as Quantity['comparator'] }, `${cmp[1]}${cmpNumber}`, text) };
  }
  const ratio = RATIO.exec(v);
  if (ratio && !u.unit) {
    return { valueRatio: asSent({ numerator: { value: decimal(ratio[1]!) }, denominator: { value: decimal(ratio[2]!) } }, `${ratio[1]}:${ratio[2]}`, text) };
  }
  return { valueString: text };
}

const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';

/**
 * Observation.dataAbsentReason for an observation without a value (obs-6: never with one):
 * not-performed when cancelled (HL7 OBX-11 X or N), temp-unknown while pending or
 * preliminary, unknown otherwise (a deleted value, HL7 `""`, or none sent). The text the
 * source sent in place of a value (a cancelled test's "not done") is its text.
 */
export function dataAbsentReason(status: string, text: string): CodeableConcept {
  const code = status === 'cancelled' ? 'not-performed' : status === 'registered' || status === 'preliminary' ? 'temp-unknown' : 'unknown';
  const display = { 'not-performed': 'Not Performed', 'temp-unknown': 'Temporarily Unknown', unknown: 'Unknown' }[code];
  return { coding: [{ system: DATA_ABSENT, code, display }], ...(text.trim() !== '' ? { text } : {}) };
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
export function interpretation(flags: readonly string[], table?: CodeTable, sent?: readonly SentFlag[]): CodeableConcept[] {
  return flags
    .map((f, i) => ({ f, coded: sent?.[i] }))
    .filter(({ f }) => f.trim() !== '')
    .map(({ f, coded }) => {
      if (coded && coded.codings[0]?.code === f && coded.codings.length > 0) return codedFlag(f, coded);
      const display = Object.hasOwn(V3_INTERPRETATION, f) ? V3_INTERPRETATION[f] : undefined;
      if (display) return { coding: [{ system: V3_SYSTEM, code: f, display }], text: f };
      const row = table?.rows.get(f);
      if (row?.fhir_code) return { coding: [{ system: V3_SYSTEM, code: row.fhir_code, ...(row.fhir_display ? { display: row.fhir_display } : {}) }], text: f };
      return { text: f };
    });
}

/** A flag the source coded (HL7 v2.7 OBX-8 CWE): its codings with FHIR systems, and its text. */
export interface SentFlag {
  readonly codings: Coding[];
  readonly text?: string | undefined;
}

const V2_0078 = 'http://terminology.hl7.org/CodeSystem/v2-0078';

/**
 * A coded flag as sent: code, display and system; a code of table 0078 (HL7 v2 system HL70078,
 * or none) is the v3 ObservationInterpretation code it equals. The text is the original text,
 * else the display as sent, else the flag.
 */
function codedFlag(f: string, sent: SentFlag): CodeableConcept {
  const coding = sent.codings.map((c) => {
    if (c.system === V2_0078 && c.code !== undefined && Object.hasOwn(V3_INTERPRETATION, c.code)) {
      return { system: V3_SYSTEM, code: c.code, display: c.display ?? V3_INTERPRETATION[c.code] };
    }
    return c;
  });
  return { coding, text: sent.text ?? f };
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
