// Entry of an attestation worker thread (attest-pool.ts). Module hooks registered in the
// parent thread do not reach a worker, so the worker registers tsx itself before it loads
// its TypeScript body.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.main);
