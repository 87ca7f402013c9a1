/** Body of an attestation worker thread: answers each AttestRequest of attest-pool.ts. */
import { parentPort } from 'node:worker_threads';
import { attestInline, type AttestInput, type AttestReply, type AttestRequest } from './attest-pool.js';

/** Buffers arrive as plain Uint8Arrays. */
const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

parentPort!.on('message', (req: AttestRequest) => {
  const items: AttestInput[] = req.items.map((i) => ({ ...i, porData: buf(i.porData), heldCertificate: i.heldCertificate ? buf(i.heldCertificate) : null }));
  const ca = req.ca instanceof Uint8Array ? buf(req.ca) : { ...req.ca, subject: buf(req.ca.subject) };
  let reply: AttestReply;
  attestInline(ca, new Date(req.at), items).then(
    (outcomes) => { reply = { id: req.id, outcomes }; },
    (e: unknown) => { reply = { id: req.id, error: e instanceof Error ? e.message : String(e) }; },
  ).finally(() => parentPort!.postMessage(reply));
});
