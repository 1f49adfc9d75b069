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
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { javaPeer, STDERR_KEEP } from "../java-peer.ts";

const peer = javaPeer({
  dir: import.meta.dirname,
  mainClass: "Peer",
  requiredJars: ["hapi-base-2.6.0.jar", "hapi-structures-v251-2.6.0.jar", "slf4j-api-1.7.36.jar", "slf4j-simple-1.7.36.jar"],
});
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

/** Runs setup.sh when the jars are missing from lib/ or lib/classes/Peer.class is missing or older than Peer.java. */
export async function ensureHapiHl7Peer(): Promise<void> {
  return peer.ensure();
}

/**
 * Validates ER7 files (or directories: their *.hl7 / *.er7 files, non-recursive) with HAPI.
 * Resolves with one result per file, whether or not it conforms (JVM exit 0 or 1); rejects on usage errors
 * (exit 2, e.g. a missing path) or a crash, with the JVM's stderr in the message.
 */
export async function validateHl7Files(paths: string[]): Promise<HapiValidationResult[]> {
  if (paths.length === 0) return [];
  return peer.runJsonLines<HapiValidationResult>(["validate", ...paths], {
    failure: "HAPI peer validate failed",
    printer: "HAPI peer",
  });
}

/**
 * Starts HAPI's MLLP server on 127.0.0.1 (free port). The JVM is unref'ed so a forgotten receiver does not keep
 * the test process alive (it then sees EOF on stdin and exits); still call close().
 */
export async function startHapiMllpReceiver(): Promise<HapiMllpReceiver> {
  await ensureHapiHl7Peer();
  const child: ChildProcess = spawn("java", peer.command(["serve", "0"]), { stdio: ["pipe", "pipe", "pipe"] });
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
