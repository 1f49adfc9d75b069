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
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";

const HERE = import.meta.dirname;
const LIB = path.join(HERE, "lib");
const CLASSES = path.join(LIB, "classes");
const VALIDATOR_SOURCE = path.join(HERE, "Validator.java");
const VALIDATOR_CLASS = path.join(CLASSES, "Validator.class");
const SETUP = path.join(HERE, "setup.sh");
const REQUIRED_JARS = [
  "hapi-fhir-structures-r4-8.8.1.jar",
  "hapi-fhir-validation-8.8.1.jar",
  "hapi-fhir-validation-resources-r4-8.8.1.jar",
  "hapi-fhir-caching-caffeine-8.8.1.jar",
  "slf4j-api-2.0.16.jar",
  "slf4j-simple-2.0.16.jar",
];
const JVM_FLAGS = [
  "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
  "-Dorg.slf4j.simpleLogger.logFile=System.err",
  "-Djava.awt.headless=true",
  "-Dfile.encoding=UTF-8",
  // C1 only and the serial GC: the first validation (loading the R4 definitions) takes ~7 s this way on 2 cores
  // instead of ~12-19 s with the default tiered C2 + G1, and later validations stay around 0.1 s per bundle.
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Xshare:auto",
];
const STDERR_KEEP = 64 * 1024;

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

function jarsPresent(): boolean {
  return REQUIRED_JARS.every((jar) => existsSync(path.join(LIB, jar)));
}

function classIsFresh(): boolean {
  try {
    return statSync(VALIDATOR_CLASS).mtimeMs >= statSync(VALIDATOR_SOURCE).mtimeMs;
  } catch {
    return false;
  }
}

let ensuring: Promise<void> | undefined;

/** Runs setup.sh when the jars are missing from lib/ or lib/classes/Validator.class is missing or stale. */
export async function ensureHapiFhirValidator(): Promise<void> {
  if (jarsPresent() && classIsFresh()) return;
  ensuring ??= runSetup().finally(() => {
    ensuring = undefined;
  });
  return ensuring;
}

function runSetup(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [SETUP], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-STDERR_KEEP);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) => reject(new Error(`cannot run ${SETUP}: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${SETUP} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}

/** java arguments for Validator: the pre-compiled class when fresh, otherwise source-launch mode. */
function validatorCommand(args: string[]): string[] {
  const flags = process.env["HAPI_FHIR_VALIDATOR_DEBUG"] ? [...JVM_FLAGS, "-Dpeer.timing=true"] : JVM_FLAGS;
  if (classIsFresh()) {
    return ["-cp", `${CLASSES}${path.delimiter}${path.join(LIB, "*")}`, ...flags, "Validator", ...args];
  }
  return ["-cp", path.join(LIB, "*"), ...flags, VALIDATOR_SOURCE, ...args];
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
  await ensureHapiFhirValidator();
  return new Promise((resolve, reject) => {
    const child = spawn("java", validatorCommand(["validate", "-"]), { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      err = (err + text).slice(-STDERR_KEEP);
      if (process.env["HAPI_FHIR_VALIDATOR_DEBUG"]) process.stderr.write(text);
    });
    child.stdin.on("error", () => {
      // EPIPE if the JVM exited early (usage error): reported by "close" below
    });
    child.stdin.end(paths.map((p) => `${p}\n`).join(""), "utf8");
    child.on("error", (e) => reject(new Error(`cannot start java: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code !== 0 && code !== 1) {
        reject(new Error(`HAPI FHIR validator failed (${signal ?? `exit ${code}`}):\n${err}`));
        return;
      }
      try {
        const results = Buffer.concat(out)
          .toString("utf8")
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line) as FhirValidationResult);
        resolve(results);
      } catch (e) {
        reject(new Error(`HAPI FHIR validator printed something that is not JSON lines: ${(e as Error).message}\n${err}`));
      }
    });
  });
}
