#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --v8-pool-size=2
// Plain JavaScript on purpose: Node strips the types of a .ts file with a WebAssembly compiler
// that stays in memory (about 17 MB in each thread that loads one). Turned on before the first
// .ts file is read, the compile cache keeps the stripped code on disk, so a start after the first
// loads no compiler at all, in this thread nor in the store's writer thread (which reads the
// variable set below). See src/engine/README.md, Memory.
// --max-semi-space-size: Node 24 sizes the young generation from the machine's memory (128 MB
// on 24 GB); the engine's garbage is short-lived and small, 8 MB keeps its RSS down (test/bench).
// MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (main, store writer, sender) malloc
// arenas of its own, up to 8 per core, each keeping what it freed; two arenas hold the engine
// 15-20 MiB lower under load at the same throughput (read by glibc at process start, so it is
// set here, before node runs; other C libraries ignore it).
// --v8-pool-size=2: V8's helper threads (concurrent marking, parallel scavenges) are four by
// default; on a two-core machine they crowd out the threads an intake waits for (main, store
// writer): the open loop's p99 at 1,000/s was lower in 5 runs of 6 with two (src/engine/README.md).
// package.json's start script and the test harness use this variable and these flags too.
import module from 'node:module';
import v8 from 'node:v8';

// V8 lets the old generation grow to up to four times what survived the last full collection
// before the next: the engine's messages outlive a scavenge while they wait for their commit and
// lane, so most of that growth is garbage. 1.5 times keeps the closed-loop bench at 187-196 MiB
// instead of 228-266 (about 6 % fewer results/s, within this machine's noise). Set here rather
// than on the command line: a V8 flag a later Node no longer knows is ignored, not fatal.
v8.setFlagsFromString('--heap-growing-percent=50');

const cache = module.enableCompileCache();
// Written at exit by default, and by `conduit start` once the engine is up (src/cli/start.ts).
if (cache.directory) process.env.NODE_COMPILE_CACHE = cache.directory;

const { main } = await import('../cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`conduit: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
