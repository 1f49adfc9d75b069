import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker thread whose module `name` is beside the module at `here` (its
 * import.meta.url): `name`.ts when run from source, `name`.js in a build (npm run build). Without
 * the process's flags: a worker refuses some (--input-type of node -e) and needs none. Unreferenced:
 * its owner references it while it waits for an answer.
 */
export function startThreadBeside(here: string, name: string, options: Omit<WorkerOptions, 'execArgv'>): Worker {
  const worker = new Worker(new URL(here.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, here), { ...options, execArgv: [] });
  worker.unref();
  return worker;
}
