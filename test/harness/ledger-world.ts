import { join } from 'node:path';
import type pg from 'pg';
import { onTestFinished } from 'vitest';
import { createPublicClient, createTestClient, createWalletClient, encodeFunctionData, http, keccak256, toHex, type Address, type Chain, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { recordDeployment } from '../../src/chain/evm/deployments.js';
import { startIndexer } from '../../src/core/indexer/indexer.js';
import type { EvmChain } from '../../src/chain/evm/chain.js';
import { freePort } from '../../src/runtime/ports.js';
import { createLogger } from '../../src/runtime/logger.js';
import { testLedgerAbi, testLedgerBytecode } from '../../contracts/artifacts/TestLedger.js';
import { testFactoryAbi, testFactoryBytecode } from '../../contracts/artifacts/TestFactory.js';
import { testChildAbi } from '../../contracts/artifacts/TestChild.js';
import { FACTORY, LEDGER, ledgerMigrations, ledgerTestApp, type LedgerTestOptions } from '../app/index.js';
import { scratchDir } from './cli.js';
import { createTestDatabase } from './db.js';
import { connectTestChain, type TestChainOptions } from './evm.js';

/** anvil's default dev accounts are unlocked, which anvil_reorg needs for the transactions it mines. */
const MNEMONIC = 'test test test test test test test test test test test junk';

const key = (label: string): Hex => keccak256(toHex(label));

/** A contract call as the world sends it (also inside a reorg's new blocks). */
export interface Call {
  to: Address;
  data: Hex;
  gas: bigint;
}

/**
 * A private anvil with the test app's contracts (TestLedger, TestFactory), and
 * helpers to make history: writes, children, pings, reorgs. Private, because
 * reorgs would disturb other test files on the shared anvil.
 */
export async function ledgerWorld(options: { blockTime?: number; hardfork?: string; chainId?: number; keepStates?: number } = {}) {
  const anvil: Anvil = await startAnvil({
    port: await freePort(),
    keepStates: options.keepStates ?? 128,
    ...(options.blockTime ? { blockTime: options.blockTime } : {}),
    ...(options.hardfork ? { hardfork: options.hardfork } : {}),
    ...(options.chainId ? { chainId: options.chainId } : {}),
  });
  onTestFinished(() => anvil.stop());
  const chain: Chain = { ...foundry, id: options.chainId ?? foundry.id };
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain, transport, cacheTime: 0 });
  const testClient = createTestClient({ chain, transport, mode: 'anvil' });
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: 0 });
  const wallet = createWalletClient({ account, chain, transport });
  // Before London there is no base fee: send legacy transactions.
  const fees = (await publicClient.getBlock()).baseFeePerGas === null ? { type: 'legacy' as const } : {};
  const wait = async (hash: Hex) => (await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 })).blockNumber;

  const deploy = async (abi: typeof testLedgerAbi | typeof testFactoryAbi, bytecode: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode, ...fees }), pollingInterval: 50 });
    return { address: receipt.contractAddress!, blockNumber: receipt.blockNumber };
  };
  const ledger = await deploy(testLedgerAbi, testLedgerBytecode);
  const factory = await deploy(testFactoryAbi, testFactoryBytecode);
  const chainKey = `evm:${chain.id}`;
  const deploymentsFile = join(scratchDir(), 'deployments.json');
  recordDeployment(deploymentsFile, chainKey, LEDGER, { address: ledger.address, blockNumber: Number(ledger.blockNumber) });
  recordDeployment(deploymentsFile, chainKey, FACTORY, { address: factory.address, blockNumber: Number(factory.blockNumber) });
  let salts = 0;
  const createCall = async (label?: string): Promise<{ call: Call; child: Address }> => {
    const salt = key(label ?? `child-${salts++}`);
    const child = (await publicClient.readContract({ address: factory.address, abi: testFactoryAbi, functionName: 'predict', args: [salt] })).toLowerCase() as Address;
    return { call: { to: factory.address, data: encodeFunctionData({ abi: testFactoryAbi, functionName: 'create', args: [salt] }), gas: 1_000_000n }, child };
  };
  const reorgWith = async (depth: number, calls: Array<[Call, number]>) => {
    const txs = calls.map(([call, offset]) => [{ from: account.address, to: call.to, data: call.data, gas: toHex(call.gas) }, offset]);
    await testClient.request({ method: 'anvil_reorg' as never, params: [depth, txs] as never });
  };

  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    wsUrl: anvil.wsUrl,
    chain: chainKey,
    publicClient,
    testClient,
    account: account.address as Address,
    ledger: ledger.address,
    factory: factory.address,
    deploymentsFile,
    key,
    /** Writes `value` under `label`; returns its block. */
    async write(label: string, value: bigint): Promise<bigint> {
      return wait(await wallet.writeContract({ address: ledger.address, abi: testLedgerAbi, functionName: 'write', args: [key(label), value], ...fees }));
    },
    /** The address of anvil's dev account `index` (0 is the one the world writes with). */
    devAccount: (index: number): Address => mnemonicToAccount(MNEMONIC, { addressIndex: index }).address.toLowerCase() as Address,
    /** Writes as anvil's dev account `index`; returns its block. */
    async writeAs(index: number, label: string, value: bigint): Promise<bigint> {
      const writer = createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: index }), chain, transport });
      return wait(await writer.writeContract({ address: ledger.address, abi: testLedgerAbi, functionName: 'write', args: [key(label), value], ...fees }));
    },
    /** `count` writes in one transaction (as many events); returns its block. */
    async writeMany(prefix: string, count: number): Promise<bigint> {
      const keys = Array.from({ length: count }, (_, i) => key(`${prefix}-${i}`));
      const values = keys.map((_, i) => BigInt(i + 1));
      return wait(await wallet.writeContract({ address: ledger.address, abi: testLedgerAbi, functionName: 'writeMany', args: [keys, values], gas: 100_000n + 40_000n * BigInt(count), ...fees }));
    },
    /**
     * A new child of the factory; returns its address and the block that created it. The same
     * `label` (salt) gives the same address: a child whose creation was reorged out can be created again.
     */
    async createChild(label?: string): Promise<{ child: Address; block: bigint }> {
      const { call, child } = await createCall(label);
      return { child, block: await wait(await wallet.sendTransaction({ ...call, ...fees })) };
    },
    async ping(child: Address, n: bigint): Promise<bigint> {
      return wait(await wallet.writeContract({ address: child, abi: testChildAbi, functionName: 'ping', args: [n], ...fees }));
    },
    /** The call that creates a child (by `label`, or a new one), and the child's address. */
    createCall,
    /** The call that pings `child`, with gas enough for a child created earlier in the same block. */
    pingCall: (child: Address, n: bigint): Call => ({ to: child, data: encodeFunctionData({ abi: testChildAbi, functionName: 'ping', args: [n] }), gas: 100_000n }),
    writeCall: (label: string, value: bigint): Call => ({ to: ledger.address, data: encodeFunctionData({ abi: testLedgerAbi, functionName: 'write', args: [key(label), value] }), gas: 200_000n }),
    /** Mines these calls, in this order, in one block; returns its number. */
    async oneBlock(calls: Call[]): Promise<bigint> {
      await testClient.setAutomine(false);
      try {
        const hashes: Hex[] = [];
        for (const call of calls) hashes.push(await wallet.sendTransaction({ ...call, ...fees }));
        await testClient.mine({ blocks: 1 });
        const blocks = await Promise.all(hashes.map(wait));
        if (new Set(blocks).size !== 1) throw new Error(`calls meant for one block landed in blocks ${blocks.join(', ')}`);
        return blocks[0]!;
      } finally {
        await testClient.setAutomine(true);
      }
    },
    /** Replaces the last `depth` blocks with `depth` new ones holding these calls, each in the block at its `offset` (0: the first new block). */
    async reorgWith(depth: number, calls: Array<[Call, number]>): Promise<void> {
      await reorgWith(depth, calls);
    },
    /**
     * Replaces the last `depth` blocks with `depth` new ones holding different
     * history: other writes, and a child the old history did not have.
     */
    async reorg(depth: number): Promise<void> {
      const calls: Array<[Call, number]> = Array.from({ length: depth }, (_, i) => [{ to: ledger.address, gas: 200_000n, data: encodeFunctionData({ abi: testLedgerAbi, functionName: 'write', args: [key(`reorged-${i}`), BigInt(1000 + i)] }) }, i]);
      calls.push([(await createCall(`reorged-child-${Date.now()}-${salts++}`)).call, depth - 1]);
      await reorgWith(depth, calls);
    },
    async mine(blocks: number): Promise<void> {
      await testClient.mine({ blocks });
    },
    stop: () => anvil.stop(),
  };
}

export type LedgerWorld = Awaited<ReturnType<typeof ledgerWorld>>;

/** The test app's indexer on a connected chain, into `pool`. */
export function indexLedger(evm: EvmChain, pool: pg.Pool, app: Partial<LedgerTestOptions> = {}, pollIntervalMs = 100) {
  const ledger = ledgerTestApp({ chain: evm.key, ...app });
  return startIndexer(evm, pool, ledger.sources!, ledger.projections!, { pollIntervalMs }, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
}

/** An in-process indexer of the test app into a fresh database (or into `database`, not dropped here). */
export async function runLedgerIndexer(rpcUrl: string, options: TestChainOptions & { database?: Awaited<ReturnType<typeof createTestDatabase>>; app?: Partial<LedgerTestOptions> }) {
  const database = options.database ?? (await createTestDatabase(ledgerMigrations));
  const evm = await connectTestChain(rpcUrl, options);
  const indexer = await indexLedger(evm, database.pool, options.app, options.pollIntervalMs);
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= indexer.stop().then(() => (options.database ? undefined : database.drop())));
  onTestFinished(close);
  return { database, evm, indexer, close };
}

/** Everything the test app's indexer wrote up to `upTo`, in a stable order, for comparing two databases. */
export async function ledgerSnapshot(pool: pg.Pool, upTo: bigint) {
  const query = async (sql: string) => (await pool.query(sql, [upTo.toString()])).rows;
  return {
    events: await query('select block_number, block_hash, event_index, transaction_id, source, emitter, name, args from indexer_events where block_number <= $1 order by block_number, event_index'),
    entries: await query('select key, value::text, writer, block, transaction, writes from ledger_entries where block <= $1 order by key'),
    children: await query('select address, creator, salt, created_block, pings, last_ping::text from ledger_children where created_block <= $1 order by address'),
    childSources: await query('select source, id, block_number from indexer_children where block_number <= $1 order by id'),
  };
}

/** A fresh index of the chain as it is now, up to `head`: what any other history must converge to. */
export async function freshLedgerIndex(rpcUrl: string, deploymentsFile: string, head: bigint, app: Partial<LedgerTestOptions> = {}) {
  const fresh = await runLedgerIndexer(rpcUrl, { deploymentsFile, app });
  try {
    await fresh.indexer.waitForBlock(head);
    return await ledgerSnapshot(fresh.database.pool, head);
  } finally {
    await fresh.close();
  }
}
