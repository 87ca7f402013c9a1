/**
 * Shared pieces of the SMPP tests: an SMSC simulator on a free loopback port with an
 * operator and a network account, and a bare network-side bind that records what reaches it.
 */
import t from 'tap';
import type smppTypes from 'smpp';
import { SmscSimulator, type SmscOptions } from '../../simulators/smsc/index.js';
import { SmppBind } from '../../provisioning-api/smpp/bind.js';
import type { EsmeOptions } from '../../provisioning-api/smpp/esme.js';

export const OPERATOR = { systemId: 'operator', password: 'op-secret' };
export const NETWORK = { systemId: 'network', password: 'net-secret' };

export async function startSmsc(options: Partial<SmscOptions> = {}): Promise<{ smsc: SmscSimulator; port: number }> {
  const smsc = new SmscSimulator({
    accounts: [
      { ...OPERATOR, role: 'operator' },
      { ...NETWORK, role: 'network' },
    ],
    retry: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  const { port } = await smsc.start();
  t.teardown(() => smsc.stop());
  return { smsc, port };
}

export function bindOptions(port: number, extra: Partial<EsmeOptions> = {}): EsmeOptions {
  return { host: '127.0.0.1', port, ...OPERATOR, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 200 }, ...extra };
}

/** A network bind (the radio side) answering every deliver_sm with `status()`, recording each. */
export async function networkSide(port: number, status: (pdu: smppTypes.PDU) => number | Promise<number> = () => 0): Promise<{ bind: SmppBind; received: smppTypes.PDU[] }> {
  const received: smppTypes.PDU[] = [];
  const bind = new SmppBind({ host: '127.0.0.1', port, ...NETWORK, pduTimeoutMs: 2000, reconnect: { initialMs: 20, maxMs: 200 } }, async (pdu) => {
    received.push(pdu);
    return status(pdu);
  });
  await bind.start();
  t.teardown(() => bind.stop());
  return { bind, received };
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
