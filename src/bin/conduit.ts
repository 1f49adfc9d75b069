#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size: Node 24 sizes the young generation from the machine's memory (128 MB
// on 24 GB); the engine's garbage is short-lived and small, 16 MB keeps its RSS down at the same
// throughput (test/bench). package.json's start script and the test harness use these flags too.
import { main } from '../cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`conduit: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
