import type { AssigningAuthority, CodedConcept, Coding, Highlighting, LabReport, Observation } from '../../canonical/report.ts';
import { DEFAULT_DELIMITERS, encodeSegment, type FieldInput, formatMessage, HL7_NULL, isoToDtm, type RepetitionInput } from '../../protocols/hl7v2/index.ts';
import { isLoinc, isUcum } from '../../mapping/hl7v2-oru/fields.ts';
import type { CodeTable } from '../../mapping/tables/table.ts';
import { loincWarnings, withStandardCodes } from '../codes.ts';
import type { EncodeContext, Encoded, Encoder, SyncEncoder } from '../types.ts';
import { applyEdits } from './apply.ts';
import type { OruEdits } from './edits.ts';
import type { OruR01Settings } from './settings.ts';
import { documentStatus, statusCodes } from './status.ts';
import { declaredValue, retypeWarnings } from './value-type.ts';

const d = DEFAULT_DELIMITERS;

/** HL7 table 0001 (PID-8, administrative sex). */
const SEX = { female: 'F', male: 'M', other: 'O', unknown: 'U' } as const;

function hd(v: OruR01Settings['sendingApplication'] | undefined): FieldInput {
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  return [v.namespace, v.universalId, v.universalIdType];
}

function dtm(iso: string | undefined): string | undefined {
  return iso === undefined ? undefined : isoToDtm(iso);
}

/**
 * A CWE with every coding of the concept in the place it was sent: the code in CWE-1..3, its
 * alternates in CWE-4..6 and CWE-10..12 (the v2.7 second alternate, which a v2.5.1 receiver
 * may read as extra components), versions in CWE-7, -8, -13, the original text in CWE-9.
 * Where the source sent one code alone and it is not LOINC, LOINC (from the source or the
 * tables) becomes the alternate. Without `localSystem`, every system goes out as sent.
 */
function cwe(code: CodedConcept, localSystem: string | undefined, loinc?: Coding, text?: string, mark = false): RepetitionInput {
  const sent = [code, ...(code.alternates ?? [])];
  const codings = loinc && sent.length === 1 && !isLoinc(code.system) ? [code, { ...loinc, system: 'LN' }] : sent;
  const out: (string | undefined)[] = [];
  codings.slice(0, 3).forEach((c, i) => {
    const at = i === 2 ? 9 : i * 3;
    const textOnly = i === 0 && code.textOnly === true;
    out[at] = textOnly ? undefined : c.code;
    const display = textOnly ? c.code : c.display;
    const shown = i === 0 && text !== undefined ? text : display;
    out[at + 1] = shown === display ? marks(display, c.displayHighlighting, mark) : shown;
    const local = localSystem !== undefined && (c.system === 'L' || (!c.system && !code.nullComponents?.includes(at + 3)));
    out[at + 2] = local ? localSystem : c.system;
    out[i === 2 ? 12 : 6 + i] = c.version;
  });
  out[8] = marks(code.originalText, code.originalTextHighlighting, mark);
  return Array.from(withNulls(out, code), (c) => c ?? null);
}

/** A CE/CWE exactly as sent: every triplet in its place, no system filled in. */
function cweAsSent(code: CodedConcept, mark = false): RepetitionInput {
  return cwe(code, undefined, undefined, undefined, mark);
}

/**
 * OBX-6: the unit as sent (every triplet and the text) where the source coded it, with the
 * UCUM code a table found as the alternate when the source sent none; else UCUM ^ text ^ UCUM,
 * or the unit alone.
 */
function unitField(o: Observation, mark: boolean): FieldInput {
  const u = o.unitCoding;
  if (u) {
    const sent = [u, ...(u.alternates ?? [])];
    const hasUcum = sent.some((c) => isUcum(c.system));
    if (hasUcum || !o.ucum || sent.length > 1) return cweAsSent(u, mark);
    return cweAsSent({ ...u, alternates: [{ code: o.ucum, display: o.unit ?? o.ucum, system: 'UCUM' }] }, mark);
  }
  if (o.unit === undefined || o.unit === '') return undefined;
  return o.ucum ? [o.ucum, o.unit, 'UCUM'] : [o.unit];
}

/** OBX-8: each flag, as the coded element it was sent as where the source coded it (and a table did not map it). */
function flagsField(o: Observation, mark: boolean): FieldInput {
  return { repeat: o.flags.map((f, i) => { const c = o.flagCodings?.[i]; return c && c.code === f ? cweAsSent(c, mark) : f; }) };
}

/** XPN-1..3: family, given, further given; a component sent as the HL7 null goes back as `""` in its place. */
function personName(p: NonNullable<LabReport['patient']>, mark: boolean): FieldInput {
  const isNull = (n: number) => p.nameNulls?.includes(n) ?? false;
  const h = p.nameHighlighting;
  const named = p.given.map((g, i) => marks(g, h?.given?.[i], mark)!);
  const given = isNull(2) ? [HL7_NULL, ...named] : named;
  return [isNull(1) ? HL7_NULL : marks(p.family, h?.family, mark), given[0], given.slice(1).join(' ') || (isNull(3) ? HL7_NULL : null)];
}

/** Components sent as the HL7 null go back as `""` where nothing else is written. */
function withNulls(out: (string | undefined)[], code: CodedConcept): (string | undefined)[] {
  for (const n of code.nullComponents ?? []) if (out[n - 1] === undefined) out[n - 1] = HL7_NULL;
  return out;
}

/** An EI: the number, and who assigned it (namespace ^ universal id ^ its type) as sent. */
function ei(id: string | undefined, a: AssigningAuthority | undefined): FieldInput {
  if (id === undefined || !a) return id;
  return [id, a.namespace ?? null, a.universalId ?? null, a.universalIdType ?? null];
}

/**
 * Canonical report → HL7 v2.5.1 ORU^R01 (MSH, PID, PV1, ORC, OBR, OBX…, NTE).
 * Values, units, ranges and flags go out as sent; escaping is done by the codec.
 */
export function encodeOruR01(report: LabReport, ctx: EncodeContext, s: OruR01Settings): string {
  const statuses = statusCodes(report);
  const segments: string[] = [];
  const msh: FieldInput[] = [];
  msh[3] = hd(s.sendingApplication);
  msh[4] = hd(s.sendingFacility);
  msh[5] = hd(s.receivingApplication);
  msh[6] = hd(s.receivingFacility);
  msh[7] = isoToDtm(ctx.createdAt);
  msh[9] = ['ORU', 'R01', 'ORU_R01'];
  msh[10] = ctx.controlId;
  msh[11] = s.processingId;
  msh[12] = '2.5.1';
  msh[15] = s.acceptAckType;
  msh[16] = s.applicationAckType;
  msh[18] = 'UNICODE UTF-8';
  segments.push(encodeSegment('MSH', msh, d));

  // Fields the source sent as the HL7 null go back as `""` where they were.
  const sentNull = (field: NonNullable<LabReport['nulls']>[number], value: FieldInput): FieldInput => (report.nulls?.includes(field) ? HL7_NULL : value);
  const p = report.patient;
  if (p) {
    const pid: FieldInput[] = [];
    pid[1] = '1';
    // CX-4 as the source sent it (namespace & universal id & its type), else the system's name.
    pid[3] = sentNull('patientIdentifiers', {
      repeat: p.identifiers.map((i) => {
        const a = i.assigningAuthority;
        return [i.value, null, null, a ? [a.namespace, a.universalId, a.universalIdType] : i.system, i.type];
      }),
    });
    // PID-5 is required; a patient known only by identifier gets name type U (unspecified).
    const name = (mark: boolean) => sentNull('patientName', p.family || p.given.length > 0 ? personName(p, mark) : [null, null, null, null, null, null, 'U']);
    pid[7] = sentNull('birthDate', p.birthDate?.replaceAll('-', ''));
    pid[8] = sentNull('sex', p.sex ? SEX[p.sex] : undefined);
    segments.push(
      encodeMarked('PID', (mark) => {
        pid[5] = name(mark);
        return pid;
      }),
    );
    if (report.encounter || report.nulls?.includes('encounter')) {
      const pv1: FieldInput[] = [];
      pv1[1] = '1';
      pv1[2] = s.patientClass;
      pv1[19] = sentNull('encounter', report.encounter?.id);
      segments.push(encodeSegment('PV1', pv1, d));
    }
  }

  const placer = sentNull('placerNumber', ei(report.order?.id, report.order?.placerAuthority));
  const filler = sentNull('fillerNumber', report.order?.accession !== undefined ? ei(report.order.accession, report.order.fillerAuthority) : report.id);
  const orc: FieldInput[] = [];
  orc[1] = 'RE';
  orc[2] = placer;
  orc[3] = filler;
  orc[9] = dtm(report.issuedAt);
  segments.push(encodeSegment('ORC', orc, d));

  const obr: FieldInput[] = [];
  obr[1] = '1';
  obr[2] = placer;
  obr[3] = filler;
  obr[7] = sentNull('observedAt', dtm(report.observedAt ?? report.observations[0]?.observedAt));
  obr[22] = sentNull('issuedAt', dtm(report.issuedAt));
  obr[25] = statuses.obr;
  segments.push(
    encodeMarked('OBR', (mark) => {
      obr[4] = serviceCode(report, s, mark);
      return obr;
    }),
  );
  report.comments?.forEach((c, i) => {
    segments.push(encodeNote(i, c, report.commentHighlighting?.[i]));
  });

  let setId = 0;
  for (const [i, o] of report.observations.entries()) {
    segments.push(encodeObx(++setId, o, statuses.obx[i]!, report, s));
    o.comments.forEach((c, i) => {
      segments.push(encodeNote(i, c, o.commentHighlighting?.[i]));
    });
  }
  for (const a of report.attachments) {
    const obx: FieldInput[] = [];
    obx[1] = String(++setId);
    obx[2] = 'ED';
    obx[3] = ['DOC', a.title ?? 'Attached document', s.localCodingSystem];
    const [type, subtype] = mediaType(a.contentType);
    obx[5] = [null, type, subtype, 'Base64', a.dataBase64.replace(/\s+/g, '')];
    obx[11] = documentStatus(report);
    segments.push(encodeSegment('OBX', obx, d));
  }
  return formatMessage(segments);
}

function serviceCode(report: LabReport, s: OruR01Settings, mark: boolean): FieldInput {
  if (report.panel) return cwe(report.panel, s.localCodingSystem, undefined, undefined, mark);
  const only = report.observations.length === 1 ? report.observations[0] : undefined;
  if (only) return cwe(only.code, s.localCodingSystem, only.loinc, undefined, mark);
  return [s.defaultService.code, s.defaultService.display, s.defaultService.system];
}

function observationFields(setId: number, o: Observation, status: string, report: LabReport, s: OruR01Settings, mark: boolean): FieldInput[] {
  const typed = o.valueCoding ? { type: 'CWE' as const, value: codedValue(o, s, mark) } : declaredValue(o);
  if (mark && typed.value === o.value) typed.value = withMarks(o.value, o.highlighting ?? []);
  const obx: FieldInput[] = [];
  obx[1] = String(setId);
  obx[2] = typed.type;
  obx[3] = cwe(o.code, s.localCodingSystem, o.loinc, undefined, mark);
  // OBX-4 as sent: it ties the results of one isolate or one repeat together.
  obx[4] = o.subId;
  obx[5] = typed.value;
  const sentNull = (field: NonNullable<Observation['nulls']>[number], value: FieldInput) => (o.nulls?.includes(field) ? HL7_NULL : value);
  obx[6] = sentNull('unit', unitField(o, mark));
  obx[7] = sentNull('referenceRange', o.referenceRange);
  obx[8] = sentNull('flags', flagsField(o, mark));
  obx[11] = status;
  obx[14] = sentNull('observedAt', dtm(o.observedAt));
  obx[16] = sentNull('operator', report.operator ? [report.operator.id, report.operator.name] : undefined);
  const dev = report.device;
  obx[18] = sentNull('device', dev && (dev.serial || dev.id) ? [dev.serial ?? dev.id, dev.model] : undefined);
  return obx;
}

/**
 * Highlighting (`\H\`, `\N\`) goes back where it was sent. The codec escapes every leaf, so
 * the value carries a private-use character at each place, replaced by the escape once the
 * segment is encoded; a segment that has such characters of its own goes out without it.
 */
const MARK = { H: '\uE000', N: '\uE001' } as const;
const MARKS = /[\uE000\uE001]/;

/** A text of a coded element, with its highlighting marked when `mark`. */
function marks(text: string | undefined, highlighting: Highlighting | undefined, mark: boolean): string | undefined {
  return mark && text !== undefined && highlighting ? withMarks(text, highlighting) : text;
}

function withMarks(text: string, highlighting: Highlighting): string {
  let out = text;
  for (const h of [...highlighting].reverse()) out = out.slice(0, h.at) + MARK[h.escape] + out.slice(h.at);
  return out;
}

const unmark = (segment: string): string => segment.replaceAll(MARK.H, `${d.escape}H${d.escape}`).replaceAll(MARK.N, `${d.escape}N${d.escape}`);

/**
 * A segment whose fields `build` gives, with the highlighting marked when asked to. Built
 * marked first: without a mark in it (no highlighting, the common case) it is the plain
 * segment, encoded once.
 */
function encodeMarked(name: string, build: (mark: boolean) => FieldInput[]): string {
  const marked = encodeSegment(name, build(true), d);
  if (!MARKS.test(marked)) return marked;
  const plain = encodeSegment(name, build(false), d);
  return MARKS.test(plain) ? plain : unmark(marked);
}

/** An NTE (set id, source L, the comment), its highlighting where it was sent. */
function encodeNote(i: number, text: string, highlighting: Highlighting | undefined): string {
  return encodeMarked('NTE', (mark) => [null, String(i + 1), 'L', marks(text, highlighting, mark)]);
}

function encodeObx(setId: number, o: Observation, status: string, report: LabReport, s: OruR01Settings): string {
  return encodeMarked('OBX', (mark) => observationFields(setId, o, status, report, s, mark));
}

/** OBX-5 of a coded value: each repetition sent, the first with the value's text. */
function codedValue(o: Observation, s: OruR01Settings, mark: boolean): FieldInput {
  const v = o.valueCoding!;
  const first = cwe(v, s.localCodingSystem, undefined, v.textOnly ? undefined : (v.display ?? o.value), mark);
  if (!o.moreValueCodings) return first;
  return { repeat: [first, ...o.moreValueCodings.map((c) => cwe(c, s.localCodingSystem, undefined, undefined, mark))] };
}

/** ED-2 type of data (table 0191) and ED-3 subtype for a MIME type. */
function mediaType(contentType: string): [string, string] {
  const [major = '', minor = ''] = contentType.toLowerCase().split(';')[0]!.trim().split('/');
  const type = major === 'image' ? 'IM' : major === 'text' ? 'TEXT' : major === 'audio' ? 'AU' : 'AP';
  return [type, minor.toUpperCase()];
}

/** The code tables the ORU^R01 encoder reads, by their names under `tables:`: analytes and units (LOINC, UCUM), flags (table 0078). */
export interface OruR01Tables {
  readonly analytes?: CodeTable | undefined;
  readonly units?: CodeTable | undefined;
  readonly flags?: CodeTable | undefined;
}

/**
 * The report as it is encoded: LOINC (the CWE-4..6 alternate of OBX-3) and UCUM (OBX-6) from
 * the tables where the report has none, and with `mapFlags` the analyser flags in HL7 table 0078
 * (the `hl7_0078` column of the flags table; a flag it does not map goes out as sent).
 */
export function withTableCodes(report: LabReport, s: OruR01Settings, tables: OruR01Tables): { report: LabReport; warnings: string[] } {
  const codes = withStandardCodes(report, tables);
  const warnings = loincWarnings(codes, tables.analytes?.file);
  if (!s.mapFlags || !tables.flags) return { report: codes.report, warnings };
  const flags = tables.flags;
  const unmapped = new Set<string>();
  const observations = codes.report.observations.map((o) => {
    if (o.flags.length === 0) return o;
    return {
      ...o,
      flags: o.flags.map((f) => {
        const code = flags.rows.get(f)?.hl7_0078;
        if (code) return code;
        if (f !== '') unmapped.add(f);
        return f;
      }),
    };
  });
  for (const f of unmapped) warnings.push(`flag '${f}' has no HL7 table 0078 code in ${flags.file}; sent as received`);
  return { report: { ...codes.report, observations }, warnings };
}

function encoded(payload: string, warnings: readonly string[]): Encoded {
  return { payload, contentType: 'application/hl7-v2', ...(warnings.length > 0 ? { warnings } : {}) };
}

/** Built-in encoders are synchronous; the narrower type lets callers use the result directly. */
export function createOruR01Encoder(settings: OruR01Settings, tables?: OruR01Tables): SyncEncoder;
/** With `fields:` or `segments:` the encoder evaluates expressions, which JSONata does asynchronously. */
export function createOruR01Encoder(settings: OruR01Settings, tables: OruR01Tables, edits: OruEdits): Encoder;
export function createOruR01Encoder(settings: OruR01Settings, tables: OruR01Tables = {}, edits?: OruEdits): Encoder {
  if (!edits || (edits.fields.length === 0 && edits.segments.length === 0)) {
    return {
      kind: 'oru-r01',
      format: 'hl7v2',
      encode: (report: LabReport, ctx: EncodeContext): Encoded => {
        const coded = withTableCodes(report, settings, tables);
        return encoded(encodeOruR01(coded.report, ctx, settings), [...coded.warnings, ...retypeWarnings(coded.report.observations)]);
      },
    };
  }
  return {
    kind: 'oru-r01',
    format: 'hl7v2',
    encode: async (report: LabReport, ctx: EncodeContext): Promise<Encoded> => {
      const coded = withTableCodes(report, settings, tables);
      return encoded(await applyEdits(encodeOruR01(coded.report, ctx, settings), coded.report, ctx, edits), [...coded.warnings, ...retypeWarnings(coded.report.observations)]);
    },
  };
}
