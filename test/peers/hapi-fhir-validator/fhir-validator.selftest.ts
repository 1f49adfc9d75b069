/**
 * Self-test of the HAPI FHIR validator peer (not part of `npm test`: the name does not match *.test.ts).
 * Run: node_modules/.bin/node --test test/peers/hapi-fhir-validator/fhir-validator.selftest.ts
 * Needs java 17+ and mvn (first run fetches ~145 MB of jars from Maven Central via setup.sh).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureHapiFhirValidator, validateFhirFiles } from "./fhir-validator.ts";
import type { FhirValidationIssue } from "./fhir-validator.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures");
const VALID = path.join(FIXTURES, "valid-transaction.json");
const INVALID = path.join(FIXTURES, "invalid-transaction.json");

const DOM_6 = "http://hl7.org/fhir/StructureDefinition/DomainResource#dom-6";
const PERFORMER = "All_observations_should_have_a_performer";
const UNKNOWN_CODE_SYSTEM = "Terminology_PassThrough_TX_Message";

/** "<severity> <messageId> @ <location>", compact for deepEqual. */
function brief(issue: FhirValidationIssue): string {
  return `${issue.severity} ${issue.messageId ?? "-"} @ ${issue.location}`;
}

let scratch: string;

before(async () => {
  const started = performance.now();
  await ensureHapiFhirValidator();
  console.log(`# ensureHapiFhirValidator: ${(performance.now() - started).toFixed(0)} ms`);
  scratch = await mkdtemp(path.join(tmpdir(), "hapi-fhir-validator-"));
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("HAPI FHIR validator peer", () => {
  test("both fixtures in one JVM: valid has 0 errors, invalid has the expected errors", async (t) => {
    const started = performance.now();
    const results = await validateFhirFiles([VALID, INVALID]);
    t.diagnostic(`2 fixtures, one cold JVM: ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(results.length, 2);
    const [valid, invalid] = results;
    assert.ok(valid && invalid);

    assert.equal(valid.file, VALID);
    assert.deepEqual(valid.errors, []);
    assert.equal(valid.ok, true);
    // The noise a minimal transaction Bundle gets: narrative best practice (dom-6) on every resource, "should have
    // a performer" on every Observation, and LOINC (not loaded offline) on every LOINC coding.
    assert.deepEqual(valid.warnings.map(brief), [
      `warning ${DOM_6} @ Bundle.entry[0].resource/*Patient/null*/`,
      `warning ${UNKNOWN_CODE_SYSTEM} @ Bundle.entry[1].resource/*DiagnosticReport/null*/.code`,
      `warning ${DOM_6} @ Bundle.entry[1].resource/*DiagnosticReport/null*/`,
      `warning ${PERFORMER} @ Bundle.entry[2].resource/*Observation/null*/`,
      `warning ${UNKNOWN_CODE_SYSTEM} @ Bundle.entry[2].resource/*Observation/null*/.code`,
      `warning ${DOM_6} @ Bundle.entry[2].resource/*Observation/null*/`,
      `warning ${PERFORMER} @ Bundle.entry[3].resource/*Observation/null*/`,
      `warning ${UNKNOWN_CODE_SYSTEM} @ Bundle.entry[3].resource/*Observation/null*/.code`,
      `warning ${DOM_6} @ Bundle.entry[3].resource/*Observation/null*/`,
    ]);
    const loinc = valid.warnings.filter((w) => w.messageId === UNKNOWN_CODE_SYSTEM).map((w) => w.message);
    assert.deepEqual(loinc, [
      "CodeSystem is unknown and can't be validated: http://loinc.org for 'http://loinc.org#2345-7'",
      "CodeSystem is unknown and can't be validated: http://loinc.org for 'http://loinc.org#2345-7'",
      "CodeSystem is unknown and can't be validated: http://loinc.org for 'http://loinc.org#4548-4'",
    ]);
    assert.equal(valid.information, 0);

    assert.equal(invalid.file, INVALID);
    assert.equal(invalid.ok, false);
    const obs = "Bundle.entry[1].resource/*Observation/null*/";
    assert.deepEqual(
      invalid.errors,
      [
        {
          severity: "error",
          location: "Bundle.entry[1].resource",
          message: "Unrecognized property 'colour'",
        },
        {
          severity: "error",
          location: obs,
          message:
            "Observation.status: minimum required = 1, but only found 0 (from http://hl7.org/fhir/StructureDefinition/Observation|4.0.1)",
          messageId: "Validation_VAL_Profile_Minimum",
        },
        {
          severity: "error",
          location: obs,
          message:
            "Observation.code: minimum required = 1, but only found 0 (from http://hl7.org/fhir/StructureDefinition/Observation|4.0.1)",
          messageId: "Validation_VAL_Profile_Minimum",
        },
        {
          severity: "error",
          location: `${obs}.effective.ofType(dateTime)`,
          message: "Not a valid date/time format: '2025-13-45T08:30:00'",
          messageId: "Type_Specific_Checks_DT_DateTime_Valid",
        },
        {
          severity: "error",
          location: `${obs}.effective.ofType(dateTime)`,
          message: "If a date has a time, it must have a timezone",
          messageId: "Type_Specific_Checks_DT_DateTime_TZ",
        },
      ],
    );
  });

  test("a directory means its *.json files (sorted); paths may repeat", async () => {
    const results = await validateFhirFiles([FIXTURES, VALID]);
    assert.deepEqual(
      results.map((r) => [path.basename(r.file), r.ok]),
      [
        ["invalid-transaction.json", false],
        ["valid-transaction.json", true],
        ["valid-transaction.json", true],
      ],
    );
  });

  test("unparseable input is one fatal issue; a missing path is a usage error", async () => {
    const malformed = path.join(scratch, "malformed.json");
    const unknownType = path.join(scratch, "unknown-type.json");
    await writeFile(malformed, '{"resourceType": "Bundle", ');
    await writeFile(unknownType, '{"resourceType": "Foo"}');
    const [bad, unknown] = await validateFhirFiles([malformed, unknownType]);
    assert.equal(bad?.ok, false);
    assert.equal(bad?.errors.length, 1);
    assert.equal(bad?.errors[0]?.severity, "fatal");
    assert.equal(bad?.errors[0]?.location, "(parser)");
    assert.match(bad?.errors[0]?.message ?? "", /HAPI-1861: Failed to parse JSON/);
    assert.match(unknown?.errors[0]?.message ?? "", /Unknown resource name "Foo"/);

    await assert.rejects(validateFhirFiles([path.join(FIXTURES, "does-not-exist.json")]), /no such file/);
  });

  test("timing: 20 bundles in one JVM", async (t) => {
    const dir = await mkdtemp(path.join(scratch, "bundles-"));
    const base = await readFile(VALID, "utf8");
    const uuids = [...new Set(base.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [])];
    assert.equal(uuids.length, 4);
    const files: string[] = [];
    for (let i = 0; i < 20; i++) {
      let text = base.replaceAll("PID-12345", `PID-${10000 + i}`);
      for (const u of uuids) text = text.replaceAll(u, randomUUID());
      const file = path.join(dir, `b${String(i).padStart(2, "0")}.json`);
      await writeFile(file, text);
      files.push(file);
    }
    const started = performance.now();
    const results = await validateFhirFiles(files);
    const ms = performance.now() - started;
    assert.equal(results.length, 20);
    for (const r of results) assert.deepEqual(r.errors, [], r.file);
    t.diagnostic(`validate: 20 transaction bundles in one JVM took ${ms.toFixed(0)} ms (JVM start included)`);
  });
});
