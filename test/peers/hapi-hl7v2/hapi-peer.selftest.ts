/**
 * Self-test of the HAPI HL7v2 peer (not part of `npm test`: the name does not match *.test.ts).
 * Run: node_modules/.bin/node --test test/peers/hapi-hl7v2/hapi-peer.selftest.ts
 * Needs java 11+ and mvn (first run fetches the jars from Maven Central via setup.sh).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureHapiHl7Peer, startHapiMllpReceiver, validateHl7Files } from "./hapi.ts";
import type { HapiMllpReceiver } from "./hapi.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures");
const fixture = (name: string) => path.join(FIXTURES, name);

const VALID = fixture("valid-oru-r01.hl7");
const MISSING_REQUIRED = fixture("invalid-missing-required.hl7");
const UNEXPECTED_SEGMENT = fixture("invalid-unexpected-segment.hl7");
const NM_VALUE = fixture("invalid-nm-value.hl7");
const TIMESTAMP = fixture("invalid-timestamp.hl7");
const VERSION_23 = fixture("invalid-version-2.3.hl7");

const VB = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

/** ER7 file content with segments separated by \r, as sent on the wire. */
async function er7(file: string): Promise<string> {
  return (await readFile(file, "utf8")).replace(/\r\n|\n/g, "\r").replace(/\r+$/, "\r");
}

function frame(message: string): Buffer {
  return Buffer.concat([Buffer.from([VB]), Buffer.from(message, "utf8"), Buffer.from([FS, CR])]);
}

/** Opens one MLLP connection, sends all messages in one write (pipelined), collects one ACK per message. */
function mllpExchange(port: number, messages: string[], host = "127.0.0.1"): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const acks: string[] = [];
    let buffered = Buffer.alloc(0);
    const socket = connect({ host, port }, () => {
      socket.write(Buffer.concat(messages.map(frame)));
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`MLLP: got ${acks.length}/${messages.length} ACKs before timeout`));
    }, 15_000);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const start = buffered.indexOf(VB);
        const end = buffered.indexOf(FS, start + 1);
        if (start < 0 || end < 0 || end + 1 >= buffered.length) break;
        assert.equal(buffered[end + 1], CR, "MLLP frame must end with 0x1C 0x0D");
        acks.push(buffered.subarray(start + 1, end).toString("utf8"));
        buffered = buffered.subarray(end + 2);
      }
      if (acks.length === messages.length) {
        clearTimeout(timer);
        socket.end();
        resolve(acks);
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function segment(ack: string, name: string): string[] {
  const seg = ack.split("\r").find((s) => s.startsWith(`${name}|`));
  assert.ok(seg, `no ${name} segment in ACK:\n${ack.replaceAll("\r", "\n")}`);
  return seg.split("|");
}

before(async () => {
  await ensureHapiHl7Peer();
});

describe("validate mode", () => {
  test("the hand-written v2.5.1 ORU^R01 conforms", async () => {
    const [result, ...rest] = await validateHl7Files([VALID]);
    assert.equal(rest.length, 0);
    assert.deepEqual(result, { file: VALID, ok: true, issues: [], controlId: "MSG00001" });
  });

  test("missing required fields are reported with their location", async () => {
    const [result] = await validateHl7Files([MISSING_REQUIRED]);
    assert.ok(result);
    assert.equal(result.ok, false);
    assert.equal(result.controlId, "MSG00002");
    assert.deepEqual(result.issues, [
      "ORU_R01/PATIENT_RESULT(0)/PATIENT/PID-5: required field PID-5 (Patient Name) is empty",
      "ORU_R01/PATIENT_RESULT(0)/ORDER_OBSERVATION(0)/OBR-4: required field OBR-4 (Universal Service Identifier) is empty",
      "ORU_R01/PATIENT_RESULT(0)/ORDER_OBSERVATION(0)/OBSERVATION(0)/OBX-11: required field OBX-11 (Observation Result Status) is empty",
    ]);
  });

  test("strict parsing: unexpected segment, bad NM, bad DTM, wrong version", async () => {
    const results = await validateHl7Files([UNEXPECTED_SEGMENT, NM_VALUE, TIMESTAMP, VERSION_23]);
    const byFile = new Map(results.map((r) => [r.file, r]));
    assert.deepEqual(byFile.get(UNEXPECTED_SEGMENT)?.issues, [
      "unknown location: parse error: Found unknown segment: ZXY",
    ]);
    assert.match(byFile.get(NM_VALUE)?.issues[0] ?? "", /parse error: .*'one hundred'.*number/);
    // HAPI itself reports MSH field positions one too low; the peer corrects that (MSH-7, not MSH-6)
    assert.match(byFile.get(TIMESTAMP)?.issues[0] ?? "", /^MSH-7\(0\): parse error: .*'2025-01-05'.*datetime/);
    assert.deepEqual(byFile.get(VERSION_23)?.issues, ["MSH-12: version is 2.3, expected 2.5.1"]);
    for (const r of results) assert.equal(r.ok, false, r.file);
  });

  test("a directory means its *.hl7 files", async () => {
    const results = await validateHl7Files([FIXTURES]);
    assert.equal(results.length, 6);
    assert.deepEqual(
      results.filter((r) => r.ok).map((r) => path.basename(r.file)),
      ["valid-oru-r01.hl7"],
    );
  });

  test("a missing path is a usage error (rejects with the JVM's stderr)", async () => {
    await assert.rejects(validateHl7Files([path.join(FIXTURES, "does-not-exist.hl7")]), /no such file/);
  });

  test("timing: one JVM validating 20 files", async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), "hapi-peer-"));
    try {
      const base = await readFile(VALID, "utf8");
      for (let i = 0; i < 20; i++) {
        await writeFile(path.join(dir, `m${String(i).padStart(2, "0")}.hl7`), base.replace("MSG00001", `T${i}`));
      }
      const started = performance.now();
      const results = await validateHl7Files([dir]);
      const ms = performance.now() - started;
      assert.equal(results.length, 20);
      assert.ok(results.every((r) => r.ok));
      t.diagnostic(`validate: 20 files in one JVM took ${ms.toFixed(0)} ms`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("serve mode (MLLP)", () => {
  let receiver: HapiMllpReceiver;

  before(async () => {
    const started = performance.now();
    receiver = await startHapiMllpReceiver();
    console.log(`# serve: READY on 127.0.0.1:${receiver.port} after ${(performance.now() - started).toFixed(0)} ms`);
  });

  after(async () => {
    await receiver?.close();
  });

  test("valid message: AA with MSA-2 = control id", async (t) => {
    const started = performance.now();
    const [ack] = await mllpExchange(receiver.port, [await er7(VALID)]);
    t.diagnostic(`first round trip (new connection, cold JVM path): ${(performance.now() - started).toFixed(1)} ms`);
    assert.ok(ack);
    assert.match(ack, /\rMSA\|AA\|MSG00001(\||\r|$)/);
    const msh = segment(ack, "MSH");
    assert.equal(msh[8], "ACK^R01^ACK");
    assert.equal(msh[11], "2.5.1");
    assert.equal(msh[17], "UNICODE UTF-8", "the peer copies MSH-18 into the ACK");
    const [event] = await receiver.waitForMessages(1);
    assert.deepEqual(event, { controlId: "MSG00001", ack: "AA", issues: [] });
  });

  test("missing required fields: AE with ERR per issue", async () => {
    const [ack] = await mllpExchange(receiver.port, [await er7(MISSING_REQUIRED)]);
    assert.ok(ack);
    assert.match(ack, /\rMSA\|AE\|MSG00002(\||\r|$)/);
    const err = segment(ack, "ERR");
    assert.equal(err[2], "PID^1^5", "ERR-2 points at PID-5");
    assert.match(err[3] ?? "", /^101\^Required field missing\^HL70357/);
    assert.equal(ack.split("\r").filter((s) => s.startsWith("ERR|")).length, 3);
    const events = await receiver.waitForMessages(2);
    assert.equal(events[1]?.ack, "AE");
    assert.equal(events[1]?.issues.length, 3);
    assert.match(events[1]?.issues[1] ?? "", /OBR-4: required field/);
  });

  test("parse failure (unexpected segment): HAPI answers AE itself, the exception handler reports it", async () => {
    const [ack] = await mllpExchange(receiver.port, [await er7(UNEXPECTED_SEGMENT)]);
    assert.ok(ack);
    assert.match(ack, /\rMSA\|AE\|MSG00003(\||\r|$)/);
    assert.match(segment(ack, "ERR").join("|"), /Found unknown segment: ZXY/);
    const events = await receiver.waitForMessages(3);
    assert.deepEqual(events[2], {
      controlId: "MSG00003",
      ack: "AE",
      issues: ["unknown location: parse error: Found unknown segment: ZXY"],
    });
  });

  test("wrong version: AR", async () => {
    const [ack] = await mllpExchange(receiver.port, [await er7(VERSION_23)]);
    assert.ok(ack);
    assert.match(ack, /\rMSA\|AR\|MSG00005(\||\r|$)/);
    assert.match(segment(ack, "ERR")[3] ?? "", /^203\^Unsupported version id/);
    const events = await receiver.waitForMessages(4);
    assert.equal(events[3]?.ack, "AR");
  });

  test("pipelined frames on one connection, and round-trip timing", async (t) => {
    const valid = await er7(VALID);
    const n = 50;
    const batch = Array.from({ length: n }, (_, i) => valid.replace("MSG00001", `P${i}`));
    // HAPI quirk: Receiver hands every frame to its own executor task, so pipelined messages on one connection
    // are processed concurrently and ACKed in any order: correlate by MSA-2, never by position.
    const acks = await mllpExchange(receiver.port, batch);
    const acked = acks.map((ack) => segment(ack, "MSA"));
    assert.ok(acked.every((msa) => msa[1] === "AA"));
    assert.deepEqual(
      acked.map((msa) => msa[2]).sort(),
      batch.map((_, i) => `P${i}`).sort(),
    );
    const outOfOrder = acked.filter((msa, i) => msa[2] !== `P${i}`).length;

    // sequential request/response round trips on fresh connections (what a sender does per message)
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const [ack] = await mllpExchange(receiver.port, [valid.replace("MSG00001", `S${i}`)]);
      samples.push(performance.now() - started);
      assert.match(ack ?? "", /MSA\|AA\|/);
    }
    samples.sort((a, b) => a - b);
    const pipelinedStart = performance.now();
    await mllpExchange(receiver.port, batch);
    const pipelinedMs = performance.now() - pipelinedStart;
    t.diagnostic(
      `round trip (connect+send+ACK, warm): median ${samples[10]?.toFixed(1)} ms, ` +
        `min ${samples[0]?.toFixed(1)} ms, max ${samples[19]?.toFixed(1)} ms; ` +
        `${n} pipelined on one connection: ${pipelinedMs.toFixed(0)} ms (${outOfOrder}/${n} ACKs out of order)`,
    );
    await receiver.waitForMessages(4 + 2 * n + 20);
  });

  test("listens on loopback only", async (t) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    if (!external) {
      t.skip("no non-loopback IPv4 address on this machine");
      return;
    }
    await assert.rejects(mllpExchange(receiver.port, ["MSH|^~\\&|X"], external.address), /ECONNREFUSED/);
  });

  test("close() stops the JVM (SIGTERM, exit 0) and is idempotent", async () => {
    const other = await startHapiMllpReceiver();
    await other.close();
    await other.close();
    await assert.rejects(mllpExchange(other.port, [await er7(VALID)]), /ECONNREFUSED/);
  });
});
