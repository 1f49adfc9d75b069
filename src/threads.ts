import v8 from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface ThreadOptions extends Omit<WorkerOptions, 'execArgv' | 'resourceLimits'> {
  /**
   * The thread's young generation (V8's `maxYoungGenerationSizeMb`): what a thread allocates is
   * short-lived, and without a size of its own V8 sizes it from the machine's memory.
   */
  youngGenerationMb: number;
}

/**
 * The process's `--max-semi-space-size` (the bin's shebang: the main thread's young generation)
 * is a V8 flag, and V8 reads its flags before an isolate's resource limits: every worker would
 * get the main thread's size whatever its `resourceLimits` say. Reset once the main isolate
 * exists (its heap keeps the size it was made with), so that each thread's own size holds.
 */
function letThreadsSizeTheirHeaps(): void {
  v8.setFlagsFromString('--max-semi-space-size=0');
}

/**
 * Starts the worker thread whose module `name` is beside the module at `here` (its
 * import.meta.url): `name`.ts when run from source, `name`.js in a build (npm run build). Without
 * the process's flags: a worker refuses some (--input-type of node -e) and needs none. Unreferenced:
 * its owner references it while it waits for an answer.
 */
export function startThreadBeside(here: string, name: string, options: ThreadOptions): Worker {
  const { youngGenerationMb, ...workerOptions } = options;
  letThreadsSizeTheirHeaps();
  const worker = new Worker(new URL(here.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, here), {
    ...workerOptions,
    execArgv: [],
    resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb },
  });
  worker.unref();
  return worker;
}
