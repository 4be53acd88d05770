/**
 * bench/indexer: backfill, replay and head lag of the indexer on a real anvil
 * chain of 100,000 CredentialIssued events over 10,000 blocks, each figure beside
 * the limit measured in the same run.
 *
 *   npm run bench:indexer     (BENCH_BLOCKS, BENCH_EVENTS, BENCH_PER_TX resize the chain; DATABASE_URL uses your PostgreSQL;
 *                              BENCH_NODE_FLAGS passes node flags to the indexer process, e.g. --cpu-prof or --trace-gc)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { numberToHex } from 'viem';
import { benchChain, type BenchChain } from './chain.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { recordDeployment } from '../src/chain/evm/deployments.js';
import { reindexProjection } from '../src/core/indexer/reindex.js';
import { credentialsProjection } from '../src/apps/credentials/projections.js';
import { packageRoot } from '../src/runtime/paths.js';
import { BenchRun, check, stopProcess } from './harness.js';

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 10_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PER_TX = Number(process.env.BENCH_PER_TX ?? 50);
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 200);
const log = (line: string) => console.log(line);

const run = new BenchRun('bench');

try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const chain = await benchChain(BLOCKS, EVENTS, PER_TX, log);
  run.onEnd(() => chain.anvil.stop());

  const databaseUrl = await run.freshDatabase('bench_indexer');
  const database = connectDatabase(databaseUrl, { max: 10 });
  run.onEnd(() => database.close());
  await migrateDatabase(database, [{ name: 'credentials', migrations: 'src/apps/credentials/migrations' }]);
  const deploymentsFile = join(run.work, 'deployments.json');
  recordDeployment(deploymentsFile, 'evm:31337', 'BlockProofCredentialVault', { address: chain.vault, blockNumber: chain.deployBlock });
  // 1. Backfill: `ledgersync indexer` in its own process (so its memory is its own), the whole
  //    chain final (depth 0), from an empty database to the head; timed from its first checkpoint.
  const indexer = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), join(packageRoot, 'dist', 'src', 'cli', 'main.js'), 'indexer'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      RPC_URL: chain.anvil.rpcUrl,
      WS_URL: chain.anvil.wsUrl,
      DEPLOYMENTS_FILE: deploymentsFile,
      FINALITY_DEPTH: '0',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(process.env.BENCH_CONCURRENCY ? { INDEXER_CONCURRENCY: process.env.BENCH_CONCURRENCY } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  run.onEnd(() => stopProcess(indexer));
  const backfillStarted = await waitForCheckpoint(database.pool, indexer, (n) => n !== undefined);
  const backfillEnded = await waitForCheckpoint(database.pool, indexer, (n) => n === chain.head);
  const backfillSeconds = (backfillEnded - backfillStarted) / 1000;
  const peakRss = peakRssOf(indexer.pid!);
  const stored = (await database.pool.query<{ n: number }>('select count(*)::int as n from indexer_events')).rows[0]!.n;

  // The limit: a raw eth_getLogs loop over the same blocks, plus COPY of the same rows.
  const fetchSeconds = await rawGetLogsLoop(chain.anvil.rpcUrl, chain.vault, BigInt(chain.deployBlock), chain.head);
  const copySeconds = await copyOnly(database.pool);
  const limitSeconds = fetchSeconds + copySeconds;

  // 2. Replay from the stored events (no RPC).
  const replayStarted = performance.now();
  const replayed = await reindexProjection(database.pool, 'evm:31337', credentialsProjection);
  const replaySeconds = (performance.now() - replayStarted) / 1000;

  // 3. Head lag: mined block → its event visible through a query, the indexer following the head over WebSocket.
  const lags = await headLag(chain, database.pool, LAG_SAMPLES);
  const peakRssAfterLag = peakRssOf(indexer.pid!);

  const backfillRate = stored / backfillSeconds;
  const limitRate = stored / limitSeconds;
  const replayRate = replayed.events / replaySeconds;
  const p = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]!;
  const results = [
    ['events indexed', `${stored} over ${chain.head - BigInt(chain.deployBlock) + 1n} blocks`, '', ''],
    ['backfill', `${Math.round(backfillRate)} events/s (${backfillSeconds.toFixed(2)} s)`, `limit ${Math.round(limitRate)} events/s (getLogs ${fetchSeconds.toFixed(2)} s + COPY ${copySeconds.toFixed(2)} s)`, check(backfillRate >= 20_000 && backfillSeconds <= 2 * limitSeconds, `>= 20000 ev/s and <= 2x limit time (ratio ${(backfillSeconds / limitSeconds).toFixed(2)})`)],
    ['replay', `${Math.round(replayRate)} events/s (${replaySeconds.toFixed(2)} s, ${replayed.events} events)`, '', check(replayRate >= 50_000, '>= 50000 ev/s')],
    ['head lag', `p50 ${p(0.5).toFixed(0)} ms, p95 ${p(0.95).toFixed(0)} ms, max ${lags[lags.length - 1]!.toFixed(0)} ms (${lags.length} blocks)`, '', check(p(0.95) < 300, 'p95 < 300 ms')],
    ['peak RSS (indexer)', `${Math.round(peakRss / 2 ** 20)} MB in the backfill, ${Math.round(peakRssAfterLag / 2 ** 20)} MB after the head-lag run`, '', check(peakRssAfterLag < 400 * 2 ** 20, '< 400 MB')],
  ];
  log('');
  for (const [name, value, limit, verdict] of results) log(`${name!.padEnd(22)} ${value}${limit ? `  | ${limit}` : ''}${verdict ? `  | ${verdict}` : ''}`);
  if (results.some(([, , , verdict]) => verdict?.startsWith('FAIL'))) process.exitCode = 1;
} finally {
  await run.end();
}

/** The kernel's high-water mark of a process's resident memory (VmHWM), in bytes. */
function peakRssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/** Polls the checkpoint every 10 ms until `done`; returns when (performance.now()) that happened. */
async function waitForCheckpoint(pool: pg.Pool, indexer: ChildProcess, done: (block: bigint | undefined) => boolean): Promise<number> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (indexer.exitCode !== null) throw new Error(`the indexer exited with code ${indexer.exitCode}`);
    const block = await pool
      .query<{ n: string }>('select block_number::text as n from indexer_checkpoints')
      .then(({ rows }) => (rows[0] ? BigInt(rows[0].n) : undefined))
      .catch(() => undefined); // the indexer may not have migrated yet
    if (done(block)) return performance.now();
    if (Date.now() > deadline) throw new Error('indexer did not get there within 10 minutes');
    await new Promise((r) => setTimeout(r, 10));
  }
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

/**
 * COPY of the same rows into an empty table like indexer_events (same columns, key and
 * index). The rows are taken from the indexer's table in COPY's own text format first,
 * so only the load is timed.
 */
async function copyOnly(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    const rows: Buffer[] = [];
    for await (const chunk of client.query(copyTo('copy indexer_events to stdout'))) rows.push(chunk as Buffer);
    await client.query('create table copy_target (like indexer_events including all)');
    const started = performance.now();
    await pipeline(Readable.from(rows), client.query(copyFrom('copy copy_target from stdin')));
    const seconds = (performance.now() - started) / 1000;
    await client.query('drop table copy_target');
    return seconds;
  } finally {
    client.release();
  }
}

/** Emits `samples` events, one block each (automine), and times each until its credential is queryable. */
async function headLag(chain: BenchChain, pool: pg.Pool, samples: number): Promise<number[]> {
  const lags: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = BigInt(chain.events + 1_000_000 + i);
    // Automine: the block is mined before eth_sendTransaction answers.
    await chain.emit(id, 1);
    const mined = performance.now();
    for (;;) {
      const { rowCount } = await pool.query("select 1 from credentials where chain = 'evm:31337' and credential_id = $1", [id.toString()]);
      if (rowCount) break;
      if (performance.now() - mined > 10_000) throw new Error('event not visible within 10 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    lags.push(performance.now() - mined);
  }
  return lags.sort((a, b) => a - b);
}
