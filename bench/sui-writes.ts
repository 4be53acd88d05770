/**
 * bench/sui-writes: SUI transfers confirmed per second through the outbox and the
 * Sui relayer (BENCH_SIGNERS signers, each with a pool of BENCH_POOL gas coins,
 * relayed by BENCH_WORKERS worker processes), on the Sui simulator, beside the
 * simulator's own limit measured in the same run: pre-signed transfers, each on a
 * gas coin of its own, executed from one client with BENCH_LIMIT_CONCURRENCY in
 * flight.
 *
 *   npm run bench:sui-writes   (BENCH_INTENTS, BENCH_SIGNERS, BENCH_WORKERS, BENCH_POOL, BENCH_CHECKPOINT_MS,
 *                               BENCH_LIMIT_CONCURRENCY; DATABASE_URL uses your PostgreSQL)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { SuiGrpcClient } from '@mysten/sui/grpc';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { Transaction } from '@mysten/sui/transactions';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { SUI_TYPE, startSuiSimulator } from '../src/chain/sui/simulator/index.js';
import { suiCodec } from '../src/chain/sui/relayer/codec.js';
import { createOutbox } from '../src/core/relayer/outbox.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { inTransaction } from '../src/db/transaction.js';
import { packageRoot } from '../src/runtime/paths.js';
import { suiKinds } from '../test/harness/sui-relayer.js';
import { BenchRun, stopProcess } from './harness.js';

const INTENTS = Number(process.env.BENCH_INTENTS ?? 2_000);
const SIGNERS = Number(process.env.BENCH_SIGNERS ?? 2);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const POOL = Number(process.env.BENCH_POOL ?? 16);
const CHECKPOINT_MS = Number(process.env.BENCH_CHECKPOINT_MS ?? 250);
const LIMIT_CONCURRENCY = Number(process.env.BENCH_LIMIT_CONCURRENCY ?? 32);
const LIMIT_TRANSACTIONS = 2_000;
const SUI = 1_000_000_000n;
const log = (line: string) => console.log(line);
const recipient = (i: number) => normalizeSuiAddress(`0x${(0xbe00000000 + i).toString(16)}`);

const run = new BenchRun('bench-sui-writes');

try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const sim = await startSuiSimulator({ seed: 21, autoCheckpointMs: CHECKPOINT_MS });
  run.onEnd(() => sim.close());
  const client = new SuiGrpcClient({ network: 'localnet', baseUrl: sim.url });

  // 1. The limit: pre-signed transfers, each on a gas coin of its own, executed from one client.
  const raw = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(200));
  const coins = sim.ledger.fund(raw.toSuiAddress(), SUI_TYPE, BigInt(LIMIT_TRANSACTIONS) * SUI, LIMIT_TRANSACTIONS);
  sim.ledger.makeCheckpoint();
  const presigned = await Promise.all(
    coins.map(async (coin, i) => {
      const tx = new Transaction();
      tx.setSender(raw.toSuiAddress());
      tx.setGasPayment([{ objectId: coin.objectId, version: coin.version.toString(), digest: coin.digest }]);
      tx.setGasPrice(sim.ledger.referenceGasPrice);
      tx.setGasBudget(50_000_000);
      const [part] = tx.splitCoins(tx.gas, [1_000 + i]);
      tx.transferObjects([part!], recipient(1_000_000 + i));
      const bytes = await tx.build();
      return { bytes, signature: (await raw.signTransaction(bytes)).signature };
    }),
  );
  const limitStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: LIMIT_CONCURRENCY }, async () => {
      while (next < presigned.length) {
        const t = presigned[next++]!;
        await client.executeTransaction({ transaction: t.bytes, signatures: [t.signature] });
      }
    }),
  );
  const limitRate = LIMIT_TRANSACTIONS / ((performance.now() - limitStarted) / 1000);
  log(`simulator limit: ${LIMIT_TRANSACTIONS} pre-signed transfers executed at ${Math.round(limitRate)}/s (${LIMIT_CONCURRENCY} in flight, one client)`);

  // 2. The relayer: INTENTS transfers in the outbox, spread over SIGNERS signers, then WORKERS worker processes.
  const chain = `sui:${sim.ledger.chainName}`;
  const keys = Array.from({ length: SIGNERS }, (_, i) => Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(100 + i)));
  for (const key of keys) sim.ledger.fund(key.toSuiAddress(), SUI_TYPE, 10_000n * SUI, 1);
  sim.ledger.makeCheckpoint();
  const databaseUrl = await run.freshDatabase('bench_sui_writes');
  const database = connectDatabase(databaseUrl, { max: 4 });
  run.onEnd(() => database.close());
  await migrateDatabase(database);
  const kinds = suiKinds(chain, sim.ledger.packageId, sim.ledger.cusdType);
  const outbox = createOutbox({ chains: [{ key: chain, codec: suiCodec, signers: keys.map((k) => ({ address: k.toSuiAddress(), roles: [] })) }], kinds });
  for (let i = 0; i < INTENTS; i += 500) {
    await inTransaction(database.pool, async (db) => {
      for (let j = i; j < Math.min(INTENTS, i + 500); j++) {
        await outbox.submit(db, { idempotencyKey: `bench-${j}`, kind: 'pay.sui', functionName: 'transfer', args: [recipient(j), 1_000n + BigInt(j)], signer: keys[j % SIGNERS]!.toSuiAddress() });
      }
    });
  }
  log(`${INTENTS} transfers in the outbox for ${SIGNERS} signer(s); starting ${WORKERS} worker process(es), gas pools of ${POOL}, a checkpoint every ${CHECKPOINT_MS} ms`);
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: databaseUrl,
    SUI_URL: sim.url,
    SUI_CHAIN: chain,
    SUI_PACKAGE: sim.ledger.packageId,
    SUI_CUSD: sim.ledger.cusdType,
    SUI_KEYS: keys.map((k) => k.getSecretKey()).join(','),
    POOL_SIZE: String(POOL),
  };
  const loader = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const workers = Array.from({ length: WORKERS }, () => {
    const worker = spawn(process.execPath, ['--import', loader, join(packageRoot, 'test', 'harness', 'sui-relayer-child.ts')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    run.onEnd(() => stopProcess(worker));
    return worker;
  });
  const firstSigned = await waitFor(database.pool, workers, "select count(*)::int as n from relayer_intents where state <> 'pending'", (n) => n > 0);
  const allConfirmed = await waitFor(database.pool, workers, "select count(*)::int as n from relayer_intents where state = 'confirmed'", (n) => n === INTENTS, (n) => log(`  ${n}/${INTENTS} confirmed`));
  const seconds = (allConfirmed - firstSigned) / 1000;
  const rate = INTENTS / seconds;
  const received = Array.from({ length: INTENTS }, (_, j) => sim.ledger.coins(recipient(j), SUI_TYPE).length).filter((n) => n === 1).length;

  log('');
  log(`simulator limit        ${Math.round(limitRate)} transfers/s (pre-signed, ${LIMIT_CONCURRENCY} in flight, one client)`);
  log(`relayer                ${Math.round(rate)} confirmed transfers/s (${INTENTS} in ${seconds.toFixed(2)} s; ${SIGNERS} signer(s) × pool of ${POOL}, ${WORKERS} worker(s); ${received}/${INTENTS} recipients paid once)`);
  log(`ratio                  ${((100 * rate) / limitRate).toFixed(0)}% of the simulator's limit`);
  if (received !== INTENTS) process.exitCode = 1;
} finally {
  await run.end();
}

/** Polls `sql` (one count) every 10 ms until `done`; returns when (performance.now()) that happened. */
async function waitFor(pool: pg.Pool, workers: ChildProcess[], sql: string, done: (n: number) => boolean, progress?: (n: number) => void): Promise<number> {
  const deadline = Date.now() + 600_000;
  let lastReport = Date.now();
  for (;;) {
    const exited = workers.find((w) => w.exitCode !== null);
    if (exited) throw new Error(`a worker exited with code ${exited.exitCode}`);
    const n = (await pool.query<{ n: number }>(sql)).rows[0]!.n;
    if (done(n)) return performance.now();
    if (progress && Date.now() - lastReport > 2_000) {
      progress(n);
      lastReport = Date.now();
    }
    if (Date.now() > deadline) throw new Error('not done within 10 minutes');
    await new Promise((r) => setTimeout(r, 10));
  }
}
