/**
 * Interoperability with SMPP code nobody here wrote: Debian's Net::SMPP (libnet-smpp-perl).
 * - A Perl SMSC against our ESME: binary OTA user data in, the receipt and a binary MO out,
 *   byte for byte, and a wrong password refused.
 * - A Perl ESME against our SMSC simulator and handset fleet: a real secured command goes in,
 *   the card's PoR comes back to the Perl ESME as MO, and verifies with the keyset.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type smppTypes from 'smpp';
import {
  commandSmsUserData,
  createOtaKey,
  getStatusApdu,
  parseStatus,
  porUserDataOf,
  readPor,
  type OtaAlgorithm,
} from '../../sim-applet/index.js';
import { Esme } from '../../provisioning-api/smpp/esme.js';
import { otaSubmitFields, userDataOf } from '../../provisioning-api/smpp/ota-pdu.js';
import { isDeliveryReceipt, parseDeliveryReceipt } from '../../provisioning-api/smpp/receipts.js';
import { ADMIN_SPI } from '../../provisioning-api/smpp/ota-gateway.js';
import { VendorIndex } from '../../simulators/fleet/index.js';
import { until, NETWORK } from '../smpp/helpers.js';
import { otaEnv, startFleet } from '../smpp/ota-env.js';

const PERL = join(import.meta.dirname, 'perl');

function perl(script: string, args: string[]): { lines: string[]; next(match: RegExp, timeoutMs?: number): Promise<string>; done: Promise<number | null> } {
  const child = spawn('perl', [join(PERL, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill();
  });
  return {
    lines,
    done,
    async next(match, timeoutMs = 10_000) {
      await until(`perl ${script}: ${match} (stderr: ${stderr})`, () => lines.some((l) => match.test(l)), timeoutMs);
      return lines.find((l) => match.test(l))!;
    },
  };
}

t.test('our ESME against a Net::SMPP SMSC', async (t) => {
  const mo = Buffer.concat([Buffer.from('027100', 'hex'), Buffer.from(Array.from({ length: 120 }, (_, i) => (i * 37) & 0xff))]);
  const smsc = perl('smsc.pl', [mo.toString('hex')]);
  const port = Number((await smsc.next(/^port \d+/)).split(' ')[1]);

  const refused = new Esme({ host: '127.0.0.1', port, systemId: 'perl-op', password: 'wrong', pduTimeoutMs: 3000 }, () => 0);
  await t.rejects(refused.start(), { code: 'SMPP_BIND_FAILED', status: 0x0e }, 'a wrong password is refused by Net::SMPP');

  const inbound: smppTypes.PDU[] = [];
  const esme = new Esme({ host: '127.0.0.1', port, systemId: 'perl-op', password: 'secret', pduTimeoutMs: 3000 }, (pdu) => {
    inbound.push(pdu);
    return 0;
  });
  await esme.start();
  const ud = Buffer.concat([Buffer.from('027000', 'hex'), Buffer.from([0x00, 0x00, 0xff, 0x1b, 0x80]), randomBytes(120)]);
  const { messageId } = await esme.submit(otaSubmitFields(ud, { source: { ton: 1, npi: 1, address: '4912345' }, msisdn: '+447700900123' }));
  const line = await smsc.next(/^submit /);
  t.equal(line, `submit ${messageId} ${ud.toString('hex')} esm=64 pid=127 dcs=246 rd=1 dest=447700900123`, 'Net::SMPP read our submit_sm byte for byte');

  await until('receipt and MO', () => inbound.length === 2);
  const receipt = inbound.find(isDeliveryReceipt)!;
  t.same(parseDeliveryReceipt(receipt), { messageId, stat: 'DELIVRD', err: '000' }, 'the receipt names our message');
  const moPdu = inbound.find((p) => !isDeliveryReceipt(p))!;
  t.equal(userDataOf(moPdu).toString('hex'), mo.toString('hex'), 'the MO arrived byte for byte');
  t.equal(moPdu.data_coding, 0xf6);
  await until('both answered', () => smsc.lines.filter((l) => /^deliver_sm_resp .* status=0$/.test(l)).length === 2);
  await esme.stop();
  await smsc.next(/^unbind$/);
});

t.test('a Net::SMPP ESME against our SMSC simulator and fleet', async (t) => {
  // The Perl ESME binds as the operator account.
  const env = await otaEnv({ count: 2, smsc: { accounts: [{ systemId: 'perl-op', password: 'secret', role: 'operator' }, { ...NETWORK, role: 'network' }] } });
  const fleet = await startFleet(env);
  const sim = env.sims[0]!;
  const index = await VendorIndex.build(env.vendorFile);
  const row = (await index.row(sim.msisdn.slice(1)))!;
  await index.close();
  const ks = row.keysets[0]!;
  const keyset = { index: ks.index, kic: createOtaKey(ks.kicAlg as OtaAlgorithm, Buffer.from(ks.kic, 'hex')), kid: createOtaKey(ks.kidAlg as OtaAlgorithm, Buffer.from(ks.kid, 'hex')) };
  const parts = commandSmsUserData({ spi: ADMIN_SPI, keyset, tar: Buffer.from(row.tar, 'hex'), cntr: 7, commands: [getStatusApdu()] });

  const esme = perl('esme.pl', [String(env.port), sim.msisdn.slice(1), ...parts.map((p) => Buffer.from(p).toString('hex'))]);
  t.equal(await esme.done, 0, 'the Perl ESME ran to the end');
  t.ok(esme.lines.includes('bound'));
  const ids = esme.lines.filter((l) => l.startsWith('submitted ')).map((l) => l.split(' ')[1]);
  t.equal(ids.length, parts.length);
  const receipts = esme.lines.filter((l) => l.startsWith('receipt '));
  t.same(receipts.map((l) => l.split(' ')[1]), ids, 'a receipt per message, with its id');
  t.ok(receipts.every((l) => l.includes('stat:DELIVRD')));
  const mo = esme.lines.filter((l) => l.startsWith('mo ')).map((l) => l.split(' '));
  t.ok(mo.length >= 1, 'the PoR came back as MO');
  t.ok(mo.every((m) => m[1] === sim.msisdn.slice(1) && m[3] === 'esm=64' && m[4] === 'pid=127' && m[5] === 'dcs=246'), 'from the handset, UDHI, SIM data download, 8-bit');
  const { por, response } = readPor(porUserDataOf(mo.map((m) => Buffer.from(m[2]!, 'hex'))), ADMIN_SPI, keyset);
  t.equal(por.ccValid, true, 'the PoR verifies with the keyset: every byte arrived as the card sent it');
  t.equal(por.cntr, 7);
  t.equal(por.status, 0);
  t.equal(parseStatus(response!.data).otaCounters.get(1), 7, 'the card took counter 7');
  t.equal(fleet.stats.mt, parts.length);
});
