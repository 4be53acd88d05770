/**
 * Builds (once) and caches an anvil chain with a credential vault and many
 * CredentialIssued events, for benchmarks. anvil slows down as its chain grows,
 * so events are packed into batches and the chain is saved with --dump-state
 * and reloaded with --load-state by later runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, encodeFunctionData, http, keccak256, numberToHex, toHex, type Address } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../src/chain/evm/anvil.js';
import { freePort } from '../src/runtime/ports.js';
import { packageRoot } from '../src/runtime/paths.js';
import { blockProofCredentialVaultAbi as abi, blockProofCredentialVaultBytecode as bytecode } from '../contracts/artifacts/BlockProofCredentialVault.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
const admin = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
const institution = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
const student = mnemonicToAccount(MNEMONIC, { addressIndex: 2 }).address;

export interface BenchChain {
  anvil: Anvil;
  vault: Address;
  deployBlock: number;
  head: bigint;
  events: number;
}

interface ChainMeta {
  vault: Address;
  deployBlock: number;
  blocks: number;
  perBlock: number;
}

/** A chain with `blocks` blocks of `perBlock` credentials each (plus setup blocks), cached under bench/.cache. */
export async function benchChain(blocks: number, perBlock: number, log: (line: string) => void): Promise<BenchChain> {
  const cache = join(packageRoot, 'bench', '.cache');
  mkdirSync(cache, { recursive: true });
  const statePath = join(cache, `chain-${blocks}x${perBlock}.json`);
  const metaPath = `${statePath}.meta.json`;
  const cached = existsSync(statePath) && existsSync(metaPath);
  if (!cached) await buildChain(statePath, metaPath, blocks, perBlock, log);
  const anvil = await startAnvil({ port: await freePort(), loadStatePath: statePath });
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), cacheTime: 0 });
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ChainMeta;
  log(`chain: ${blocks} blocks × ${perBlock} events loaded from ${statePath}`);
  return { anvil, vault: meta.vault, deployBlock: meta.deployBlock, head: await client.getBlockNumber(), events: blocks * perBlock + 1 };
}

async function buildChain(statePath: string, metaPath: string, blocks: number, perBlock: number, log: (line: string) => void): Promise<void> {
  const anvil = await startAnvil({ port: await freePort(), dumpStatePath: statePath });
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), cacheTime: 0 });
  log(`chain: building ${blocks} blocks × ${perBlock} events (cached for later runs)…`);
  const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl) });
  const deploy = await wallet.deployContract({ account: admin, abi, bytecode, args: [admin.address] });
  const receipt = await client.waitForTransactionReceipt({ hash: deploy });
  const vault = receipt.contractAddress!;
  await client.waitForTransactionReceipt({
    hash: await wallet.writeContract({ account: admin, address: vault, abi, functionName: 'upsertInstitution', args: [institution.address, 'Bench University', 'ipfs://bench', true] }),
  });

  // Unlocked dev account (no signing in JS), automine off and one explicit block per transaction:
  // under automine, anvil can answer before mining and let transactions pile up in the pool.
  await client.request({ method: 'evm_setAutomine', params: [false] } as never);
  const started = Date.now();
  let counter = 0;
  for (let b = 0; b < blocks; b++) {
    const requests = Array.from({ length: perBlock }, () => ({
      student,
      fingerprint: keccak256(toHex(`bench-${counter++}`)),
      metadataURI: 'ipfs://bench-credential',
      expiresAt: 0n,
    }));
    await client.request({
      method: 'eth_sendTransaction',
      params: [{ from: institution.address, to: vault, gas: numberToHex(250_000 + 130_000 * perBlock), data: encodeFunctionData({ abi, functionName: 'issueCredentials', args: [requests] }) }],
    } as never);
    await client.request({ method: 'evm_mine', params: [] } as never);
    if ((b + 1) % 1000 === 0) log(`chain: ${b + 1}/${blocks} blocks, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const pending = (await client.request({ method: 'txpool_status' } as never)) as { pending: string };
  if (BigInt(pending.pending) !== 0n) throw new Error(`chain build left ${BigInt(pending.pending)} transactions unmined`);
  // anvil writes the state file (blocks, receipts and all) as it exits.
  await anvil.stop();
  writeFileSync(metaPath, JSON.stringify({ vault, deployBlock: Number(receipt.blockNumber), blocks, perBlock } satisfies ChainMeta));
}
