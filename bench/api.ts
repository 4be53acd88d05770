/**
 * bench/api: GET /api/credentials/:id under load (autocannon on loopback) against
 * `ledgersync api` in its own process, beside a bare Fastify route returning a
 * constant, measured the same way in the same run.
 *
 *   npm run bench:api     (BENCH_CONNECTIONS, BENCH_SECONDS, BENCH_CREDENTIALS; DATABASE_URL uses your PostgreSQL)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startAnvil } from '../src/chain/evm/anvil.js';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { freePort } from '../src/runtime/ports.js';
import { packageRoot } from '../src/runtime/paths.js';
import { BenchRun, check, stopProcess } from './harness.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CREDENTIALS = Number(process.env.BENCH_CREDENTIALS ?? 10_000);
const log = (line: string) => console.log(line);

const run = new BenchRun('bench-api');

try {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const anvil = await startAnvil({ port: await freePort() });
  run.onEnd(() => anvil.stop());
  const databaseUrl = await run.freshDatabase('bench_api');
  const database = connectDatabase(databaseUrl, { max: 2 });
  run.onEnd(() => database.close());
  await migrateDatabase(database, [{ name: 'credentials', migrations: 'src/apps/credentials/migrations' }]);
  // The cache as the indexer leaves it: CREDENTIALS credentials of one institution.
  await database.pool.query(
    `insert into institutions (chain, address, name, metadata_uri, active, updated_at, updated_block)
     values ('evm:31337', '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', 'Universidad', 'ipfs://uni', true, 1700000000, 1)`,
  );
  await database.pool.query(
    `insert into credentials (chain, credential_id, institution, student, fingerprint, metadata_uri, issued_at, expires_at, issued_block, issued_transaction)
     select 'evm:31337', i, '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
            '0x' || encode(sha256(i::text::bytea), 'hex'), 'ipfs://diploma-' || i, 1700000000 + i, 0, 2 + i / 100,
            '0x' || encode(sha256(('tx' || i)::bytea), 'hex')
     from generate_series(1, $1) as i`,
    [CREDENTIALS],
  );
  await database.pool.query('vacuum analyze credentials');

  // `ledgersync api` as users run it (default settings, one log line per request), a second one with
  // the in-memory read cache off (every request reads PostgreSQL), and the bare route.
  const apiEnv = {
    DATABASE_URL: databaseUrl,
    RPC_URL: anvil.rpcUrl,
    // Load from one address: the per-address limit would answer 429 to most of it.
    RATE_LIMIT_PER_IP: '0',
    ...(process.env.LOG_LEVEL ? { LOG_LEVEL: process.env.LOG_LEVEL } : {}),
  };
  const apiPort = await freePort();
  const api = spawnChild(join(packageRoot, 'dist', 'src', 'cli', 'main.js'), ['api'], { ...apiEnv, PORT: String(apiPort) });
  run.onEnd(() => stopProcess(api));
  const coldPort = await freePort();
  const cold = spawnChild(join(packageRoot, 'dist', 'src', 'cli', 'main.js'), ['api'], { ...apiEnv, PORT: String(coldPort), READ_CACHE_ENTRIES: '0' });
  run.onEnd(() => stopProcess(cold));
  const barePort = await freePort();
  const bare = spawnChild(join(packageRoot, 'bench', 'bare-server.mjs'), [String(barePort)], {});
  run.onEnd(() => stopProcess(bare));
  for (const url of [`http://127.0.0.1:${apiPort}/api/credentials/1`, `http://127.0.0.1:${coldPort}/api/credentials/1`, `http://127.0.0.1:${barePort}/constant`]) {
    await waitForHttp(url);
  }

  let next = 0;
  const byId = () => `/api/credentials/${(next++ % CREDENTIALS) + 1}`;
  // Only one server is running flat out at a time: each is measured alone.
  const credentials = await load(`http://127.0.0.1:${apiPort}`, byId);
  const uncached = await load(`http://127.0.0.1:${coldPort}`, byId);
  const constant = await load(`http://127.0.0.1:${barePort}`, () => '/constant');
  const ratio = credentials.rps / constant.rps;

  log('');
  log(`GET /api/credentials/:id  ${Math.round(credentials.rps)} req/s, p50 ${credentials.p50} ms, p99 ${credentials.p99} ms, ${credentials.errors} errors, ${credentials.non2xx} non-2xx  | ${check(credentials.rps >= 10_000 && credentials.p99 < 10, '>= 10000 req/s and p99 < 10 ms')}`);
  log(`  same, read cache off    ${Math.round(uncached.rps)} req/s, p50 ${uncached.p50} ms, p99 ${uncached.p99} ms (every request reads PostgreSQL)`);
  log(`bare Fastify constant     ${Math.round(constant.rps)} req/s, p50 ${constant.p50} ms, p99 ${constant.p99} ms`);
  log(`ratio                     ${(100 * ratio).toFixed(0)}% of the bare route  | ${check(ratio >= 0.4, '>= 40%')}`);
  if (credentials.rps < 10_000 || credentials.p99 >= 10 || ratio < 0.4 || credentials.non2xx > 0 || credentials.errors > 0) process.exitCode = 1;
} finally {
  await run.end();
}

async function load(url: string, path: () => string) {
  // A short warm-up, then the measured run.
  await autocannon({ url, connections: CONNECTIONS, duration: 2, requests: [{ setupRequest: (req) => ({ ...req, path: path() }) }] });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests: [{ setupRequest: (req) => ({ ...req, path: path() }) }] });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

function spawnChild(script: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [script, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitForHttp(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

