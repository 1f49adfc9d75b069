/**
 * Node-side helper for the HAPI HL7v2 conformance peer (Peer.java next to this file).
 *
 * - ensureHapiHl7Peer(): runs setup.sh (jars into lib/, Peer.class into lib/classes) when needed.
 * - validateHl7Files(paths): strict HAPI parse + required-field walk of v2.5.1 ORU^R01 files, one result per file.
 * - startHapiMllpReceiver(): HAPI MLLP server on 127.0.0.1:<free port> that ACKs AA/AE/AR and reports each message.
 *
 * `java` is taken from PATH. Set HAPI_PEER_DEBUG=1 to forward the JVM's stderr (HAPI/slf4j at WARN) to ours.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";

const HERE = import.meta.dirname;
const LIB = path.join(HERE, "lib");
const CLASSES = path.join(LIB, "classes");
const PEER_SOURCE = path.join(HERE, "Peer.java");
const PEER_CLASS = path.join(CLASSES, "Peer.class");
const SETUP = path.join(HERE, "setup.sh");
const REQUIRED_JARS = [
  "hapi-base-2.6.0.jar",
  "hapi-structures-v251-2.6.0.jar",
  "slf4j-api-1.7.36.jar",
  "slf4j-simple-1.7.36.jar",
];
const JVM_FLAGS = [
  "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
  "-Dorg.slf4j.simpleLogger.logFile=System.err",
  "-Djava.awt.headless=true",
  "-Dfile.encoding=UTF-8",
  // short-lived JVM: C1 only and the serial GC start noticeably faster than the defaults
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Xshare:auto",
];
const STDERR_KEEP = 64 * 1024;
const READY_TIMEOUT_MS = 30_000;

export interface HapiValidationResult {
  file: string;
  ok: boolean;
  issues: string[];
  controlId?: string;
}

export interface HapiMessageEvent {
  controlId: string;
  /** "AA" | "AE" | "AR" (or "none" if HAPI built no answer) */
  ack: string;
  issues: string[];
}

export interface HapiMllpReceiver {
  /** bound on 127.0.0.1 */
  port: number;
  /** one entry per message HAPI handled, in arrival order (filled asynchronously from the JVM's stdout) */
  messages: HapiMessageEvent[];
  /** resolves once at least `count` messages were reported; rejects after timeoutMs or if the JVM exits */
  waitForMessages(count: number, timeoutMs?: number): Promise<HapiMessageEvent[]>;
  /** the JVM's recent stderr (HAPI warnings/errors) */
  stderr(): string;
  /** SIGTERM, then wait for the JVM to exit; idempotent */
  close(): Promise<void>;
}

function jarsPresent(): boolean {
  return REQUIRED_JARS.every((jar) => existsSync(path.join(LIB, jar)));
}

function classIsFresh(): boolean {
  try {
    return statSync(PEER_CLASS).mtimeMs >= statSync(PEER_SOURCE).mtimeMs;
  } catch {
    return false;
  }
}

let ensuring: Promise<void> | undefined;

/** Runs setup.sh when the jars are missing from lib/ or lib/classes/Peer.class is missing or older than Peer.java. */
export async function ensureHapiHl7Peer(): Promise<void> {
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

/** java arguments for Peer: the pre-compiled class when fresh, otherwise source-launch mode. */
function peerCommand(args: string[]): string[] {
  if (classIsFresh()) {
    return ["-cp", `${CLASSES}${path.delimiter}${path.join(LIB, "*")}`, ...JVM_FLAGS, "Peer", ...args];
  }
  return ["-cp", path.join(LIB, "*"), ...JVM_FLAGS, PEER_SOURCE, ...args];
}

/**
 * Validates ER7 files (or directories: their *.hl7 / *.er7 files, non-recursive) with HAPI.
 * Resolves with one result per file, whether or not it conforms (JVM exit 0 or 1); rejects on usage errors
 * (exit 2, e.g. a missing path) or a crash, with the JVM's stderr in the message.
 */
export async function validateHl7Files(paths: string[]): Promise<HapiValidationResult[]> {
  if (paths.length === 0) return [];
  await ensureHapiHl7Peer();
  return new Promise((resolve, reject) => {
    const child = spawn("java", peerCommand(["validate", ...paths]), { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      err = (err + chunk.toString("utf8")).slice(-STDERR_KEEP);
    });
    child.on("error", (e) => reject(new Error(`cannot start java: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code !== 0 && code !== 1) {
        reject(new Error(`HAPI peer validate failed (${signal ?? `exit ${code}`}):\n${err}`));
        return;
      }
      try {
        const results = Buffer.concat(out)
          .toString("utf8")
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line) as HapiValidationResult);
        resolve(results);
      } catch (e) {
        reject(new Error(`HAPI peer printed something that is not JSON lines: ${(e as Error).message}\n${err}`));
      }
    });
  });
}

/**
 * Starts HAPI's MLLP server on 127.0.0.1 (free port). The JVM is unref'ed so a forgotten receiver does not keep
 * the test process alive (it then sees EOF on stdin and exits); still call close().
 */
export async function startHapiMllpReceiver(): Promise<HapiMllpReceiver> {
  await ensureHapiHl7Peer();
  const child: ChildProcess = spawn("java", peerCommand(["serve", "0"]), { stdio: ["pipe", "pipe", "pipe"] });
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  const stderrStream = child.stderr!;

  let err = "";
  stderrStream.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    err = (err + text).slice(-STDERR_KEEP);
    if (process.env["HAPI_PEER_DEBUG"]) process.stderr.write(text);
  });
  stdin.on("error", () => {
    // EPIPE after the JVM exited: nothing to do
  });

  const messages: HapiMessageEvent[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  let exited = false;
  // "close" (not "exit"): all of stdout has been read by then
  const exitPromise = new Promise<void>((resolve) => {
    child.on("close", () => {
      exited = true;
      notify();
      resolve();
    });
  });

  const setRef = (ref: boolean) => {
    if (ref) child.ref();
    else child.unref();
    for (const s of [stdin, stdout, stderrStream] as unknown as Socket[]) {
      if (ref) s.ref?.();
      else s.unref?.();
    }
  };

  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const lines = createInterface({ input: stdout, crlfDelay: Number.POSITIVE_INFINITY });
    const timer = setTimeout(() => {
      fail(new Error(`HAPI MLLP receiver did not print READY within ${READY_TIMEOUT_MS} ms:\n${err}`));
      child.kill("SIGKILL");
    }, READY_TIMEOUT_MS);
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    };
    child.on("error", (e) => fail(new Error(`cannot start java: ${e.message}`)));
    child.on("exit", (code, signal) => {
      fail(new Error(`HAPI MLLP receiver exited before READY (${signal ?? `exit ${code}`}):\n${err}`));
    });
    lines.on("line", (line) => {
      const ready = /^READY (\d+)$/.exec(line.trim());
      if (ready) {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(Number(ready[1]));
        }
        return;
      }
      if (!line.startsWith("{")) return;
      try {
        const event = JSON.parse(line) as { event?: string } & HapiMessageEvent;
        if (event.event === "message") {
          messages.push({ controlId: event.controlId, ack: event.ack, issues: event.issues });
          notify();
        }
      } catch {
        err = (err + `unparseable stdout line: ${line}\n`).slice(-STDERR_KEEP);
      }
    });
  });
  setRef(false);

  let closing: Promise<void> | undefined;
  return {
    port,
    messages,
    stderr: () => err,
    waitForMessages(count: number, timeoutMs = 10_000): Promise<HapiMessageEvent[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= count) {
            done();
            resolve(messages.slice());
          } else if (exited) {
            done();
            reject(new Error(`HAPI MLLP receiver exited with ${messages.length}/${count} messages:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${count} HAPI messages (got ${messages.length})`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close(): Promise<void> {
      closing ??= (async () => {
        if (exited) return;
        setRef(true);
        child.kill("SIGTERM");
        stdin.end();
        await exitPromise;
      })();
      return closing;
    },
  };
}
