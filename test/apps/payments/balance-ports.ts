import { privateKeyToAccount } from 'viem/accounts';
import type { Address } from 'viem';
import type { EvmChain } from '../../../src/chain/evm/chain.js';
import { findDeployment } from '../../../src/chain/evm/deployments.js';
import { chainReaders, deploymentOutbox } from '../../../src/wiring/roles.js';
import type { BalanceTaskPorts, SendPorts } from '../../../src/apps/payments/balances/index.js';
import type { PaymentsSettings } from '../../../src/apps/payments/settings.js';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { EVM_CHAIN, type PaymentsWorld } from '../../harness/payments-world.js';
import { DEV_KEYS } from './dev-keys.js';
import { connectTestChain } from '../../harness/evm.js';

/** The settings payments.config.ts gives the app on its EVM chain (the defaults of index.ts). */
export const EVM_SETTINGS: PaymentsSettings = {
  chains: [{ family: 'evm', chain: EVM_CHAIN }],
  platformSigner: 'platform',
  payFeeBps: 90,
  pushProviders: [],
  refreshCron: '*/5 * * * *',
  reconcileCron: '0 * * * *',
};

/**
 * The ports the app's tasks and routes get, from the world's stack (opened by `start`), with chain reads through a
 * connection of their own: its RPC meter (`evm.conn.meter`) counts what these ports call, not what the roles running
 * in the world (the worker's relayer) call meanwhile.
 */
export async function paymentsPorts(world: PaymentsWorld): Promise<{ ports: SendPorts & BalanceTaskPorts; evm: EvmChain }> {
  const stack = world.stack();
  const evm = await connectTestChain(world.anvil.rpcUrl, { deploymentsFile: world.env.DEPLOYMENTS_FILE! });
  if (evm.key !== EVM_CHAIN) throw new Error(`the world's anvil is ${evm.key}, not ${EVM_CHAIN}`);
  const ports = {
    pool: stack.database.pool,
    outbox: await deploymentOutbox(stack),
    logger: stack.logger,
    ...chainReaders([evm]),
    deployment: (chain: string, contract: string) => findDeployment(world.env.DEPLOYMENTS_FILE!, chain, contract)?.address,
    settings: EVM_SETTINGS,
  };
  return { ports, evm };
}

/** A user with an account on the EVM chain: custodial at dev key `key`'s address (the platform holds that key), else at `address`. */
export async function evmAccount(world: PaymentsWorld, ref: string, holder: { key: 1 | 2 | 3 } | { address: Address }) {
  const user = await ensureUser(world.pool(), { externalRef: ref });
  const address = 'key' in holder ? privateKeyToAccount(DEV_KEYS[holder.key]).address : holder.address;
  const account = await addAccount(world.pool(), { userId: user.id, chain: EVM_CHAIN, address, custody: 'key' in holder ? 'custodial' : 'user' });
  return { ...account, address: account.address as Address };
}
