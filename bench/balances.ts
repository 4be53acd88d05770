/**
 * bench/balances: the payments app's two hot paths, each beside the limit measured in the same run.
 *
 * 1. Balance reads (seed 004): `getBalance` from the cache, as the home screen reads it, against
 *    the critical read that goes to the chain (and updates the cache), p50 and p99 of each, on anvil
 *    (EVM cUSD) and on the Sui simulator; the cached reads' RPC calls are counted (none is allowed).
 * 2. The poller's relevance filter: which Sui transactions touch Confío's packages or one of
 *    1,000,000 users' addresses (the engine's Sui decoder with the app's filter: packages and
 *    address set), against a bare loop over the same transactions that only visits each one's
 *    sender and balance changes.
 *
 *   npm run bench:balances   (BENCH_READS (1000), BENCH_USERS (1000000), BENCH_CHECKPOINTS (5000),
 *                             BENCH_TX_PER_CHECKPOINT (20); DATABASE_URL uses your PostgreSQL)
 */
import { cpus, totalmem } from 'node:os';
import { randomBytes } from 'node:crypto';
import { SuiGrpcClient, type GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { startSuiSimulator } from '../src/chain/sui/simulator/index.js';
import { listCheckpoints } from '../src/chain/sui/indexer/checkpoints.js';
import { decodeCheckpoint, transactionFacts } from '../src/chain/sui/indexer/decode.js';
import { suiFilter } from '../src/chain/sui/indexer/filter.js';
import { suiSource } from '../src/engine/index.js';
import { addressSetName } from '../src/apps/payments/settings.js';
import { createWalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil } from '../src/chain/evm/anvil.js';
import { connectChain } from '../src/chain/evm/client.js';
import { deployContracts } from '../src/chain/evm/deploy.js';
import { findDeployment } from '../src/chain/evm/deployments.js';
import { connectSui } from '../src/chain/sui/client.js';
import { ANVIL_DEV_KEY } from '../src/config/index.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { freePort } from '../src/runtime/ports.js';
import { paymentsApp } from '../src/apps/payments/index.js';
import { addAccount, ensureUser } from '../src/apps/payments/accounts.js';
import { timeReads } from '../src/apps/payments/commands.js';
import { getBalance, type BalancePorts } from '../src/apps/payments/balances/index.js';
import { cusdAbi, paymentsContracts } from '../src/apps/payments/contracts.js';
import { CUSD, CUSD_CONTRACT, type PaymentsSettings } from '../src/apps/payments/settings.js';
import { BenchRun } from './harness.js';

const READS = Number(process.env.BENCH_READS ?? 1000);
const USERS = Number(process.env.BENCH_USERS ?? 1_000_000);
const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 5_000);
const TX_PER_CHECKPOINT = Number(process.env.BENCH_TX_PER_CHECKPOINT ?? 20);
const ROUNDS = 5;
const CHAIN = 'sui:localnet-sim';
const log = (line: string) => console.log(line);

const run = new BenchRun('bench-balances');
try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  await balanceReads();
  await relevanceFilter();
} finally {
  await run.end();
}

async function balanceReads(): Promise<void> {
  const EVM = 'evm:31337';
  const anvil = await startAnvil({ port: await freePort() });
  run.onEnd(() => anvil.stop());
  const conn = await connectChain(anvil.rpcUrl);
  const deploymentsFile = `${run.work}/deployments.json`;
  const platform = privateKeyToAccount(ANVIL_DEV_KEY);
  await deployContracts(conn, { privateKey: ANVIL_DEV_KEY, deploymentsFile, contracts: paymentsContracts(EVM, 'default', 90), signers: [{ address: platform.address, roles: ['default'] }] });
  const sim = await startSuiSimulator({ seed: 17 });
  run.onEnd(() => sim.close());
  const sui = connectSui(sim.url, CHAIN);
  const settings: PaymentsSettings = {
    chains: [
      { family: 'evm', chain: EVM },
      { family: 'sui', chain: CHAIN, packages: { cusd: sim.ledger.confio.packages.cusd, pay: sim.ledger.confio.packages.pay, p2pTrade: sim.ledger.confio.packages.p2pTrade }, cusdType: sim.ledger.confio.cusdType, startCheckpoint: 0n },
    ],
    platformSigner: 'default',
    payFeeBps: 90,
    pushProviders: [],
    refreshCron: '*/5 * * * *',
    reconcileCron: '0 * * * *',
  };
  const database = connectDatabase(await run.freshDatabase('bench_balances'), { max: 4 });
  run.onEnd(() => database.close());
  await migrateDatabase(database, [paymentsApp({ chains: settings.chains })]);
  const ports: BalancePorts = {
    pool: database.pool,
    chains: new Map([[EVM, { key: EVM, chainId: conn.chainId, client: conn.publicClient }]]),
    suiChains: new Map([[CHAIN, { key: CHAIN, client: sui.client }]]),
    deployment: (chain, contract) => findDeployment(deploymentsFile, chain, contract)?.address,
    settings,
  };

  // One user with money on each chain.
  const user = await ensureUser(database.pool, { externalRef: 'bench-user' });
  const holder = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`).address;
  const wallet = createWalletClient({ account: platform, chain: conn.chain, transport: conn.transport });
  await conn.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: ports.deployment(EVM, CUSD_CONTRACT)!, abi: cusdAbi, functionName: 'mint', args: [holder, 12_345_678n] }) });
  const suiHolder = randomAddress();
  sim.ledger.confio.mint(suiHolder, 8_765_432n);
  sim.ledger.makeCheckpoint();
  const accounts = [
    { name: 'EVM (anvil)', chain: EVM, account: await addAccount(database.pool, { userId: user.id, chain: EVM, address: holder }), meter: conn.meter },
    { name: 'Sui (simulator)', chain: CHAIN, account: await addAccount(database.pool, { userId: user.id, chain: CHAIN, address: suiHolder }), meter: sui.meter },
  ];

  log(`balance reads: ${READS} of each kind, one after the other`);
  for (const { name, account, meter } of accounts) {
    await getBalance(ports, account.id, CUSD.symbol, { verifyCritical: true });
    const callsBefore = meter.totalCalls();
    const cached = await percentiles(() => getBalance(ports, account.id, CUSD.symbol, { verifyCritical: false }));
    const cachedCalls = meter.totalCalls() - callsBefore;
    const critical = await percentiles(() => getBalance(ports, account.id, CUSD.symbol, { verifyCritical: true }));
    log(
      `${name.padEnd(16)} cached p50 ${ms(cached.p50)} p99 ${ms(cached.p99)} (${cachedCalls} RPC calls)` +
        `  | chain read p50 ${ms(critical.p50)} p99 ${ms(critical.p99)}  | cached p99 < 10 ms: ${cached.p99 < 10 ? 'PASS' : 'FAIL'}; p50 ${(critical.p50 / cached.p50).toFixed(0)}× faster`,
    );
  }
}

/** READS timed reads after 20 to warm up (connections, JIT). */
async function percentiles(read: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 20; i++) await read();
  return timeReads(READS, read);
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`.padStart(9);
}

async function relevanceFilter(): Promise<void> {
  const sim = await startSuiSimulator({ seed: 13 });
  run.onEnd(() => sim.close());
  const { confio } = sim.ledger;
  // A thousand of the users are active in the traffic; the rest only make the set big.
  const active = Array.from({ length: 1000 }, () => randomAddress());
  sim.ledger.emitCheckpoints(CHECKPOINTS, {
    packages: [confio.packages.cusd, confio.packages.pay],
    addresses: active,
    relevantEvery: 10,
    transactionsPerCheckpoint: TX_PER_CHECKPOINT,
  });
  const client = new SuiGrpcClient({ network: 'localnet-sim', baseUrl: sim.url });
  const checkpoints: GrpcTypes.Checkpoint[] = [];
  for await (const checkpoint of listCheckpoints(client, 0n, BigInt(sim.ledger.height), () => false)) checkpoints.push(checkpoint);
  const transactions = checkpoints.reduce((n, c) => n + c.transactions.length, 0);

  const members = new Set(active);
  while (members.size < USERS) members.add(randomAddress());
  const source = suiSource({
    name: 'payments',
    chain: CHAIN,
    packages: [confio.packages.cusd, confio.packages.pay, confio.packages.p2pTrade],
    addressSet: addressSetName(CHAIN),
    startCheckpoint: 0n,
  });
  log(`${checkpoints.length} checkpoints, ${transactions} transactions; address set of ${members.size.toLocaleString('en')} users (${active.length} active)`);

  const filter = suiFilter(source, members);
  let kept = 0;
  const filtered = rounds(() => {
    kept = 0;
    for (const checkpoint of checkpoints) kept += new Set(decodeCheckpoint(CHAIN, checkpoint, [filter]).map((e) => e.transactionId)).size;
  });
  // The same filter on facts decoded beforehand: what the lookups in the set of a million cost alone.
  const facts = checkpoints.flatMap((c) => c.transactions.map(transactionFacts));
  let keptFromFacts = 0;
  const lookups = rounds(() => {
    keptFromFacts = 0;
    for (const tx of facts) if (filter.keep(tx)) keptFromFacts++;
  });
  let visited = 0;
  const bare = rounds(() => {
    visited = 0;
    for (const checkpoint of checkpoints) {
      for (const tx of checkpoint.transactions) {
        visited += (tx.transaction?.sender?.length ?? 0) > 0 ? 1 : 0;
        for (const change of tx.balanceChanges) visited += change.address ? 0 : 1;
      }
    }
  });
  const rate = (seconds: number) => Math.round(transactions / seconds).toLocaleString('en');
  log(`relevant: ${kept} of ${transactions} transactions kept (${keptFromFacts} from decoded facts; visited ${visited})`);
  log(
    `${'relevance filter'.padEnd(18)} ${rate(filtered)} transactions/s (median of ${ROUNDS}: ${(filtered * 1000).toFixed(1)} ms)` +
      `  | limit: bare loop ${rate(bare)} transactions/s (${(bare * 1000).toFixed(1)} ms)  | filter ÷ bare time ${(filtered / bare).toFixed(1)}`,
  );
  log(`${'  of which lookups'.padEnd(18)} ${rate(lookups)} transactions/s on facts decoded beforehand (${(lookups * 1000).toFixed(1)} ms): the rest is decoding`);
}

/** The median of ROUNDS timed runs of `work`, in seconds (after one warm-up run). */
function rounds(work: () => void): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    work();
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

function randomAddress(): string {
  return normalizeSuiAddress(`0x${randomBytes(32).toString('hex')}`);
}
