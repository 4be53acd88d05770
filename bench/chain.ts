/**
 * Builds (once) and caches an anvil chain with many CredentialIssued events, for
 * benchmarks. The events come from BenchCredentialEmitter (same event signature as
 * the vault, no storage: anvil recomputes its whole state trie every block, so
 * storing 100,000 credentials makes each block slower to mine than the last).
 * The chain is saved with --dump-state and reloaded with --load-state by later runs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, encodeFunctionData, http, numberToHex, type Address, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../src/chain/evm/anvil.js';
import { freePort } from '../src/runtime/ports.js';
import { packageRoot } from '../src/runtime/paths.js';
import { benchCredentialEmitterAbi as abi, benchCredentialEmitterBytecode as bytecode } from '../contracts/artifacts/BenchCredentialEmitter.js';

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
  /** The emitter: sends one more event per call, for head-lag samples. */
  emit(firstId: bigint, count: number): Promise<void>;
}

interface ChainMeta {
  vault: Address;
  deployBlock: number;
  blocks: number;
  events: number;
  perTx: number;
}

/**
 * A chain of `blocks` blocks holding `events` CredentialIssued events, cached
 * under bench/.cache. Events go `perTx` to a transaction, one transaction every
 * few blocks, with empty blocks between (as on a real chain, most blocks hold
 * nothing of ours): anvil slows down with every transaction it keeps.
 */
export async function benchChain(blocks: number, events: number, perTx: number, log: (line: string) => void): Promise<BenchChain> {
  const cache = join(packageRoot, 'bench', '.cache');
  mkdirSync(cache, { recursive: true });
  const statePath = join(cache, `chain-${blocks}-${events}-${perTx}.json`);
  const metaPath = `${statePath}.meta.json`;
  const cached = existsSync(statePath) && existsSync(metaPath);
  if (!cached) await buildChain(statePath, metaPath, blocks, events, perTx, log);
  const anvil = await startAnvil({ port: await freePort(), loadStatePath: statePath });
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), cacheTime: 0 });
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ChainMeta;
  log(`chain: ${events} events over ${blocks} blocks loaded from ${statePath}`);
  const emit = (firstId: bigint, count: number) => emitIssued(client, meta.vault, firstId, count, 'ipfs://lag');
  return { anvil, vault: meta.vault, deployBlock: meta.deployBlock, head: await client.getBlockNumber(), events, emit };
}

/** One transaction emitting `count` CredentialIssued events from the unlocked dev account (no signing in JS). */
async function emitIssued(client: PublicClient, emitter: Address, firstId: bigint, count: number, metadataURI: string): Promise<void> {
  const data = encodeFunctionData({ abi, functionName: 'emitIssued', args: [firstId, BigInt(count), student, metadataURI] });
  await client.request({
    method: 'eth_sendTransaction',
    params: [{ from: institution.address, to: emitter, gas: numberToHex(100_000 + 12_000 * count), data }],
  } as never);
}

async function buildChain(statePath: string, metaPath: string, blocks: number, events: number, perTx: number, log: (line: string) => void): Promise<void> {
  const anvil = await startAnvil({ port: await freePort(), dumpStatePath: statePath });
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), cacheTime: 0 });
  log(`chain: building ${events} events over ${blocks} blocks, ${perTx} per transaction (cached for later runs)…`);
  const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl) });
  const deploy = await wallet.deployContract({ account: admin, abi, bytecode });
  const receipt = await client.waitForTransactionReceipt({ hash: deploy });
  const vault = receipt.contractAddress!;

  // Automine off and one explicit block per transaction: under automine, anvil can answer before mining and let transactions pile up in the pool.
  await client.request({ method: 'evm_setAutomine', params: [false] } as never);
  const started = Date.now();
  const transactions = Math.ceil(events / perTx);
  const gap = Math.max(1, Math.floor(blocks / transactions));
  let counter = 0;
  for (let t = 0; t < transactions; t++) {
    const count = Math.min(perTx, events - counter);
    await emitIssued(client, vault, BigInt(counter + 1), count, 'ipfs://bench-credential');
    counter += count;
    // One block with the transaction, then empty ones up to the gap.
    await client.request({ method: 'anvil_mine', params: [numberToHex(gap)] } as never);
    if ((t + 1) % 200 === 0) log(`chain: ${counter}/${events} events, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const pending = (await client.request({ method: 'txpool_status' } as never)) as { pending: string };
  if (BigInt(pending.pending) !== 0n) throw new Error(`chain build left ${BigInt(pending.pending)} transactions unmined`);
  // anvil writes the state file (blocks, receipts and all) as it exits.
  await anvil.stop();
  writeFileSync(metaPath, JSON.stringify({ vault, deployBlock: Number(receipt.blockNumber), blocks, events, perTx } satisfies ChainMeta));
}
