import { inject } from 'vitest';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEther,
  type Account,
  type Chain,
} from 'viem';
import { foundry } from 'viem/chains';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';

/** Clients for the run's shared anvil (automine: every transaction is mined at once). */
export function testChain() {
  const rpcUrl = inject('rpcUrl');
  const transport = http(rpcUrl);
  const chain: Chain = foundry;
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0 });
  const testClient = createTestClient({ chain, transport, mode: 'anvil' });

  /** A fresh account with 1000 ETH, so parallel test files never race on a nonce. */
  async function newAccount() {
    const privateKey = generatePrivateKey();
    const account: Account = privateKeyToAccount(privateKey);
    await testClient.setBalance({ address: account.address, value: parseEther('1000') });
    const wallet = createWalletClient({ account, chain, transport });
    return { privateKey, account, address: account.address, wallet };
  }

  return { rpcUrl, chain, publicClient, testClient, newAccount };
}
