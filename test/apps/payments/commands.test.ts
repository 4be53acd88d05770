import { describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { findAccount } from '../../../src/apps/payments/accounts.js';
import { until } from '../../harness/until.js';
import { CLI_WITH_TS_CONFIG, runCli } from '../../harness/cli.js';
import { EVM_CHAIN, paymentsWorld } from '../../harness/payments-world.js';
import { DEV_KEYS } from './dev-keys.js';

/** `ledgersync payments test-connection | balance` as an operator runs them, against the app's chain and database. */
describe('payments commands', () => {
  it('test the connection, read balances cached and critical, benchmark both, and refuse bad input in one line', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start(['api', 'worker']);
    const cli = (...args: string[]) => runCli(['payments', ...args], { cwd: world.cwd, env: world.env, script: CLI_WITH_TS_CONFIG });
    const holder = privateKeyToAccount(DEV_KEYS[1]).address;

    // An operator adds a user (the key printed works on the GraphQL API) and mints them money through the outbox.
    const added = await cli('user', 'add', '--ref', 'operator-check', '--address', holder, '--custodial', '--push', 'webhook:device-9');
    expect(added.code, added.stderr).toBe(0);
    const [, accountId] = /account (\d+) on evm:31337 at 0x[0-9a-f]{40} \(custodial\)/.exec(added.stdout) ?? [];
    const apiKey = /(lsk_\S+)/.exec(added.stdout)?.[1];
    const me = await fetch(`${world.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ query: '{ me { externalRef } }' }) });
    expect(await me.json()).toEqual({ data: { me: { externalRef: 'operator-check' } } });
    const account = (await findAccount(world.pool(), accountId!))!;
    expect(account).toMatchObject({ chain: EVM_CHAIN, address: holder.toLowerCase(), custody: 'custodial', active: true });
    const minted = await cli('mint', '--to', holder, '--amount', '5.25', '--key', 'faucet-1');
    expect(minted.stdout).toMatch(/^queued: intent \d+ mints 5\.25 cUSD to 0x[0-9a-f]{40} on evm:31337$/m);
    await until(async () => (await world.balanceOf(holder)) === 5_250_000n, 'the mint on chain', 60_000);

    const connection = await cli('test-connection', '--address', holder);
    expect(connection.code, connection.stderr).toBe(0);
    expect(connection.stdout).toMatch(new RegExp(`^ok {4}evm:31337: latest block \\d+, answered in \\d+ ms; ${holder.toLowerCase()} holds 5\\.25 cUSD at \\d+$`, 'm'));

    const critical = await cli('balance', '--account', account.id, '--verify-critical');
    expect(critical.code, critical.stderr).toBe(0);
    expect(critical.stdout).toContain('5.25 cUSD (from the chain');
    const bench = await cli('balance', '--account', account.id, '--benchmark', '--iterations', '20');
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stdout).toMatch(/^cached read +p50 +[\d.]+ ms +p99 +[\d.]+ ms +\(0 RPC calls in all\)$/m);
    expect(bench.stdout).toMatch(/^chain read +p50 +[\d.]+ ms +p99 +[\d.]+ ms$/m);

    // Bad input: one line on stderr, exit code 1, nothing else.
    for (const args of [
      ['balance', '--account', 'abc'],
      ['test-connection', '--chain', 'evm:999'],
      ['mint', '--to', holder, '--amount', '-1'],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n'), `${args.join(' ')}: ${result.stderr}`).toHaveLength(1);
    }
    // A chain that does not answer fails the check, with the reason.
    const down = await runCli(['payments', 'test-connection'], { cwd: world.cwd, env: { ...world.env, PAYMENTS_RPC_URL: 'http://127.0.0.1:9' }, script: CLI_WITH_TS_CONFIG });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/^FAIL {2}evm:31337: /m);
  }, 400_000);
});
