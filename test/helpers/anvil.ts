/**
 * A fresh anvil per test file (free loopback port), an outbox per dev account, and a deployed
 * DeviceRegistry; all stopped when the file's tests end.
 */
import t from 'tap';
import { DeviceRegistry__factory, deployDeviceRegistry, type DeviceRegistry } from '../../contracts/index.js';
import {
  MemoryOutboxStore,
  isChainError,
  isRevertWith,
  RegistryReader,
  TxOutbox,
  connectChain,
  outboxCreationSender,
  type ChainConnection,
  type TxOutboxOptions,
} from '../../provisioning-api/chain/index.js';
import { startAnvil, type AnvilAccount, type AnvilNode, type AnvilOptions } from '../../simulators/chain/index.js';

export interface Actor extends AnvilAccount {
  outbox: TxOutbox;
}

export interface ChainFixture {
  node: AnvilNode;
  connection: ChainConnection;
  /** Registry admin (account 0). */
  admin: Actor;
  /** A registrar named at deployment (account 1). */
  registrar: Actor;
  /** A second registrar, another operator sharing the registry (account 2). */
  otherRegistrar: Actor;
  /** An account with no role (account 3). */
  outsider: Actor;
  /** Address of the deployed DeviceRegistry. */
  registryAddress: string;
  /** The registry connected to the provider, for reads and static calls. */
  registry: DeviceRegistry;
  reader: RegistryReader;
  /** A further outbox for any dev account. */
  outboxFor(account: AnvilAccount, options?: Partial<TxOutboxOptions>): Promise<TxOutbox>;
}

export interface ChainFixtureOptions {
  anvil?: AnvilOptions;
  outbox?: Partial<TxOutboxOptions>;
}

export async function startChain(options: ChainFixtureOptions = {}): Promise<ChainFixture> {
  const node = await startAnvil(options.anvil ?? {});
  const outboxes: TxOutbox[] = [];
  t.teardown(async () => {
    for (const o of outboxes) await o.close();
    await node.stop();
  });
  const connection = await connectChain(node.rpcUrl);
  const outboxFor = async (account: AnvilAccount, extra: Partial<TxOutboxOptions> = {}): Promise<TxOutbox> => {
    const outbox = await TxOutbox.open({
      connection,
      privateKey: account.privateKey,
      store: new MemoryOutboxStore(),
      pollIntervalMs: 50,
      ...options.outbox,
      ...extra,
    });
    outboxes.push(outbox);
    return outbox;
  };
  const actor = async (i: number): Promise<Actor> => {
    const account = node.accounts[i]!;
    return { ...account, outbox: await outboxFor(account) };
  };
  const [admin, registrar, otherRegistrar, outsider] = await Promise.all([actor(0), actor(1), actor(2), actor(3)]);
  const { deployment } = await deployDeviceRegistry(outboxCreationSender(admin!.outbox), connection.provider, {
    admin: admin!.address,
    registrars: [registrar!.address, otherRegistrar!.address],
  });
  return {
    node,
    connection,
    admin: admin!,
    registrar: registrar!,
    otherRegistrar: otherRegistrar!,
    outsider: outsider!,
    registryAddress: deployment.address,
    registry: DeviceRegistry__factory.connect(deployment.address, connection.provider),
    reader: new RegistryReader(deployment.address, connection.provider),
    outboxFor,
  };
}

/** The `t` a tap subtest callback receives. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

/** Asserts that `promise` rejects with a revert by the named custom error (and these arguments). */
export async function revertsWith(tt: TapTest, promise: Promise<unknown>, errorName: string, args?: Record<string, unknown>): Promise<void> {
  try {
    await promise;
    tt.fail(`expected a revert with ${errorName}`);
  } catch (e) {
    tt.ok(isRevertWith(e, errorName), `reverts with ${errorName} (got ${e instanceof Error ? e.message : String(e)})`);
    if (args !== undefined && isChainError(e) && e.revert?.kind === 'custom') tt.match(e.revert.args, args, `${errorName} arguments`);
  }
}
