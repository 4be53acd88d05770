import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunningCli, runCli, scratchDir } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';
import { testChain } from '../harness/chain.js';
import { freePort } from '../../src/runtime/ports.js';

/** DATABASE_URL and RPC_URL point at services that already run: ledgersync starts nothing of its own. */
describe('ledgersync against an existing PostgreSQL and RPC endpoint', () => {
  let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let deployer: Awaited<ReturnType<ReturnType<typeof testChain>['newAccount']>>;
  beforeAll(async () => {
    database = await createEmptyDatabase();
    deployer = await testChain().newAccount();
  });
  afterAll(() => database.drop());

  it('migrates, deploys, starts with no embedded service, and reports status', async () => {
    const cwd = scratchDir();
    const home = join(cwd, '.ledgersync');
    const port = await freePort();
    const env = {
      LEDGERSYNC_HOME: home,
      PORT: String(port),
      DATABASE_URL: database.url,
      RPC_URL: inject('rpcUrl'),
      DEPLOYMENTS_FILE: join(cwd, 'deployments.json'),
      DEPLOYER_PRIVATE_KEY: deployer.privateKey,
    };

    const migrate = await runCli(['migrate'], { cwd, env });
    expect(migrate).toMatchObject({ code: 0, stdout: 'migrations applied\n' });

    const deploy = await runCli(['deploy'], { cwd, env });
    expect(deploy.code).toBe(0);
    expect(deploy.stdout).toMatch(/^BlockProofCredentialVault deployed at 0x[0-9a-fA-F]{40} \(chain evm:31337, block \d+\)$/m);
    const recorded = JSON.parse(readFileSync(env.DEPLOYMENTS_FILE, 'utf8')) as Record<string, Record<string, { address: string }>>;
    const address = recorded['evm:31337']!.BlockProofCredentialVault!.address;
    // Deploying again keeps the live deployment.
    const again = await runCli(['deploy'], { cwd, env });
    expect(again.stdout).toContain(`BlockProofCredentialVault kept at ${address}`);

    const running = new RunningCli(['start'], { cwd, env });
    await running.waitForReady(`http://127.0.0.1:${port}/ready`);
    // Nothing embedded: no child process at all, and LEDGERSYNC_HOME never created.
    expect(childrenOf(running.pid)).toEqual([]);
    expect(existsSync(home)).toBe(false);

    const status = await runCli(['status'], { cwd, env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^ok +database +postgres:\/\/.*redacted.*, \d+ engine migrations applied$/m);
    expect(status.stdout).toMatch(/^ok +chain +evm:31337 at http:\/\/127\.0\.0\.1:\d+\/, head \d+$/m);
    expect(status.stdout).toContain(`BlockProofCredentialVault ${address}`);
    expect(status.stdout).toMatch(/^ok +relayer +no intents in flight; 0 failed; 0 webhook dead letters$/m);

    expect(await running.stop('SIGTERM')).toBe(0);
    // The deployer's key and the database password never reach any output.
    const everything = migrate.stdout + migrate.stderr + deploy.stdout + deploy.stderr + running.output + status.stdout + status.stderr;
    expect(everything).not.toContain(deployer.privateKey.slice(2));
    expect(everything).not.toContain(new URL(database.url).password);
  }, 120_000);

  it('says so when the RPC endpoint does not answer', async () => {
    const cwd = scratchDir();
    const env = { DATABASE_URL: database.url, RPC_URL: `http://127.0.0.1:${await freePort()}`, PORT: String(await freePort()) };
    const result = await runCli(['start'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ledgersync: RPC endpoint did not answer eth_chainId: .+\n$/);
  }, 60_000);
});

/** Child pids of a process, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}
