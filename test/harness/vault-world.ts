import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  http,
  keccak256,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { recordDeployment } from '../../src/chain/evm/deployments.js';
import { freePort } from '../../src/runtime/ports.js';
import { blockProofCredentialVaultAbi as abi, blockProofCredentialVaultBytecode as bytecode } from '../../contracts/artifacts/BlockProofCredentialVault.js';
import { scratchDir } from './cli.js';

/** anvil's default dev accounts are unlocked, which anvil_reorg needs for the transactions it mines. */
const MNEMONIC = 'test test test test test test test test test test test junk';

let fingerprintCounter = 0;
export const nextFingerprint = (): Hex => keccak256(toHex(`doc-${process.pid}-${Date.now()}-${fingerprintCounter++}`));

/**
 * A private anvil with a deployed credential vault, an institution and helpers to
 * make history (issue, revoke, reorg). Private, because reorgs would disturb other
 * test files on the shared anvil.
 */
export async function vaultWorld(options: { blockTime?: number; hardfork?: string } = {}) {
  const anvil: Anvil = await startAnvil({
    port: await freePort(),
    keepStates: 128,
    ...(options.blockTime ? { blockTime: options.blockTime } : {}),
    ...(options.hardfork ? { hardfork: options.hardfork } : {}),
  });
  // Also when the test fails or times out before its own cleanup runs (anvil is detached and would outlive the run).
  onTestFinished(() => anvil.stop());
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport, cacheTime: 0 });
  const testClient = createTestClient({ chain: foundry, transport, mode: 'anvil' });
  const admin = createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: 0 }), chain: foundry, transport });
  const institution = createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: 1 }), chain: foundry, transport });
  const student = mnemonicToAccount(MNEMONIC, { addressIndex: 2 }).address;

  // Before London there is no base fee: send legacy transactions.
  const fees = options.hardfork && ['frontier', 'homestead', 'byzantium', 'constantinople', 'petersburg', 'istanbul', 'berlin'].includes(options.hardfork) ? { type: 'legacy' as const } : {};
  const deployHash = await admin.deployContract({ abi, bytecode, args: [admin.account.address], ...fees });
  const deployed = await publicClient.waitForTransactionReceipt({ hash: deployHash });
  const vault = deployed.contractAddress!;
  const dir = scratchDir();
  const deploymentsFile = join(dir, 'deployments.json');
  recordDeployment(deploymentsFile, `evm:${foundry.id}`, 'BlockProofCredentialVault', { address: vault, blockNumber: Number(deployed.blockNumber) });

  const wait = (hash: Hex) => publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  await wait(
    await admin.writeContract({ address: vault, abi, functionName: 'upsertInstitution', args: [institution.account.address, 'Universidad', 'ipfs://uni', true], ...fees }),
  );

  const request = (metadataURI = 'ipfs://diploma') => ({ student, fingerprint: nextFingerprint(), metadataURI, expiresAt: 0n });

  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    wsUrl: anvil.wsUrl,
    publicClient,
    testClient,
    vault,
    deploymentsFile,
    institution: institution.account.address as Address,
    /** Issues `count` credentials in one transaction; returns its block. */
    async issueBatch(count: number, metadataURI?: string): Promise<bigint> {
      const hash = await institution.writeContract({
        address: vault,
        abi,
        functionName: 'issueCredentials',
        args: [Array.from({ length: count }, () => request(metadataURI))],
        gas: 200_000n + 150_000n * BigInt(count),
      });
      return (await wait(hash)).blockNumber;
    },
    /** Issues one credential for a given document fingerprint (expiring at `expiresAt` unix seconds, 0: never); returns its block. */
    async issueFingerprint(fingerprint: Hex, metadataURI = 'ipfs://diploma', expiresAt = 0n): Promise<bigint> {
      const hash = await institution.writeContract({ address: vault, abi, functionName: 'issueCredential', args: [{ student, fingerprint, metadataURI, expiresAt }] });
      return (await wait(hash)).blockNumber;
    },
    async revoke(id: bigint, reason = 'fraud'): Promise<bigint> {
      const hash = await institution.writeContract({ address: vault, abi, functionName: 'revokeCredential', args: [id, keccak256(toHex(reason))] });
      return (await wait(hash)).blockNumber;
    },
    /** Registers (or updates) any account as an institution; returns its block. */
    async upsertInstitution(account: Address, name: string): Promise<bigint> {
      const hash = await admin.writeContract({ address: vault, abi, functionName: 'upsertInstitution', args: [account, name, `ipfs://${name}`, true] });
      return (await wait(hash)).blockNumber;
    },
    async renameInstitution(name: string): Promise<bigint> {
      const hash = await admin.writeContract({ address: vault, abi, functionName: 'upsertInstitution', args: [institution.account.address, name, 'ipfs://uni', true] });
      return (await wait(hash)).blockNumber;
    },
    /**
     * Replaces the last `depth` blocks with `depth` new ones holding different
     * history: new credentials (other fingerprints), and a renamed institution.
     */
    async reorg(depth: number): Promise<void> {
      const txs = Array.from({ length: depth }, (_, i) => [
        {
          from: institution.account.address,
          to: vault,
          gas: toHex(900_000),
          data: encodeFunctionData({ abi, functionName: 'issueCredentials', args: [[request(`ipfs://reorged-${i}`), request(`ipfs://reorged-${i}b`)]] }),
        },
        i,
      ]);
      txs.push([
        {
          from: admin.account.address,
          to: vault,
          gas: toHex(300_000),
          data: encodeFunctionData({ abi, functionName: 'upsertInstitution', args: [institution.account.address, `Renamed in reorg ${depth}`, 'ipfs://uni', true] }),
        },
        depth - 1,
      ]);
      await testClient.request({ method: 'anvil_reorg' as never, params: [depth, txs] as never });
    },
    async mine(blocks: number): Promise<void> {
      await testClient.mine({ blocks });
    },
    stop: () => anvil.stop(),
  };
}

export type VaultWorld = Awaited<ReturnType<typeof vaultWorld>>;
