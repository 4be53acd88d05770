/**
 * One anvil and one PostgreSQL for the whole test run, on free ports.
 * Each test file makes its own database (test/harness/db.ts) and its own funded
 * accounts and contracts (test/harness/chain.ts), so files never share state.
 */
import type { TestProject } from 'vitest/node';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/db/embedded.js';
import { freePort } from '../../src/runtime/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    rpcUrl: string;
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'ledgersync-test-'));
  // mkdtemp makes the directory private; as root, PostgreSQL runs as another user that must enter it.
  chmodSync(dir, 0o755);
  const started = await Promise.allSettled([
    process.env.TEST_DATABASE_URL
      ? Promise.resolve(undefined)
      : startEmbeddedPostgres({ dir: join(dir, 'postgres'), port: await freePort(), flags: ['-c', 'fsync=off', '-c', 'max_connections=300'] }),
    startAnvil({ port: await freePort() }),
  ]);
  const [postgres, anvil] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [RunningPostgres | undefined, Anvil | undefined];
  const failure = started.find((s) => s.status === 'rejected');
  if (failure) {
    await Promise.all([anvil?.stop(), postgres?.stop()]);
    throw failure.reason;
  }
  project.provide('databaseUrl', process.env.TEST_DATABASE_URL ?? postgres!.url);
  project.provide('rpcUrl', anvil!.rpcUrl);

  return async () => {
    await Promise.all([anvil!.stop(), postgres?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
}
