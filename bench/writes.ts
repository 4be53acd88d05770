/**
 * bench/writes: confirmed intents per second through the outbox and relayer with
 * one signer on anvil, beside a naive viem loop (writeContract, then
 * waitForTransactionReceipt) measured on the same chain in the same run.
 *
 *   npm run bench:writes     (BENCH_INTENTS, BENCH_BLOCK_TIME, BENCH_NAIVE_SECONDS, BENCH_BATCH_SIZE (RELAYER_BATCH_SIZE of the
 *                             worker), BENCH_NODE_FLAGS (node flags for it); DATABASE_URL uses your PostgreSQL)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPublicClient, createWalletClient, http, keccak256, toHex } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil } from '../src/chain/evm/anvil.js';
import { recordDeployment } from '../src/chain/evm/deployments.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createOutbox } from '../src/core/relayer/outbox.js';
import { credentialIntents } from '../src/apps/credentials/intents.js';
import { connectTestChain } from '../test/harness/evm.js';
import { freePort } from '../src/runtime/ports.js';
import { packageRoot } from '../src/runtime/paths.js';
import { blockProofCredentialVaultAbi as abi, blockProofCredentialVaultBytecode as bytecode } from '../contracts/artifacts/BlockProofCredentialVault.js';
import { inTransaction } from '../src/db/transaction.js';
import { BenchRun, check, stopProcess } from './harness.js';

const INTENTS = Number(process.env.BENCH_INTENTS ?? 3_000);
const BLOCK_TIME = Number(process.env.BENCH_BLOCK_TIME ?? 1);
const NAIVE_SECONDS = Number(process.env.BENCH_NAIVE_SECONDS ?? 5);
// Room for a few hundred credential issues per block: the relayer, not anvil's block, is what is measured.
const GAS_LIMIT = 300_000_000;
const MNEMONIC = 'test test test test test test test test test test test junk';
/** anvil's second dev account: the relayer's signer. */
const RELAYER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const log = (line: string) => console.log(line);

const run = new BenchRun('bench-writes');

try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  // BENCH_BLOCK_TIME=0: automine, a block per transaction.
  const anvil = await startAnvil({ port: await freePort(), ...(BLOCK_TIME > 0 ? { blockTime: BLOCK_TIME } : {}), gasLimit: GAS_LIMIT });
  run.onEnd(() => anvil.stop());
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport, cacheTime: 0, pollingInterval: 50 });
  const admin = createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: 0 }), chain: foundry, transport });
  const relayerAccount = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
  const naive = createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: 3 }), chain: foundry, transport });
  const student = mnemonicToAccount(MNEMONIC, { addressIndex: 2 }).address;

  const deployed = await publicClient.waitForTransactionReceipt({ hash: await admin.deployContract({ abi, bytecode, args: [admin.account.address] }) });
  const vault = deployed.contractAddress!;
  for (const account of [relayerAccount.address, naive.account.address]) {
    await publicClient.waitForTransactionReceipt({
      hash: await admin.writeContract({ address: vault, abi, functionName: 'upsertInstitution', args: [account, 'Universidad', 'ipfs://uni', true] }),
    });
  }
  const deploymentsFile = join(run.work, 'deployments.json');
  recordDeployment(deploymentsFile, `evm:${foundry.id}`, 'BlockProofCredentialVault', { address: vault, blockNumber: Number(deployed.blockNumber) });
  let counter = 0;
  const request = () => ({ student, fingerprint: keccak256(toHex(`bench-${Date.now()}-${counter++}`)), metadataURI: `ipfs://bench-${counter}`, expiresAt: 0n });

  // 1. The naive loop: one call at a time, each waited for until its receipt.
  let naiveConfirmed = 0;
  const naiveStarted = performance.now();
  while (performance.now() - naiveStarted < NAIVE_SECONDS * 1000) {
    const hash = await naive.writeContract({ address: vault, abi, functionName: 'issueCredential', args: [request()] });
    await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    naiveConfirmed++;
  }
  const naiveRate = naiveConfirmed / ((performance.now() - naiveStarted) / 1000);

  // 2. The relayer: INTENTS intents committed to the outbox, then `ledgersync worker` (defaults, one confirmation).
  const databaseUrl = await run.freshDatabase('bench_writes');
  const database = connectDatabase(databaseUrl, { max: 4 });
  run.onEnd(() => database.close());
  await migrateDatabase(database, [{ name: 'credentials', migrations: 'src/apps/credentials/migrations' }]);
  const chain = await connectTestChain(anvil.rpcUrl, { deploymentsFile });
  const outbox = createOutbox({ chains: [{ key: chain.key, codec: chain.codec, signers: [{ address: relayerAccount.address.toLowerCase(), roles: ['default'] }] }], kinds: credentialIntents(chain.key) });
  for (let i = 0; i < INTENTS; i += 500) {
    await inTransaction(database.pool, async (client) => {
      for (let j = i; j < Math.min(INTENTS, i + 500); j++) {
        await outbox.submit(client, { idempotencyKey: `bench-${j}`, kind: 'credentials.issue', functionName: 'issueCredential', args: [request()] });
      }
    });
  }
  log(`${INTENTS} intents in the outbox; starting ledgersync worker`);
  const worker = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(packageRoot, 'dist', 'src', 'cli', 'main.js'), 'worker'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      RPC_URL: anvil.rpcUrl,
      DEPLOYMENTS_FILE: deploymentsFile,
      RELAYER_PRIVATE_KEY: RELAYER_KEY,
      FINALITY_DEPTH: '0',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(process.env.BENCH_BATCH_SIZE ? { RELAYER_BATCH_SIZE: process.env.BENCH_BATCH_SIZE } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  run.onEnd(() => stopProcess(worker));
  const firstSigned = await waitFor(database.pool, worker, "select count(*)::int as n from relayer_intents where state <> 'pending'", (n) => n > 0);
  const allConfirmed = await waitFor(database.pool, worker, "select count(*)::int as n from relayer_intents where state = 'confirmed'", (n) => n === INTENTS, (n) =>
    log(`  ${n}/${INTENTS} confirmed`),
  );
  const relayerSeconds = (allConfirmed - firstSigned) / 1000;
  const relayerRate = INTENTS / relayerSeconds;
  const { rows } = await database.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from relayer_intents group by state');
  const nonceUsed = await publicClient.getTransactionCount({ address: relayerAccount.address });

  log('');
  log(`naive loop             ${naiveRate.toFixed(2)} confirmed/s (${naiveConfirmed} in ${NAIVE_SECONDS} s, ${BLOCK_TIME > 0 ? `a block every ${BLOCK_TIME} s` : "automine"})`);
  log(
    `relayer                ${Math.round(relayerRate)} confirmed intents/s (${INTENTS} in ${relayerSeconds.toFixed(2)} s; states ${JSON.stringify(Object.fromEntries(rows.map((r) => [r.state, r.n])))}; signer nonce ${nonceUsed})  | ${check(relayerRate >= 300, '>= 300/s')}`,
  );
  log(`ratio                  ${(relayerRate / naiveRate).toFixed(0)}x the naive loop  | ${check(relayerRate >= 20 * naiveRate, '>= 20x')}`);
  if (relayerRate < 300 || relayerRate < 20 * naiveRate) process.exitCode = 1;
} finally {
  await run.end();
}

/** Polls `sql` (one count) every 10 ms until `done`; returns when (performance.now()) that happened. */
async function waitFor(pool: pg.Pool, worker: ChildProcess, sql: string, done: (n: number) => boolean, progress?: (n: number) => void): Promise<number> {
  const deadline = Date.now() + 600_000;
  let lastReport = Date.now();
  for (;;) {
    if (worker.exitCode !== null) throw new Error(`the worker exited with code ${worker.exitCode}`);
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

