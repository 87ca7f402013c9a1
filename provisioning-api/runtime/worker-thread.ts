/**
 * Starting a worker thread on one of our modules, TypeScript or compiled: simchain runs
 * its TypeScript sources through tsx (bin/simchain.js), whose loader hooks a new thread
 * does not inherit, so a `.ts` module starts through ./ts-worker-entry.js.
 */
import { Worker } from 'node:worker_threads';

/** A worker running `module` (a file URL); `data` reaches it as `workerData.data`. */
export function startWorker(module: URL, data: unknown): Worker {
  if (module.pathname.endsWith('.ts')) {
    return new Worker(new URL('./ts-worker-entry.js', import.meta.url), { workerData: { module: module.href, data } });
  }
  return new Worker(module, { workerData: { module: module.href, data } });
}
