// The entry of a worker thread whose module is TypeScript (./worker-thread.ts): the
// worker's module loader gets tsx's hooks first (hooks registered on the main thread do not
// reach workers), then the module runs. Plain JavaScript because it is what loads TypeScript.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
