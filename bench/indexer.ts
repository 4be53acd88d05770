/**
 * bench/indexer: backfill, replay and head lag of the indexer on a real anvil
 * chain of 100,000 CredentialIssued events over 10,000 blocks, each figure beside
 * the limit measured in the same run.
 *
 *   npm run bench:indexer            (BENCH_BLOCKS, BENCH_PER_BLOCK to resize; DATABASE_URL to use your PostgreSQL)
 */
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { encodeFunctionData, keccak256, numberToHex, toHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { benchChain } from './chain.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { connectChain } from '../src/chain/evm/client.js';
import { recordDeployment } from '../src/chain/evm/deployments.js';
import { startIndexer } from '../src/indexer/indexer.js';
import { reindexProjection } from '../src/indexer/projections.js';
import { credentialsApp } from '../src/apps/credentials/index.js';
import { credentialsProjection } from '../src/apps/credentials/projections.js';
import { createLogger } from '../src/runtime/logger.js';
import { freePort } from '../src/runtime/ports.js';
import { blockProofCredentialVaultAbi as abi } from '../contracts/artifacts/BlockProofCredentialVault.js';

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 10_000);
const PER_BLOCK = Number(process.env.BENCH_PER_BLOCK ?? 10);
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 200);
const log = (line: string) => console.log(line);

const work = mkdtempSync(join(tmpdir(), 'ledgersync-bench-'));
chmodSync(work, 0o755);
const cleanups: Array<() => Promise<unknown> | void> = [() => rmSync(work, { recursive: true, force: true })];

try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const chain = await benchChain(BLOCKS, PER_BLOCK, log);
  cleanups.unshift(() => chain.anvil.stop());

  const adminUrl = process.env.DATABASE_URL ?? (await startPostgres());
  const databaseUrl = await freshDatabase(adminUrl, 'bench_indexer');
  const database = connectDatabase(databaseUrl, { max: 10 });
  cleanups.unshift(() => database.close());
  await migrateDatabase(database);
  const deploymentsFile = join(work, 'deployments.json');
  recordDeployment(deploymentsFile, 31337, 'BlockProofCredentialVault', { address: chain.vault, blockNumber: chain.deployBlock });
  const conn = await connectChain(chain.anvil.rpcUrl, chain.anvil.wsUrl);

  // 1. Backfill: the whole chain is final (depth 0), from an empty database to the head.
  const rss = sampleRss();
  const backfillStarted = performance.now();
  const indexer = await startIndexer(
    conn,
    database.pool,
    [credentialsApp],
    { finalityDepth: 0, pollIntervalMs: 1000, concurrency: 4, maxBlockRange: 20_000, deploymentsFile },
    createLogger(process.env.LOG_LEVEL ?? 'warn'),
  );
  cleanups.unshift(() => indexer.stop());
  await indexer.waitForBlock(chain.head, 600_000);
  const backfillSeconds = (performance.now() - backfillStarted) / 1000;
  const peakRss = rss.stop();
  const stored = (await database.pool.query<{ n: number }>('select count(*)::int as n from indexer_events')).rows[0]!.n;
  const rpcCalls = conn.meter.callsByMethod();

  // The limit: a raw eth_getLogs loop over the same blocks, plus COPY of the same rows.
  const fetchSeconds = await rawGetLogsLoop(chain.anvil.rpcUrl, chain.vault, BigInt(chain.deployBlock), chain.head);
  const copySeconds = await copyOnly(adminUrl, databaseUrl);
  const limitSeconds = fetchSeconds + copySeconds;

  // 2. Replay from the stored events (no RPC).
  const replayStarted = performance.now();
  const replayed = await reindexProjection(database.pool, 31337, credentialsProjection);
  const replaySeconds = (performance.now() - replayStarted) / 1000;

  // 3. Head lag: mined block → its event visible through a query, following the head over WebSocket.
  const lags = await headLag(chain.anvil.rpcUrl, chain.vault, database.pool, LAG_SAMPLES);

  const backfillRate = stored / backfillSeconds;
  const limitRate = stored / limitSeconds;
  const replayRate = replayed.events / replaySeconds;
  const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]!;
  const results = [
    ['events indexed', `${stored} over ${chain.head - BigInt(chain.deployBlock) + 1n} blocks`, '', ''],
    ['backfill', `${Math.round(backfillRate)} events/s (${backfillSeconds.toFixed(2)} s)`, `limit ${Math.round(limitRate)} events/s (getLogs ${fetchSeconds.toFixed(2)} s + COPY ${copySeconds.toFixed(2)} s)`, check(backfillRate >= 20_000 && backfillSeconds <= 2 * limitSeconds, `>= 20000 ev/s and <= 2x limit time (ratio ${(backfillSeconds / limitSeconds).toFixed(2)})`)],
    ['replay', `${Math.round(replayRate)} events/s (${replaySeconds.toFixed(2)} s, ${replayed.events} events)`, '', check(replayRate >= 50_000, '>= 50000 ev/s')],
    ['head lag', `p50 ${p(0.5).toFixed(0)} ms, p95 ${p(0.95).toFixed(0)} ms, max ${lags[lags.length - 1]!.toFixed(0)} ms (${lags.length} blocks)`, '', check(p(0.95) < 300, 'p95 < 300 ms')],
    ['peak RSS', `${Math.round(peakRss / 2 ** 20)} MB`, '', check(peakRss < 400 * 2 ** 20, '< 400 MB')],
    ['RPC calls in backfill', JSON.stringify(rpcCalls), '', ''],
  ];
  log('');
  for (const [name, value, limit, verdict] of results) log(`${name!.padEnd(22)} ${value}${limit ? `  | ${limit}` : ''}${verdict ? `  | ${verdict}` : ''}`);
  if (results.some(([, , , verdict]) => verdict?.startsWith('FAIL'))) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups) await cleanup();
}

function check(ok: boolean, target: string): string {
  return `${ok ? 'PASS' : 'FAIL'} (target ${target})`;
}

async function startPostgres(): Promise<string> {
  const postgres = await startEmbeddedPostgres({ dir: join(work, 'postgres'), port: await freePort() });
  cleanups.unshift(() => postgres.stop());
  return postgres.url;
}

async function freshDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Peak resident memory of this process (which runs the indexer), sampled every 50 ms. */
function sampleRss() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** eth_getLogs over the same blocks with plain fetch, 4 at a time, 2,000 blocks each, no decoding. */
async function rawGetLogsLoop(rpcUrl: string, address: string, from: bigint, to: bigint): Promise<number> {
  const ranges: Array<[bigint, bigint]> = [];
  for (let start = from; start <= to; start += 2000n) ranges.push([start, start + 1999n > to ? to : start + 1999n]);
  const started = performance.now();
  let next = 0;
  let logs = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < ranges.length) {
        const [a, b] = ranges[next++]!;
        const res = await fetch(rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ address, fromBlock: numberToHex(a), toBlock: numberToHex(b) }] }),
        });
        logs += ((await res.json()) as { result: unknown[] }).result.length;
      }
    }),
  );
  if (logs === 0) throw new Error('raw eth_getLogs loop found no logs');
  return (performance.now() - started) / 1000;
}

/** COPY of the same rows (read back from the indexer's table) into an empty copy of that table. */
async function copyOnly(adminUrl: string, sourceUrl: string): Promise<number> {
  const source = new pg.Client({ connectionString: sourceUrl });
  await source.connect();
  const { rows } = await source.query('select * from indexer_events order by block_number, log_index');
  await source.end();
  const lines = rows.map((r) =>
    [r.chain_id, r.block_number, r.block_hash, r.block_timestamp, r.transaction_hash, r.transaction_index, r.log_index, r.address, r.event_name, JSON.stringify(r.args), `{${(r.topics as string[]).join(',')}}`, r.data]
      .map((v) => String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'))
      .join('\t') + '\n',
  );
  const url = await freshDatabase(adminUrl, 'bench_copy');
  const target = new pg.Client({ connectionString: url });
  await target.connect();
  // The same columns, key and index as indexer_events.
  await target.query(`create table copy_target (
    chain_id bigint not null, block_number bigint not null, block_hash text not null, block_timestamp bigint not null,
    transaction_hash text not null, transaction_index integer not null, log_index integer not null, address text not null,
    event_name text not null, args jsonb not null, topics text[] not null, data text not null,
    primary key (chain_id, block_hash, log_index))`);
  await target.query('create index on copy_target (chain_id, block_number, log_index)');
  const started = performance.now();
  await pipeline(Readable.from(lines), target.query(copyFrom('copy copy_target from stdin')));
  const seconds = (performance.now() - started) / 1000;
  await target.end();
  return seconds;
}

/** Sends `samples` single-credential transactions, one block each, and times each until the credential is queryable. */
async function headLag(rpcUrl: string, vault: string, pool: pg.Pool, samples: number): Promise<number[]> {
  const institution = mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 1 }).address;
  const lags: number[] = [];
  for (let i = 0; i < samples; i++) {
    const fingerprint = keccak256(toHex(`lag-${Date.now()}-${i}`));
    const data = encodeFunctionData({ abi, functionName: 'issueCredential', args: [{ student: institution, fingerprint, metadataURI: 'ipfs://lag', expiresAt: 0n }] });
    // Automine: the block is mined before eth_sendTransaction answers.
    await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sendTransaction', params: [{ from: institution, to: vault, gas: numberToHex(400_000), data }] }),
    });
    const mined = performance.now();
    for (;;) {
      const { rowCount } = await pool.query('select 1 from credentials where fingerprint = $1', [fingerprint]);
      if (rowCount) break;
      if (performance.now() - mined > 10_000) throw new Error('event not visible within 10 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    lags.push(performance.now() - mined);
  }
  return lags.sort((a, b) => a - b);
}
