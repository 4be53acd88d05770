import { expect } from 'vitest';
import { createPublicClient, createTestClient, createWalletClient, http, parseEther, type Account, type Chain, type Hex, type TransactionReceipt } from 'viem';
import { foundry } from 'viem/chains';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { freePort } from '../../src/runtime/ports.js';

/**
 * A private anvil for a contract test file, and its clients: funded fresh accounts,
 * waits for a transaction that must succeed or must be mined reverted, block times.
 * `hardfork: 'berlin', chainId: 100` makes a Polygon Edge-like chain (no base fee:
 * `fees` then says legacy, and `sent` keeps every hash for the type-0 checks).
 */
export async function startContractChain(options: { hardfork?: string; chainId?: number } = {}) {
  const anvil: Anvil = await startAnvil({ port: await freePort(), ...options });
  const chain: Chain = { ...foundry, id: options.chainId ?? foundry.id };
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0, pollingInterval: 50 });
  const testClient = createTestClient({ chain, transport, mode: 'anvil' });
  // Before London there is no base fee: say `legacy` explicitly (viem would otherwise be told type 2).
  const legacy = (await publicClient.getBlock()).baseFeePerGas == null;
  const fees = legacy ? { type: 'legacy' as const } : {};
  /** Every transaction sent through {mined} or {minedReverted}, for the legacy checks. */
  const sent: Hex[] = [];

  async function newAccount() {
    const account: Account = privateKeyToAccount(generatePrivateKey());
    await testClient.setBalance({ address: account.address, value: parseEther('1000') });
    const wallet = createWalletClient({ account, chain, transport });
    return { account, address: account.address, wallet };
  }

  async function mined(hash: Hex): Promise<TransactionReceipt> {
    sent.push(hash);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    return receipt;
  }

  /** Waits for a transaction sent with a fixed gas limit (no estimate) that must be mined as reverted. */
  async function minedReverted(hash: Hex): Promise<TransactionReceipt> {
    sent.push(hash);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('reverted');
    expect(receipt.logs).toHaveLength(0);
    return receipt;
  }

  const timestampOf = async (receipt: TransactionReceipt) => (await publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
  const latestTimestamp = async () => (await publicClient.getBlock({ blockTag: 'latest' })).timestamp;

  /** Mines an empty block at exactly `timestamp`. */
  async function mineAt(timestamp: bigint): Promise<void> {
    await testClient.setNextBlockTimestamp({ timestamp });
    await testClient.mine({ blocks: 1 });
  }

  return { anvil, chain, publicClient, testClient, legacy, fees, sent, newAccount, mined, minedReverted, timestampOf, latestTimestamp, mineAt };
}

export type ContractChain = Awaited<ReturnType<typeof startContractChain>>;

/** Every opcode of `code`, skipping PUSH data: to show bytecode runs before Shanghai (no PUSH0, MCOPY, TLOAD, TSTORE). */
export function opcodes(code: Hex): Set<number> {
  const bytes = Buffer.from(code.slice(2), 'hex');
  const found = new Set<number>();
  for (let i = 0; i < bytes.length; i++) {
    const op = bytes[i]!;
    found.add(op);
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
  }
  return found;
}
