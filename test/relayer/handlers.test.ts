import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import { intentRoutes } from '../../src/core/relayer/routes.js';
import { createApiKey } from '../../src/http/api-keys.js';
import { join } from 'node:path';
import { CLI_WITH_TS_CONFIG, runCli, scratchDir } from '../harness/cli.js';
import type pg from 'pg';
import type { SettledIntent } from '../../src/core/relayer/types.js';
import type { RelayerContext } from '../../src/core/relayer/context.js';
import { callHandlers, retryHandlers } from '../../src/core/relayer/handlers.js';
import { relayerMetrics } from '../../src/core/relayer/metrics.js';
import { metrics } from '../../src/runtime/metrics.js';
import { createLogger } from '../../src/runtime/logger.js';
import { inTransaction } from '../../src/db/transaction.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { ledgerRelayerWorld, ledgerWriteKind } from '../harness/ledger-relayer.js';
import { until } from '../harness/until.js';

/** An app whose handler records each call in its own table, in the relayer's transaction. */
async function recordingTable(pool: pg.Pool): Promise<() => Promise<string[]>> {
  await pool.query('create table handled (seq bigserial primary key, key text not null, hook text not null)');
  return async () => (await pool.query<{ key: string; hook: string }>('select key, hook from handled order by seq')).rows.map((r) => `${r.hook}:${r.key}`);
}

const record = (hook: string) => async (intent: SettledIntent, client: pg.PoolClient) => {
  await client.query('insert into handled (key, hook) values ($1, $2)', [intent.idempotencyKey, hook]);
};

/** Invariant 7: an app handler that fails affects only its own intent. */
describe('app handlers', () => {
  it('keeps confirming the signer’s other intents when a handler throws, and calls the failing one again until it succeeds', async () => {
    let broken = true;
    const kind = ledgerWriteKind({
      async onConfirmed(intent, client) {
        // Its write happens, then it throws: the write must be rolled back with it.
        await record('onConfirmed')(intent, client);
        if (broken && intent.idempotencyKey.startsWith('bad')) throw new Error(`the app cannot handle ${intent.idempotencyKey}`);
      },
    });
    const w = await ledgerRelayerWorld({ kinds: [kind] });
    const handled = await recordingTable(w.database.pool);
    const start = await w.nonceOnChain();
    const keys = [...Array.from({ length: 8 }, (_, i) => `good-${i}`), ...Array.from({ length: 4 }, (_, i) => `bad-${i}`)];
    await w.submit(keys.map((k) => w.writeOnce(k)));
    await w.startRelayer();

    expect(await w.settled()).toEqual({ confirmed: 12 });
    expect((await handled()).sort()).toEqual(keys.filter((k) => k.startsWith('good')).map((k) => `onConfirmed:${k}`).sort());
    const owed = await until(async () => {
      const { rows } = await w.database.pool.query<{ key: string; hook: string; attempts: number; error: { message: string } }>(
        `select i.idempotency_key as key, c.hook, c.attempts, c.error from relayer_handler_calls c join relayer_intents i on i.id = c.intent_id order by key`,
      );
      return rows.length === 4 && rows;
    }, 'the failing calls to be recorded');
    expect(owed.map((r) => [r.key, r.hook])).toEqual(keys.filter((k) => k.startsWith('bad')).map((k) => [k, 'onConfirmed']));
    expect(owed.every((r) => r.attempts >= 1 && r.error.message === `the app cannot handle ${r.key}`)).toBe(true);
    expect(await metrics.metrics()).toMatch(/^ledgersync_relayer_handler_failures_total\{chain="evm:31337",kind="ledger.write",hook="onConfirmed"\} [4-9]/m);
    // Visible where operators look: `ledgersync status` (of the test app's deployment, run meanwhile), and the intent over HTTP.
    const status = runCli(['status'], {
      cwd: scratchDir(),
      script: CLI_WITH_TS_CONFIG,
      env: { DATABASE_URL: w.database.url, RPC_URL: w.world.rpcUrl, DEPLOYMENTS_FILE: w.world.deploymentsFile, LEDGERSYNC_CONFIG: join(packageRoot, 'test', 'app', 'ledgersync.config.ts') },
    });
    const server = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', routes: [(app) => intentRoutes(app, w.database.pool)] });
    onTestFinished(() => server.close());
    const admin = await createApiKey(w.database.pool, { roles: ['admin'] }, 'operations');
    const { rows: bad } = await w.database.pool.query<{ id: string }>("select id::text from relayer_intents where idempotency_key = 'bad-0'");
    const shown = (await server.inject({ url: `/api/tx/${bad[0]!.id}`, headers: { authorization: `Bearer ${admin.key}` } })).json();
    expect(shown).toMatchObject({ state: 'confirmed', pendingHandlers: [{ hook: 'onConfirmed', error: { message: 'the app cannot handle bad-0' } }] });
    expect(shown.pendingHandlers[0].attempts).toBeGreaterThanOrEqual(1);

    // The signer is not stalled: more intents go through while the failing calls wait.
    await w.submit([w.writeOnce('later')]);
    expect(await w.settled()).toEqual({ confirmed: 13 });
    expect(await handled()).toContain('onConfirmed:later');
    expect((await status).stdout).toMatch(/relayer.*app handlers failing for 4 intents/);

    broken = false;
    await until(async () => (await w.database.pool.query('select 1 from relayer_handler_calls')).rows.length === 0, 'the owed calls to succeed', 30_000);
    const all = await handled();
    expect(all.sort()).toEqual([...keys, 'later'].map((k) => `onConfirmed:${k}`).sort());
    // No gap: one mined transaction per nonce.
    const { rows } = await w.database.pool.query<{ sequence: bigint }>("select sequence from relayer_transactions where status = 'mined' order by sequence");
    expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: 13 }, (_, i) => start + i));
  });

  it('calls an intent’s hooks in the order they happened, a later one waiting behind a failing earlier one', async () => {
    let broken = true;
    const kind = ledgerWriteKind({
      onConfirmed: record('onConfirmed'),
      async onReorged(intent, client) {
        await record('onReorged')(intent, client);
        if (broken) throw new Error('onReorged is broken');
      },
    });
    const w = await ledgerRelayerWorld({ kinds: [kind] });
    const handled = await recordingTable(w.database.pool);
    const [first, second] = await w.submit([w.writeOnce('first'), w.writeOnce('second')]);
    const ctx = {
      pool: w.database.pool,
      chain: w.evm.key,
      signer: w.account.address.toLowerCase(),
      kinds: new Map([[kind.name, kind]]),
      batchSize: 10,
      logger: createLogger('silent'),
      metrics: relayerMetrics(w.evm.key),
    } as unknown as RelayerContext;

    await inTransaction(w.database.pool, (client) =>
      callHandlers(client, ctx, [
        { intentId: first!.id, hook: 'onReorged' },
        { intentId: first!.id, hook: 'onConfirmed' },
        { intentId: second!.id, hook: 'onConfirmed' },
      ]),
    );
    expect(await handled()).toEqual(['onConfirmed:second']);
    const owed = async () =>
      (await w.database.pool.query<{ hook: string; attempts: number }>('select hook, attempts from relayer_handler_calls order by id')).rows.map((r) => `${r.hook}/${r.attempts}`);
    expect(await owed()).toEqual(['onReorged/1', 'onConfirmed/0']);

    // Still failing when it is due again: nothing behind it runs.
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await inTransaction(w.database.pool, (client) => retryHandlers(client, ctx))).toBe(1);
    expect(await owed()).toEqual(['onReorged/2', 'onConfirmed/0']);
    expect(await handled()).toEqual(['onConfirmed:second']);

    broken = false;
    await new Promise((r) => setTimeout(r, 4_100));
    await inTransaction(w.database.pool, (client) => retryHandlers(client, ctx));
    await inTransaction(w.database.pool, (client) => retryHandlers(client, ctx));
    expect(await handled()).toEqual(['onConfirmed:second', 'onReorged:first', 'onConfirmed:first']);
    expect(await owed()).toEqual([]);
  });
});

/** Invariant 5: nothing is reported final before it is, and a failed read is not a reorg. */
describe('tracking to finality', () => {
  it('counts no reorg and tells the app nothing but the confirmation when block reads fail for a while', async () => {
    const calls: string[] = [];
    const kind = ledgerWriteKind({
      onConfirmed: async (intent) => void calls.push(`onConfirmed:${intent.idempotencyKey}`),
      onReorged: async (intent) => void calls.push(`onReorged:${intent.idempotencyKey}`),
    });
    const w = await ledgerRelayerWorld({ kinds: [kind], finalityDepth: 3, node: {} });
    await w.world.testClient.setIntervalMining({ interval: 0 });
    await w.world.testClient.setAutomine(true);
    await w.submit([w.writeOnce('flaky-reads')]);
    await w.startRelayer();
    const included = await until(async () => {
      const { rows } = await w.database.pool.query("select block_hash from relayer_intents where state = 'included'");
      return rows[0];
    }, 'inclusion');

    w.node!.setPlan({ methods: ['eth_getBlockByNumber'], errorRate: 1 });
    const failing = Date.now();
    while (Date.now() - failing < 1_500) {
      await w.world.testClient.mine({ blocks: 1 });
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(w.node!.stats().injected.error ?? 0).toBeGreaterThan(0);
    w.node!.setPlan({});
    const mining = setInterval(() => void w.world.testClient.mine({ blocks: 1 }).catch(() => {}), 100);
    try {
      expect(await w.settled()).toEqual({ confirmed: 1 });
    } finally {
      clearInterval(mining);
    }
    const { rows } = await w.database.pool.query('select reorgs, block_hash from relayer_intents');
    expect(rows[0]).toEqual({ reorgs: 0, block_hash: included.block_hash });
    expect(calls).toEqual(['onConfirmed:flaky-reads']);
  });

  it('confirms only once the block is FINALITY_DEPTH deep, so a reorg of that depth never takes back a confirmation', async () => {
    const depth = 3;
    const w = await ledgerRelayerWorld({ finalityDepth: depth });
    await w.world.testClient.setIntervalMining({ interval: 0 });
    await w.world.testClient.setAutomine(false);
    await w.submit([w.writeOnce('final')]);
    await w.startRelayer();
    await until(async () => (await w.database.pool.query("select 1 from relayer_intents where state = 'broadcast'")).rows.length > 0, 'broadcast');
    await w.world.testClient.mine({ blocks: 1 });
    const { block_number: included } = await until(async () => (await w.database.pool.query("select block_number from relayer_intents where state = 'included'")).rows[0], 'inclusion');

    // One block at a time: not confirmed while fewer than `depth` blocks stand on it, confirmed once they do.
    let head = await w.world.publicClient.getBlockNumber();
    const state = async () => (await w.database.pool.query('select state from relayer_intents')).rows[0].state as string;
    while (head - BigInt(included) < BigInt(depth)) {
      await new Promise((r) => setTimeout(r, 600));
      expect(await state(), `at ${head - BigInt(included)} blocks deep`).toBe('included');
      await w.world.testClient.mine({ blocks: 1 });
      head++;
    }
    await until(async () => (await state()) === 'confirmed', 'the confirmation');
    expect(await w.world.publicClient.getBlockNumber()).toBe(BigInt(included) + BigInt(depth));

    await w.world.testClient.request({ method: 'anvil_reorg' as never, params: [depth, []] as never });
    await w.world.testClient.mine({ blocks: 2 });
    const { rows } = await w.database.pool.query('select state, transaction_id, block_hash from relayer_intents');
    expect(rows[0].state).toBe('confirmed');
    const receipt = await w.world.publicClient.getTransactionReceipt({ hash: rows[0].transaction_id });
    expect(receipt.blockHash).toBe(rows[0].block_hash);
    expect((await w.effectsByKey()).get('final')).toBe(1);
  });
});
