import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createPublicClient, http } from 'viem';
import { RunningCli, isAlive, runCli, scratchDir } from '../harness/cli.js';
import { freePort } from '../../src/runtime/ports.js';
import { embeddedPostgresUrl } from '../../src/db/embedded.js';
import { readDeployments } from '../../src/chain/evm/deployments.js';

/**
 * `ledgersync start` with no DATABASE_URL and no RPC_URL: embedded PostgreSQL and
 * two anvils under LEDGERSYNC_HOME (BlockProof's chain 31337, and the issuer
 * platform's Polygon Edge-like chain 100 without EIP-1559), the contracts
 * deployed on first start.
 */
describe('ledgersync start on embedded defaults', () => {
  it('is ready within 30 s, leaves nothing behind on Ctrl-C, and keeps chain and database across restarts', async () => {
    const cwd = scratchDir();
    const home = join(cwd, '.ledgersync');
    const [port, pgPort, anvilPort, issuerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = { LEDGERSYNC_HOME: home, PORT: String(port), EMBEDDED_POSTGRES_PORT: String(pgPort), ANVIL_PORT: String(anvilPort), ISSUER_ANVIL_PORT: String(issuerPort) };
    const ready = `http://127.0.0.1:${port}/ready`;
    const chain = createPublicClient({ transport: http(`http://127.0.0.1:${anvilPort}`), cacheTime: 0 });
    const issuerChain = createPublicClient({ transport: http(`http://127.0.0.1:${issuerPort}`), cacheTime: 0 });

    // First start: creates the cluster and the chain, deploys the contracts.
    const first = new RunningCli(['start'], { cwd, env });
    expect(await first.waitForReady(ready)).toBeLessThan(30_000);
    const body = { checks: await first.readyChecks(ready) };
    expect(body.checks['chain evm:31337']).toMatchObject({ ok: true, chain: 'evm:31337' });
    expect(body.checks['indexer evm:100']).toMatchObject({ ok: true });

    const vault = readDeployments(join(home, 'deployments.json'))['evm:31337']?.BlockProofCredentialVault;
    expect(vault).toBeDefined();
    // Confío payments beside BlockProof: its three contracts, linked (Pay and P2PTrade hold cUSD).
    expect(Object.keys(readDeployments(join(home, 'deployments.json'))['evm:31337'] ?? {}).sort()).toEqual(['BlockProofCredentialVault', 'CUSD', 'P2PTrade', 'Pay']);
    // The issuer platform's chain: id 100, no base fee, its four contracts deployed and linked.
    expect(await issuerChain.getChainId()).toBe(100);
    expect((await issuerChain.getBlock()).baseFeePerGas ?? null).toBeNull();
    expect(Object.keys(readDeployments(join(home, 'deployments.json'))['evm:100'] ?? {}).sort()).toEqual(['CampaignFactory', 'InvestorRegistry', 'IssuerRegistry', 'ShareCertificate']);
    expect((await fetch(`http://127.0.0.1:${port}/api/review-queue`)).status).toBe(401);
    const databaseUrl = embeddedPostgresUrl(join(home, 'postgres'), pgPort)!;
    await withClient(databaseUrl, (c) => c.query("create table kept (note text); insert into kept values ('survives a restart')"));
    // Interval mining: wait for blocks beyond the deployment, so "kept" means more than block 1.
    await waitFor(async () => (await chain.getBlockNumber()) >= 3n);
    const headBefore = await chain.getBlockNumber();
    const children = servicePids(home);

    expect(await first.stop('SIGINT')).toBe(0);
    expect(children.every((pid) => !isAlive(pid))).toBe(true);
    expect(existsSync(join(home, 'ledgersync.pid'))).toBe(false);

    // Second start: same chain (blocks and contract) and same database.
    const second = new RunningCli(['start'], { cwd, env });
    await second.waitForReady(ready);
    expect(await chain.getBlockNumber()).toBeGreaterThanOrEqual(headBefore);
    expect(await chain.getCode({ address: vault!.address })).not.toBe('0x');
    expect(readDeployments(join(home, 'deployments.json'))['evm:31337']?.BlockProofCredentialVault?.address).toBe(vault!.address);
    const kept = await withClient(databaseUrl, (c) => c.query<{ note: string }>('select note from kept'));
    expect(kept.rows).toEqual([{ note: 'survives a restart' }]);
    expect(second.output).not.toContain('contract deployed');

    // A start that was SIGKILLed leaves anvil and PostgreSQL orphaned; the next start stops them and carries on.
    const orphans = servicePids(home);
    await second.kill();
    expect(orphans.every(isAlive)).toBe(true);
    const third = new RunningCli(['start'], { cwd, env });
    await third.waitForReady(ready);
    expect(orphans.every((pid) => !isAlive(pid))).toBe(true);
    expect(await chain.getCode({ address: vault!.address })).not.toBe('0x');
    const thirdChildren = servicePids(home);
    expect(await third.stop('SIGTERM')).toBe(0);
    expect(thirdChildren.every((pid) => !isAlive(pid))).toBe(true);
  }, 180_000);

  it('refuses a second start on the same LEDGERSYNC_HOME, and lets one-shot commands use its PostgreSQL', async () => {
    const cwd = scratchDir();
    const [port, port2, pgPort, anvilPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = { LEDGERSYNC_HOME: join(cwd, '.ledgersync'), EMBEDDED_POSTGRES_PORT: String(pgPort), ANVIL_PORT: String(anvilPort), ISSUER_ANVIL_PORT: String(await freePort()) };
    const first = new RunningCli(['start'], { cwd, env: { ...env, PORT: String(port) } });
    await first.waitForReady(`http://127.0.0.1:${port}/ready`);
    const second = new RunningCli(['start'], { cwd, env: { ...env, PORT: String(port2) } });
    expect(await second.exited).toBe(1);
    expect(second.output).toMatch(new RegExp(`^ledgersync: .* is in use by ledgersync process ${first.pid}; .*\\n$`));
    // The first one is unharmed.
    await first.readyChecks(`http://127.0.0.1:${port}/ready`);
    // A one-shot database command is only one more client of the running PostgreSQL: it works, and stops nothing.
    const key = await runCli(['api-key', 'create', '--admin'], { cwd, env });
    expect(key.code, key.stderr).toBe(0);
    expect(key.stdout).toMatch(/^key [0-9a-f]{12} for administration: lsk_/);
    await first.readyChecks(`http://127.0.0.1:${port}/ready`);
    expect(await first.stop()).toBe(0);
  }, 120_000);
});

/** The pids of the embedded anvil and PostgreSQL, from the files they are recorded in. */
function servicePids(home: string): number[] {
  const anvil = Number(readFileSync(join(home, 'anvil', 'anvil.pid'), 'utf8'));
  const postgres = Number(readFileSync(join(home, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return [anvil, postgres];
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
