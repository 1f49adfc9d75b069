/**
 * What the Java conformance peers (hapi-hl7v2/Peer.java, hapi-fhir-validator/Validator.java) share on the Node side:
 * running their setup.sh when the jars or the compiled class are missing or stale, the java command line (fast-start
 * flags, classpath, pre-compiled class or source-launch mode), and one-shot runs that print one JSON object per line.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";

/** How much of a JVM's (or setup.sh's) output is kept for error messages. */
export const STDERR_KEEP = 64 * 1024;

/**
 * Flags for every peer JVM. Short-lived JVMs: C1 only and the serial GC start noticeably faster than the defaults
 * (the FHIR validator's first validation, loading the R4 definitions, takes ~7 s this way on 2 cores instead of
 * ~12-19 s with the default tiered C2 + G1, and later validations stay around 0.1 s per bundle).
 */
export const JVM_FLAGS: readonly string[] = [
  "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
  "-Dorg.slf4j.simpleLogger.logFile=System.err",
  "-Djava.awt.headless=true",
  "-Dfile.encoding=UTF-8",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Xshare:auto",
];

export interface JavaPeerOptions {
  /** The peer's folder: setup.sh, `<mainClass>.java`, lib/ (jars) and lib/classes/ (the compiled class). */
  dir: string;
  /** The class with main(), e.g. "Peer": `<dir>/Peer.java`, compiled to `<dir>/lib/classes/Peer.class`. */
  mainClass: string;
  /** Jars setup.sh puts into lib/; setup runs again when one is missing. */
  requiredJars: readonly string[];
}

export interface JsonLinesRun {
  /** Written to the JVM's stdin, which is then closed; without it stdin is not connected. */
  input?: string;
  /** Flags after the shared ones. */
  extraFlags?: readonly string[];
  /** Copy the JVM's stderr to ours as it comes. */
  forwardStderr?: boolean;
  /** Start of the rejection message on a crash or an exit code other than 0 and 1, e.g. "HAPI peer validate failed". */
  failure: string;
  /** Who printed stdout, for the rejection when it is not JSON lines, e.g. "HAPI peer". */
  printer: string;
}

export interface JavaPeer {
  /** Runs setup.sh when a required jar is missing from lib/ or the compiled class is missing or older than its source. */
  ensure(): Promise<void>;
  /** java arguments: the pre-compiled class when fresh, otherwise source-launch mode. */
  command(args: readonly string[], extraFlags?: readonly string[]): string[];
  /**
   * Ensures setup ran, runs `java ... <mainClass> <args>` and resolves with its stdout parsed as JSON lines when it
   * exits 0 or 1; rejects on any other exit (2: usage error) or a crash, with the JVM's stderr in the message.
   */
  runJsonLines<T>(args: readonly string[], run: JsonLinesRun): Promise<T[]>;
}

export function javaPeer(options: JavaPeerOptions): JavaPeer {
  const lib = path.join(options.dir, "lib");
  const classes = path.join(lib, "classes");
  const source = path.join(options.dir, `${options.mainClass}.java`);
  const compiled = path.join(classes, `${options.mainClass}.class`);
  const setup = path.join(options.dir, "setup.sh");

  const jarsPresent = (): boolean => options.requiredJars.every((jar) => existsSync(path.join(lib, jar)));

  const classIsFresh = (): boolean => {
    try {
      return statSync(compiled).mtimeMs >= statSync(source).mtimeMs;
    } catch {
      return false;
    }
  };

  const runSetup = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn("bash", [setup], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-STDERR_KEEP);
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      child.on("error", (err) => reject(new Error(`cannot run ${setup}: ${err.message}`)));
      child.on("close", (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`${setup} failed (${signal ?? `exit ${code}`}):\n${output}`));
      });
    });

  let ensuring: Promise<void> | undefined;

  const ensure = async (): Promise<void> => {
    if (jarsPresent() && classIsFresh()) return;
    ensuring ??= runSetup().finally(() => {
      ensuring = undefined;
    });
    return ensuring;
  };

  const command = (args: readonly string[], extraFlags: readonly string[] = []): string[] => {
    const flags = [...JVM_FLAGS, ...extraFlags];
    if (classIsFresh()) {
      return ["-cp", `${classes}${path.delimiter}${path.join(lib, "*")}`, ...flags, options.mainClass, ...args];
    }
    return ["-cp", path.join(lib, "*"), ...flags, source, ...args];
  };

  const runJsonLines = async <T>(args: readonly string[], run: JsonLinesRun): Promise<T[]> => {
    await ensure();
    return new Promise((resolve, reject) => {
      const { input } = run;
      const child = spawn("java", command(args, run.extraFlags), {
        stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      let err = "";
      child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
      child.stderr!.on("data", (chunk: Buffer) => {
        const text = chunk.toString("utf8");
        err = (err + text).slice(-STDERR_KEEP);
        if (run.forwardStderr) process.stderr.write(text);
      });
      if (input !== undefined) {
        child.stdin!.on("error", () => {
          // EPIPE if the JVM exited early (usage error): reported by "close" below
        });
        child.stdin!.end(input, "utf8");
      }
      child.on("error", (e) => reject(new Error(`cannot start java: ${e.message}`)));
      child.on("close", (code, signal) => {
        if (code !== 0 && code !== 1) {
          reject(new Error(`${run.failure} (${signal ?? `exit ${code}`}):\n${err}`));
          return;
        }
        try {
          const results = Buffer.concat(out)
            .toString("utf8")
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => JSON.parse(line) as T);
          resolve(results);
        } catch (e) {
          reject(new Error(`${run.printer} printed something that is not JSON lines: ${(e as Error).message}\n${err}`));
        }
      });
    });
  };

  return { ensure, command, runJsonLines };
}
