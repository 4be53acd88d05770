/**
 * bench/sui-indexer: backfill rate of the Sui indexer on the simulator, in
 * checkpoints/s and relevant transactions/s, beside the limit measured in the
 * same run: the simulator's own ListCheckpoints stream, with the indexer's read
 * mask, read by a bare client in a process of its own (as the indexer is).
 *
 *   npm run bench:sui-indexer   (BENCH_CHECKPOINTS (50000), BENCH_RELEVANT_EVERY (10) shape the chain;
 *                                DATABASE_URL uses your PostgreSQL; BENCH_NODE_FLAGS passes node flags to the indexer)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { SuiGrpcClient } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { startSuiSimulator } from '../src/chain/sui/simulator/index.js';
import { CHECKPOINT_MASK } from '../src/chain/sui/indexer/decode.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { packageRoot } from '../src/runtime/paths.js';
import { suiTestMigrations, WALLETS } from '../test/app-sui/index.js';
import { BenchRun, stopProcess } from './harness.js';

const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 50_000);
const RELEVANT_EVERY = Number(process.env.BENCH_RELEVANT_EVERY ?? 10);
const log = (line: string) => console.log(line);

if (process.env.BENCH_BARE_READ) await bareRead(JSON.parse(process.env.BENCH_BARE_READ) as BareRead);
else await bench();

async function bench(): Promise<void> {
  const run = new BenchRun('bench-sui');
  try {
    log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
    const sim = await startSuiSimulator({ seed: 11 });
    run.onEnd(() => sim.close());
    const wallets = Array.from({ length: 3 }, () => normalizeSuiAddress(`0x${randomBytes(32).toString('hex')}`));
    const emitStarted = performance.now();
    sim.ledger.emitCheckpoints(CHECKPOINTS, { packages: [sim.ledger.packageId], addresses: wallets, relevantEvery: RELEVANT_EVERY });
    const head = BigInt(sim.ledger.height);
    log(`simulator: ${head + 1n} checkpoints (a relevant transaction every ${RELEVANT_EVERY}, 2 unrelated in each) made in ${((performance.now() - emitStarted) / 1000).toFixed(1)} s`);

    const databaseUrl = await run.freshDatabase('bench_sui_indexer');
    const database = connectDatabase(databaseUrl, { max: 4 });
    run.onEnd(() => database.close());
    await migrateDatabase(database, suiTestMigrations);
    await database.pool.query('insert into address_sets (name, address) select $1, unnest($2::text[])', [WALLETS, wallets]);

    // 1. Backfill: `ledgersync indexer` (built dist/, the Sui test app's config through tsx's loader)
    //    in its own process, from an empty database to the head; timed from its first checkpoint row.
    const indexer = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
        '--import',
        pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
        join(packageRoot, 'dist', 'src', 'cli', 'main.js'),
        'indexer',
      ],
      {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: databaseUrl,
          SUI_URL: sim.url,
          SUI_PACKAGE: sim.ledger.packageId,
          LEDGERSYNC_CONFIG: join(packageRoot, 'test', 'app-sui', 'ledgersync.config.ts'),
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    run.onEnd(() => stopProcess(indexer));
    const started = await waitForCheckpoint(database.pool, indexer, head, (n) => n !== undefined);
    const ended = await waitForCheckpoint(database.pool, indexer, head, (n) => n === head);
    const seconds = (ended - started) / 1000;
    const peakRss = peakRssOf(indexer.pid!);
    const { rows } = await database.pool.query<{ transactions: number; events: number }>(
      'select (select count(*)::int from sui_transactions) as transactions, (select count(*)::int from indexer_events) as events',
    );
    const { transactions, events } = rows[0]!;

    // 2. The limit: the same checkpoints through ListCheckpoints with the same read mask, by a bare client in its own process.
    const limit = await bareReadInChild({ url: sim.url, from: 0, to: Number(head) });

    const checkpoints = Number(head) + 1;
    log('');
    log(`${'indexed'.padEnd(22)} ${checkpoints} checkpoints, ${transactions} relevant transactions, ${events} raw events`);
    log(
      `${'backfill'.padEnd(22)} ${Math.round(checkpoints / seconds)} checkpoints/s, ${Math.round(transactions / seconds)} relevant transactions/s (${seconds.toFixed(2)} s)` +
        `  | limit: bare ListCheckpoints ${Math.round(checkpoints / limit.seconds)} checkpoints/s (${limit.seconds.toFixed(2)} s, ${limit.streams} streams)` +
        `  | backfill time ÷ limit time ${(seconds / limit.seconds).toFixed(2)}`,
    );
    log(`${'peak RSS (indexer)'.padEnd(22)} ${Math.round(peakRss / 2 ** 20)} MB`);
  } finally {
    await run.end();
  }
}

interface BareRead {
  url: string;
  from: number;
  to: number;
}

/** This file again, in its own process, reading the checkpoints as a bare client; returns what it measured. */
function bareReadInChild(read: BareRead): Promise<{ seconds: number; streams: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { PATH: process.env.PATH, BENCH_BARE_READ: JSON.stringify(read) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { seconds: number; streams: number }) : reject(new Error(`the bare reader exited with ${code}`))));
  });
}

/**
 * ListCheckpoints over [from, to] with the indexer's read mask, each stream
 * resumed after the last checkpoint received (the server ends a stream at its
 * item limit), messages decoded by the SDK and nothing else done with them.
 */
async function bareRead({ url, from, to }: BareRead): Promise<void> {
  const client = new SuiGrpcClient({ network: 'localnet-sim', baseUrl: url });
  const started = performance.now();
  let next = BigInt(from);
  let streams = 0;
  while (next <= BigInt(to)) {
    streams++;
    for await (const frame of client.ledgerService.listCheckpoints({ startCheckpoint: next, endCheckpoint: BigInt(to) + 1n, readMask: { paths: CHECKPOINT_MASK } }).responses) {
      if (frame.checkpoint?.sequenceNumber !== undefined) next = frame.checkpoint.sequenceNumber + 1n;
    }
  }
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, streams }));
}

/** The kernel's high-water mark of a process's resident memory (VmHWM), in bytes. */
function peakRssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/** Polls the checkpoint every 10 ms until `done`, printing progress every 5 s; returns when (performance.now()) that happened. */
async function waitForCheckpoint(pool: pg.Pool, indexer: ChildProcess, head: bigint, done: (checkpoint: bigint | undefined) => boolean): Promise<number> {
  const deadline = Date.now() + 600_000;
  let reported = Date.now();
  for (;;) {
    if (indexer.exitCode !== null) throw new Error(`the indexer exited with code ${indexer.exitCode}`);
    const checkpoint = await pool
      .query<{ n: string }>('select block_number::text as n from indexer_checkpoints')
      .then(({ rows }) => (rows[0] ? BigInt(rows[0].n) : undefined))
      .catch(() => undefined);
    if (done(checkpoint)) return performance.now();
    if (Date.now() - reported >= 5_000) {
      reported = Date.now();
      if (checkpoint !== undefined) log(`  indexed checkpoint ${checkpoint} of ${head}`);
    }
    if (Date.now() > deadline) throw new Error('the indexer did not get there within 10 minutes');
    await new Promise((r) => setTimeout(r, 10));
  }
}
