/**
 * Node-side helper for the HAPI FHIR validator conformance peer (Validator.java next to this file).
 *
 * - ensureHapiFhirValidator(): runs setup.sh (jars into lib/, Validator.class into lib/classes) when needed.
 * - validateFhirFiles(paths): HAPI FHIR 8.8.1 R4 instance validation (offline) of JSON files, one result per file,
 *   all in one JVM (the first validation costs seconds, the following ones ~0.1 s each).
 *
 * `java` (17+) is taken from PATH. Set HAPI_FHIR_VALIDATOR_DEBUG=1 to forward the JVM's stderr (HAPI/slf4j at WARN,
 * plus set-up and per-file timings) to ours.
 */
import { javaPeer } from "../java-peer.ts";

const peer = javaPeer({
  dir: import.meta.dirname,
  mainClass: "Validator",
  requiredJars: [
    "hapi-fhir-structures-r4-8.8.1.jar",
    "hapi-fhir-validation-8.8.1.jar",
    "hapi-fhir-validation-resources-r4-8.8.1.jar",
    "hapi-fhir-caching-caffeine-8.8.1.jar",
    "slf4j-api-2.0.16.jar",
    "slf4j-simple-2.0.16.jar",
  ],
});

export interface FhirValidationIssue {
  /** "fatal" | "error" in errors, "warning" in warnings */
  severity: string;
  /**
   * FHIRPath-like location: `Bundle.type`, `Bundle.entry[0].fullUrl`; inside an entry's resource HAPI inserts a
   * `/*Type/id*` + `/` marker before the path (id is `null` when the resource has none). "(parser)", "(file)" or
   * "(validator)" for problems found before validation.
   */
  location: string;
  message: string;
  /** HAPI's message id or the failed constraint's URL (e.g. `...DomainResource#dom-6`); absent when HAPI has none */
  messageId?: string;
}

export interface FhirValidationResult {
  file: string;
  /** false iff the file has at least one error or fatal issue (warnings are allowed) */
  ok: boolean;
  errors: FhirValidationIssue[];
  warnings: FhirValidationIssue[];
  /** number of information-level messages (not listed) */
  information: number;
}

/** Runs setup.sh when the jars are missing from lib/ or lib/classes/Validator.class is missing or stale. */
export async function ensureHapiFhirValidator(): Promise<void> {
  return peer.ensure();
}

/**
 * Validates FHIR R4 JSON files (or directories: their *.json files, non-recursive) with HAPI FHIR, in one JVM.
 * The paths go to the JVM on stdin (`validate -`), so any number of them can be passed.
 * Resolves with one result per file, in order, whether or not it is valid (JVM exit 0 or 1); rejects on usage
 * errors (exit 2, e.g. a missing path) or a crash, with the JVM's stderr in the message.
 */
export async function validateFhirFiles(paths: string[]): Promise<FhirValidationResult[]> {
  if (paths.length === 0) return [];
  for (const p of paths) {
    if (/[\r\n]/.test(p) || p.trim() !== p || p === "") {
      throw new Error(`validateFhirFiles: path cannot be passed one-per-line: ${JSON.stringify(p)}`);
    }
  }
  const debug = Boolean(process.env["HAPI_FHIR_VALIDATOR_DEBUG"]);
  return peer.runJsonLines<FhirValidationResult>(["validate", "-"], {
    input: paths.map((p) => `${p}\n`).join(""),
    extraFlags: debug ? ["-Dpeer.timing=true"] : [],
    forwardStderr: debug,
    failure: "HAPI FHIR validator failed",
    printer: "HAPI FHIR validator",
  });
}
