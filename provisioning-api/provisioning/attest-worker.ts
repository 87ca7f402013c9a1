/** Body of an attestation worker thread: answers each AttestRequest of attest-pool.ts. */
import { parentPort } from 'node:worker_threads';
import { asBuffer } from '../../sim-applet/index.js';
import { attestInline, type AttestInput, type AttestReply, type AttestRequest } from './attest-pool.js';

// Buffers arrive as plain Uint8Arrays: asBuffer makes them Buffers again (views, no copy).

parentPort!.on('message', (req: AttestRequest) => {
  const items: AttestInput[] = req.items.map((i) => ({ ...i, porData: asBuffer(i.porData), heldCertificate: i.heldCertificate ? asBuffer(i.heldCertificate) : null }));
  const ca = req.ca instanceof Uint8Array ? asBuffer(req.ca) : { ...req.ca, subject: asBuffer(req.ca.subject) };
  let reply: AttestReply;
  attestInline(ca, new Date(req.at), items).then(
    (outcomes) => { reply = { id: req.id, outcomes }; },
    (e: unknown) => { reply = { id: req.id, error: e instanceof Error ? e.message : String(e) }; },
  ).finally(() => parentPort!.postMessage(reply));
});
