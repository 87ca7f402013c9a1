/**
 * Issue 7, the whole path with every part real: a vendor file imported over HTTP, a batch
 * provisioned (GENERATE KEY PAIR over OTA through the SMSC simulator to cards in the fleet,
 * PoRs verified, attestations checked against the vendor CA, Merkle root anchored on anvil,
 * STORE DATA pushed to each card), and the result checked from outside: every device
 * verifies on chain with the proof the API gives, every card holds its identity.
 */
import t, { type Test } from 'tap';
import { JsonRpcProvider } from 'ethers';
import { DeviceRegistry__factory } from '../../contracts/index.js';
import { createApiKey, insertTenant } from '../../provisioning-api/index.js';
import { dispatchStep } from '../../provisioning-api/provisioning/steps.js';
import { startStack, type Stack } from '../helpers/stack.js';

const CARDS = 120;

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitBatch(stack: Stack, id: string): Promise<any> {
  return until(`batch ${id}`, async () => {
    const b = (await stack.api('GET', `/v1/provisioning-batches/${id}`)).body;
    return b.state === 'completed' || b.state === 'failed' ? b : null;
  });
}

/**
 * A batch of all the stack's SIMs, held at its anchoring: the chain mines nothing until
 * `confirm`. `lockItem` locks one of its items from another connection until the returned
 * function commits, so the chunk job that wants it waits.
 */
async function batchAtAnchoring(t: Test, stack: Stack) {
  const importId = await stack.importInventory();
  const iccids = (await stack.db.pool.query<{ iccid: string }>('SELECT iccid FROM sims ORDER BY iccid')).rows.map((r) => r.iccid);
  const node = new JsonRpcProvider(stack.anvil.rpcUrl);
  t.teardown(() => node.destroy());
  await node.send('evm_setAutomine', [false]);
  const batchId = (await stack.api('POST', '/v1/provisioning-batches', { importId })).body.id as string;
  await until('the batch anchoring', async () => (await stack.api('GET', `/v1/provisioning-batches/${batchId}`)).body.state === 'anchoring', 60_000);
  return {
    batchId,
    iccids,
    async lockItem(iccid: string): Promise<() => Promise<void>> {
      const holder = await stack.db.pool.connect();
      t.teardown(() => holder.release());
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM provisioning_items WHERE batch_id = $1 AND iccid = $2 FOR UPDATE', [batchId, iccid]);
      return async () => {
        await holder.query('COMMIT');
      };
    },
    async confirm(): Promise<void> {
      await node.send('evm_setAutomine', [true]);
      await node.send('evm_mine', []);
    },
  };
}

t.test('a batch goes from inventory to verified on-chain identities', async (t) => {
  const stack = await startStack({ cards: CARDS });
  const importId = await stack.importInventory();
  const sims = (await stack.db.pool.query<{ iccid: string; msisdn: string }>('SELECT iccid, msisdn FROM sims ORDER BY iccid')).rows;
  t.equal(sims.length, CARDS);

  // Bad input first: it changes nothing.
  const both = await stack.api('POST', '/v1/provisioning-batches', { importId, iccids: [sims[0]!.iccid] });
  t.equal(both.status, 400, 'two selectors at once are refused');
  const unknown = await stack.api('POST', '/v1/provisioning-batches', { iccids: [sims[0]!.iccid, '8988211000000000017'] });
  t.equal(unknown.status, 404, 'an unknown ICCID is refused');
  t.equal(unknown.body.code, 'SIM_NOT_FOUND');
  t.same(unknown.body.missing, ['8988211000000000017']);
  t.equal((await stack.db.pool.query(`SELECT 1 FROM sims WHERE state <> 'inventory'`)).rowCount, 0, 'no SIM changed state');
  t.equal((await stack.db.pool.query('SELECT 1 FROM provisioning_batches')).rowCount, 0, 'no batch was written');

  const created = await stack.api('POST', '/v1/provisioning-batches', { importId });
  t.equal(created.status, 202, JSON.stringify(created.body));
  t.equal(created.body.simCount, CARDS);
  t.equal(created.body.state, 'keygen');
  t.equal(created.body.counts.queued, CARDS, 'every SIM starts queued');

  const again = await stack.api('POST', '/v1/provisioning-batches', { iccids: [sims[0]!.iccid] });
  t.equal(again.status, 409, 'a SIM being provisioned cannot join another batch');
  t.equal(again.body.code, 'SIMS_NOT_PROVISIONABLE');

  const batch = await waitBatch(stack, created.body.id);
  t.equal(batch.state, 'completed', JSON.stringify(batch.failures));
  t.equal(batch.counts.done, CARDS, 'every SIM confirmed its identity');
  t.equal(batch.finished, CARDS);
  t.same(batch.failures, []);
  t.match(batch.chain, { merkleRoot: /^0x[0-9a-f]{64}$/, leafCount: CARDS, transactionHash: /^0x[0-9a-f]{64}$/ });
  t.ok(batch.throughput > 0);

  const states = (await stack.db.pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM sims GROUP BY state')).rows;
  t.same(states, [{ state: 'active', n: CARDS }], 'every SIM is active');

  // One anchoring transaction for the whole batch.
  const anchors = (await stack.db.pool.query(`SELECT id FROM chain_outbox WHERE id LIKE 'provisioning:%'`)).rows;
  t.equal(anchors.length, 1, 'one chain transaction');

  // Every device verifies on chain with what GET /v1/devices/{address} gives.
  const registry = DeviceRegistry__factory.connect(batch.chain.registry, stack.backend.chain!.connection.provider);
  const devices = (await stack.db.pool.query<{ address: string; iccid: string; msisdn: string }>(
    'SELECT d.address, d.iccid, s.msisdn FROM devices d JOIN sims s USING (iccid) ORDER BY d.iccid')).rows;
  t.equal(devices.length, CARDS, 'a device per SIM');
  let verified = 0;
  for (const d of devices) {
    const got = await stack.api('GET', `/v1/devices/${d.address}`);
    t.equal(got.status, 200);
    if (await registry.verify(got.body.batch.chainBatchId, got.body.address, got.body.imsiCommitment, got.body.proof)) verified++;
  }
  t.equal(verified, CARDS, 'every device verifies on chain through its proof');

  // A forged binding does not verify.
  const one = (await stack.api('GET', `/v1/devices/${devices[0]!.address}`)).body;
  t.notOk(await registry.verify(one.batch.chainBatchId, devices[1]!.address, one.imsiCommitment, one.proof), 'another device with this proof does not verify');
  t.equal(one.iccid, devices[0]!.iccid, 'the operator sees the ICCID');

  // A city sees the commitment, not the ICCID.
  const city = await insertTenant(stack.db.pool, 'city', 'customer');
  const cityKey = (await createApiKey(stack.db.pool, city, 'municipal-it', 'it')).token;
  const seen = await stack.api('GET', `/v1/devices/${devices[0]!.address}`, undefined, cityKey);
  t.equal(seen.status, 200);
  t.notOk('iccid' in seen.body, 'no ICCID for others');
  t.notOk('salt' in seen.body, 'no salt for others');
  t.equal(seen.body.imsiCommitment, one.imsiCommitment);
  t.equal((await stack.api('GET', `/v1/provisioning-batches/${batch.id}`, undefined, cityKey)).status, 403, 'a city cannot read batches');

  // Every card holds its key and its identity: chain id, registry, batch id.
  for (const d of devices.slice(0, 20)) {
    const card = await stack.fleet.cards.get(d.msisdn);
    const state = card!.snapshot();
    t.equal(state.lifecycle, 'operational');
    t.equal(state.identity.registry, batch.chain.registry.slice(2), `card ${d.iccid} knows the registry`);
    t.equal(state.identity.batchId, batch.chain.batchId.slice(2), `card ${d.iccid} knows its batch`);
    t.equal(BigInt(`0x${state.identity.chainId}`), BigInt(batch.chain.chainId), `card ${d.iccid} knows the chain`);
  }

  // Every OTA command was answered by a verified PoR, and no counter was used twice.
  const ota = (await stack.db.pool.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ota_messages GROUP BY state`)).rows;
  t.same(ota, [{ state: 'por-received', n: 2 * CARDS }], 'two OTA commands per SIM, each with its PoR');
  const reused = (await stack.db.pool.query('SELECT iccid, keyset_index, cntr FROM ota_messages GROUP BY 1, 2, 3 HAVING count(*) > 1')).rowCount;
  t.equal(reused, 0, 'no OTA counter used twice');
});

t.test('a batch refuses SIMs whose import has no vendor CA, and a card that gives no PoR fails with the reason', async (t) => {
  const stack = await startStack({ cards: 6, porTimeoutSeconds: 2, firstSerial: 9000 });
  const created = await stack.api('POST', '/v1/sim-imports', stack.vendorFileText);
  const importId = created.body.id as string;
  await until('import', async () => (await stack.api('GET', `/v1/sim-imports/${importId}`)).body.state === 'completed');
  const noCa = await stack.api('POST', '/v1/provisioning-batches', { importId });
  t.equal(noCa.status, 409);
  t.equal(noCa.body.code, 'VENDOR_CA_MISSING');
  t.equal((await stack.api('PUT', `/v1/sim-imports/${importId}/vendor-ca`, { certificate: 'not a certificate' })).status, 422, 'a bad CA is refused');
  t.equal((await stack.api('PUT', `/v1/sim-imports/${importId}/vendor-ca`, { certificate: stack.vendorCaPem })).status, 200);

  const sims = (await stack.db.pool.query<{ iccid: string; msisdn: string }>('SELECT iccid, msisdn FROM sims ORDER BY iccid')).rows;
  const offline = sims[0]!;
  stack.fleet.setOnline(offline.msisdn, false);
  // Another card no longer holds the keys the operator has: it cannot check the packet's CC.
  const foreign = sims[1]!;
  const card = (await stack.fleet.cards.get(foreign.msisdn.replace('+', '')))!;
  card.memory.transaction((draft) => {
    draft.keysets[0]!.kid = { ...draft.keysets[0]!.kid, key: 'ff'.repeat(draft.keysets[0]!.kid.key.length / 2) };
  });
  stack.fleet.cards.save(foreign.msisdn.replace('+', ''), card);
  const batch = await stack.api('POST', '/v1/provisioning-batches', { importId, deadlineSeconds: 600 });
  t.equal(batch.status, 202);
  const done = await waitBatch(stack, batch.body.id);
  t.equal(done.state, 'completed');
  t.equal(done.counts.done, sims.length - 2, 'the others are provisioned');
  t.equal(done.counts.failed, 2, 'the offline handset and the card with other keys failed');
  t.match(done.failures, [
    { iccid: offline.iccid, state: 'failed', code: 'NO_POR', reason: /no PoR after 3 attempts/ },
    { iccid: foreign.iccid, state: 'failed', code: 'POR_SECURITY_ERROR', porStatus: 1, attempts: 1, reason: /rc-cc-ds-failed/ },
  ]);
  t.equal((await stack.db.pool.query(`SELECT state FROM sims WHERE iccid = $1`, [offline.iccid])).rows[0].state, 'failed');
  t.equal(done.chain.leafCount, sims.length - 2, 'the tree holds only attested keys');

  // Back online, the failed SIM can be provisioned again.
  stack.fleet.setOnline(offline.msisdn, true);
  const retry = await stack.api('POST', '/v1/provisioning-batches', { iccids: [offline.iccid] });
  t.equal(retry.status, 202);
  const second = await waitBatch(stack, retry.body.id);
  t.equal(second.state, 'completed');
  t.equal(second.counts.done, 1);
  t.equal((await stack.db.pool.query(`SELECT state FROM sims WHERE iccid = $1`, [offline.iccid])).rows[0].state, 'active');
});

t.test('at the deadline, SIMs still without a key are failed and the batch anchors the rest', async (t) => {
  const stack = await startStack({ cards: 4, porTimeoutSeconds: 120, firstSerial: 12_000 });
  const importId = await stack.importInventory();
  const sims = (await stack.db.pool.query<{ iccid: string; msisdn: string }>('SELECT iccid, msisdn FROM sims ORDER BY iccid')).rows;
  const late = sims[3]!;
  // Offline for longer than the batch may wait: the SMSC keeps its command, no PoR comes.
  stack.fleet.setOnline(late.msisdn, false);
  const created = await stack.api('POST', '/v1/provisioning-batches', { importId, deadlineSeconds: 10 });
  t.equal(created.status, 202);
  const keyed = await until('the others keyed', async () => {
    const b = (await stack.api('GET', `/v1/provisioning-batches/${created.body.id}`)).body;
    return b.counts.keyed === 3 ? b : null;
  });
  t.equal(keyed.state, 'keygen', 'the batch waits for its last SIM until the deadline');
  t.equal(keyed.counts['keygen-sent'], 1);
  const done = await waitBatch(stack, created.body.id);
  t.equal(done.state, 'completed');
  t.equal(done.counts.done, 3);
  t.match(done.failures, [{ iccid: late.iccid, state: 'failed', code: 'DEADLINE' }]);
  t.equal(done.chain.leafCount, 3, 'the late SIM is not in the tree');
  t.ok(new Date(done.keygenFinishedAt).getTime() >= new Date(done.deadlineAt).getTime() - 1000, 'anchored at the deadline, not before');
  t.equal((await stack.db.pool.query('SELECT state FROM sims WHERE iccid = $1', [late.iccid])).rows[0].state, 'failed');
});

t.test('a card that never confirms its identity: no other command meanwhile, push-failed after its attempts, SIM active', async (t) => {
  const stack = await startStack({ cards: 3, porTimeoutSeconds: 3, firstSerial: 15_000 });
  const importId = await stack.importInventory();
  const sims = (await stack.db.pool.query<{ iccid: string; msisdn: string }>('SELECT iccid, msisdn FROM sims ORDER BY iccid')).rows;
  const mute = sims[2]!;
  // The chain mines nothing for now: the batch stops at its anchoring, every key in.
  const node = new JsonRpcProvider(stack.anvil.rpcUrl);
  t.teardown(() => node.destroy());
  await node.send('evm_setAutomine', [false]);
  const created = await stack.api('POST', '/v1/provisioning-batches', { importId });
  await until('the batch anchoring', async () => (await stack.api('GET', `/v1/provisioning-batches/${created.body.id}`)).body.state === 'anchoring', 60_000);
  t.equal((await stack.db.pool.query(`SELECT state FROM provisioning_items WHERE iccid = $1`, [mute.iccid])).rows[0].state, 'keyed', 'its key came back');
  // Then the handset goes away before its STORE DATA, and the chain resumes.
  stack.fleet.setOnline(mute.msisdn, false);
  await node.send('evm_setAutomine', [true]);
  await node.send('evm_mine', []);
  await until('its identity push under way', async () =>
    (await stack.db.pool.query(`SELECT 1 FROM provisioning_items WHERE iccid = $1 AND state IN ('anchored', 'identity-sent')`, [mute.iccid])).rowCount === 1, 60_000);
  const suspend = await stack.api('POST', `/v1/sims/${mute.iccid}/suspend`);
  t.equal(suspend.status, 409, 'no lifecycle command while the identity push is open');
  t.equal(suspend.body.code, 'PROVISIONING_OPEN');
  const rotate = await stack.api('POST', `/v1/sims/${mute.iccid}/ota-keysets/rotate`, {});
  t.equal(rotate.status, 409, 'no key rotation either');
  t.equal(rotate.body.code, 'PROVISIONING_OPEN');
  const done = await waitBatch(stack, created.body.id);
  t.equal(done.state, 'completed');
  t.equal(done.counts.done, 2);
  t.match(done.failures, [{ iccid: mute.iccid, state: 'push-failed', code: 'NO_POR', attempts: 3 }]);
  t.equal((await stack.db.pool.query('SELECT state FROM sims WHERE iccid = $1', [mute.iccid])).rows[0].state, 'active', 'its binding on chain stands: the SIM is active');
  const device = (await stack.db.pool.query<{ address: string }>('SELECT address FROM devices WHERE iccid = $1', [mute.iccid])).rows[0]!;
  t.equal((await stack.api('GET', `/v1/devices/${device.address}`)).status, 200);
  t.equal((await stack.api('POST', `/v1/sims/${mute.iccid}/suspend`)).status, 202, 'once the push has ended, it can be suspended');
});

t.test('with the card certificates in the vendor file, the cards leave them out: 2 SMS of PoR, attested against the certificate held', async (t) => {
  const cards = 12;
  const stack = await startStack({ cards, certificates: true, firstSerial: 18_000 });
  const importId = await stack.importInventory();
  const sims = (await stack.db.pool.query<{ iccid: string; msisdn: string; cert: Buffer | null }>(
    'SELECT iccid, msisdn, attestation_certificate AS cert FROM sims ORDER BY iccid')).rows;
  t.equal(sims.length, cards);
  t.ok(sims.every((s) => s.cert !== null && s.cert.length > 300), 'every SIM holds its certificate from the file');

  // One SIM holds a neighbour's certificate (a vendor file gone wrong): its key is not believed.
  const [wrong, neighbour] = [sims[0]!, sims[1]!];
  await stack.db.pool.query('UPDATE sims SET attestation_certificate = $2 WHERE iccid = $1', [wrong.iccid, neighbour.cert]);
  const moBefore = stack.smsc.stats.mo;
  const created = await stack.api('POST', '/v1/provisioning-batches', { importId });
  t.equal(created.status, 202, JSON.stringify(created.body));
  const batch = await waitBatch(stack, created.body.id);
  t.equal(batch.state, 'completed', JSON.stringify(batch.failures));
  t.equal(batch.counts.done, cards - 1, 'the others are provisioned');
  t.match(batch.failures, [{ iccid: wrong.iccid, state: 'failed', code: 'ATTESTATION_FAILED', reason: 'CERTIFICATE_SUBJECT_MISMATCH' }]);
  t.equal(batch.chain.leafCount, cards - 1);

  // Key generation answered in 2 SMS (not 4), identity in 1: 3 MO SMS a SIM.
  t.equal(stack.smsc.stats.mo - moBefore, 3 * (cards - 1) + 2, 'MO SMS: 2 for each key generation, 1 for each identity');
  const commands = (await stack.api('GET', `/v1/sims/${sims[2]!.iccid}/ota-commands`)).body;
  const keygen = (commands.items ?? commands).find((c: any) => c.por && c.por.dataLength > 100);
  t.ok(keygen, 'the key generation command is listed with its PoR');
  t.ok(keygen.por.dataLength < 200, `the key template without the certificate (${keygen.por.dataLength} bytes)`);

  // The devices verify on chain as any other.
  const registry = DeviceRegistry__factory.connect(batch.chain.registry, stack.backend.chain!.connection.provider);
  const device = (await stack.db.pool.query<{ address: string }>('SELECT address FROM devices WHERE iccid = $1', [sims[2]!.iccid])).rows[0]!;
  const got = (await stack.api('GET', `/v1/devices/${device.address}`)).body;
  t.ok(await registry.verify(got.batch.chainBatchId, got.address, got.imsiCommitment, got.proof), 'verified on chain');
});

t.test('after the anchoring, each identity chunk sets its SIMs active in the transaction that sends them STORE DATA', async (t) => {
  const stack = await startStack({ cards: 4, firstSerial: 24_000 });
  const batch = await batchAtAnchoring(t, stack);
  const { batchId, iccids } = batch;

  // Not yet confirmed: an identity job takes none of the keyed items.
  t.same(await dispatchStep(stack.backend.services, 'identity', { batchId }), [], 'no STORE DATA before the anchoring is confirmed');
  const itemStates = async () => (await stack.db.pool.query<{ state: string; attempts: number; anchored: boolean }>(
    'SELECT state, attempts, anchored_at IS NOT NULL AS anchored FROM provisioning_items WHERE batch_id = $1 ORDER BY iccid', [batchId])).rows;
  const simStates = async () => (await stack.db.pool.query<{ state: string }>('SELECT state FROM sims ORDER BY iccid')).rows.map((r) => r.state);
  t.same((await itemStates()).map((i) => i.state), ['keyed', 'keyed', 'keyed', 'keyed']);

  // One item locked by another transaction holds the chunk's job (its SELECT ... FOR UPDATE
  // waits): the batch is anchored, its items keyed, its SIMs not active yet.
  const release = await batch.lockItem(iccids[3]!);
  await batch.confirm();
  const anchored = await until('the anchoring confirmed', async () => {
    const b = (await stack.api('GET', `/v1/provisioning-batches/${batchId}`)).body;
    return b.state === 'identity' ? b : null;
  }, 60_000);
  await new Promise((r) => setTimeout(r, 1500));
  t.match(anchored.counts, { keyed: 0, anchored: 4, 'identity-sent': 0, done: 0 }, 'the API counts the keyed items of an anchored batch as anchored');
  t.same((await itemStates()).map((i) => i.state), ['keyed', 'keyed', 'keyed', 'keyed'], 'nothing sent while the chunk waits');
  t.same(await simStates(), ['provisioning', 'provisioning', 'provisioning', 'provisioning'], 'no SIM active before its STORE DATA is written');

  await release();
  const done = await waitBatch(stack, batchId);
  t.equal(done.state, 'completed');
  t.equal(done.counts.done, 4);
  t.same(await simStates(), ['active', 'active', 'active', 'active']);
  t.same(await itemStates(), iccids.map(() => ({ state: 'done', attempts: 1, anchored: true })), 'one send each, counted from the identity step, with the time they were anchored');
});

t.test('keyed items of an anchored batch whose identity job was lost are swept and pushed', async (t) => {
  const stack = await startStack({ cards: 3, firstSerial: 27_000, stalledSeconds: 2, stalledCheckMs: 300 });
  const batch = await batchAtAnchoring(t, stack);
  const { batchId } = batch;
  const release = await batch.lockItem(batch.iccids[0]!);
  await batch.confirm();
  // The chunk's job waits on the lock; it is lost (its row deleted, its connection cut), as
  // a job of a worker that died is until pg-boss expires it.
  const waiting = await until('the chunk job waiting on the lock', async () => (await stack.db.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF i%'`)).rows[0], 60_000);
  await stack.db.pool.query(`DELETE FROM pgboss.job WHERE name = 'provisioning-identity'`);
  await stack.db.pool.query('SELECT pg_terminate_backend($1)', [waiting.pid]);
  await release();
  t.same((await stack.db.pool.query('SELECT state FROM provisioning_items WHERE batch_id = $1 ORDER BY iccid', [batchId])).rows.map((r) => r.state),
    ['keyed', 'keyed', 'keyed'], 'no job left to push them');
  const done = await waitBatch(stack, batchId);
  t.equal(done.state, 'completed', 'the sweeper pushed them');
  t.equal(done.counts.done, 3);
  t.same((await stack.db.pool.query<{ state: string }>('SELECT state FROM sims ORDER BY iccid')).rows.map((r) => r.state), ['active', 'active', 'active']);
});
