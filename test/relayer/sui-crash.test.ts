import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SUI_TYPE } from '../../src/chain/sui/simulator/index.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { RunningCli, scratchDir } from '../harness/cli.js';
import { SUI_RELAYER_KEY, recipient, suiRelayerWorld, type SuiRelayerWorld } from '../harness/sui-relayer.js';
import { until } from '../harness/until.js';

const INTENTS = 500;
const WORKERS = 4;
const POOL = 8;
const KILLS = 20;

/**
 * 500 SUI transfers through the outbox, relayed by four worker processes of one
 * signer sharing a pool of eight gas coins, with a worker killed (SIGKILL) at 20
 * random moments and started again: every transfer executes exactly once (each
 * goes to a recipient of its own, with an amount of its own), the simulator never
 * refuses an equivocation (no two transactions ever shared a coin version), and
 * the pool ends as the chain has it, nothing held.
 */
describe('sui relayer: worker processes killed at random moments', () => {
  it(`executes each of ${INTENTS} transfers exactly once with ${WORKERS} workers, a pool of ${POOL} gas coins and ${KILLS} SIGKILLs`, async () => {
    const w = await suiRelayerWorld({ checkpointMs: 100, gas: { poolSize: POOL } });
    const keys = Array.from({ length: INTENTS }, (_, i) => `crash-${i}`);
    const amount = (i: number) => 1_000n + BigInt(i);
    const env = {
      DATABASE_URL: w.database.url,
      SUI_URL: w.sim.url,
      SUI_CHAIN: w.chain,
      SUI_PACKAGE: w.sim.ledger.packageId,
      SUI_CUSD: w.sim.ledger.cusdType,
      SUI_KEY: SUI_RELAYER_KEY,
      POOL_SIZE: String(POOL),
    };
    const cwd = scratchDir();
    const script = ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(packageRoot, 'test', 'harness', 'sui-relayer-child.ts')];
    const start = async () => {
      const worker = new RunningCli([], { cwd, env, script });
      await until(() => worker.output.includes('relayer started'), 'the relayer to start', 60_000, 10);
      return worker;
    };
    const workers = await Promise.all(Array.from({ length: WORKERS }, start));
    const killedWith = { pending: 0, signed: 0, broadcast: 0, coinsHeld: 0 };
    const perKill = INTENTS / KILLS;
    for (let i = 0; i < KILLS; i++) {
      // Intents arrive while workers die: a batch, then a kill at a random moment of its relaying.
      await w.submit(keys.slice(i * perKill, (i + 1) * perKill).map((k, j) => w.transfer(k, recipient(i * perKill + j), amount(i * perKill + j))));
      // A random moment inside a phase, taking turns: intents waiting, coins held by signed transactions, intents in flight.
      const phase = ['pending', 'held', 'broadcast'][i % 3];
      if (phase === 'held') await until(async () => (await w.objects()).some((o) => o.state === 'locked'), 'a coin held', 10_000, 2).catch(() => undefined);
      if (phase === 'broadcast') await until(async () => (await stateCounts(w)).broadcast, 'an intent in flight', 10_000, 2).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      const victim = Math.floor(Math.random() * WORKERS);
      const states = await stateCounts(w);
      const held = (await w.objects()).filter((o) => o.state === 'locked').length;
      await workers[victim]!.kill();
      if (states.pending) killedWith.pending++;
      if (states.signed) killedWith.signed++;
      if (states.broadcast) killedWith.broadcast++;
      if (held > 0) killedWith.coinsHeld++;
      workers[victim] = await start();
    }

    const settled = await w.settled(180_000).catch((error) => {
      throw new Error(`${(error as Error).message}\n${workers.map((x) => x.output.slice(-2000)).join('\n---\n')}`);
    });
    expect(settled).toEqual({ confirmed: INTENTS });
    for (const worker of workers) expect(await worker.stop('SIGTERM'), worker.output.slice(-3000)).toBe(0);

    // Exactly one effect per intent: each recipient holds one coin, of its intent's amount.
    expect(w.received(keys.map((_, i) => recipient(i)))).toEqual(keys.map((_, i) => [amount(i)]));
    expect(w.equivocations).toEqual([]);
    // One mined transaction per intent, and it is the intent's.
    const { rows } = await w.database.pool.query<{ n: number }>(
      `select count(*)::int as n from relayer_transactions t join relayer_intents i on i.transaction_id = t.id where t.status = 'mined'`,
    );
    expect(rows[0]!.n).toBe(INTENTS);
    // The pool ends as the chain has it: nothing held, every coin at the chain's version.
    const stored = await w.objects();
    expect(stored.filter((o) => o.state === 'locked')).toEqual([]);
    const chain = new Map(w.sim.ledger.coins(w.signer, SUI_TYPE).map((c) => [c.objectId, c.version.toString()]));
    expect(new Map(stored.filter((o) => o.coin_type === SUI_TYPE).map((o) => [o.object_id, o.version]))).toEqual(chain);
    // The kills landed while intents waited, were signed, in flight, and while coins were held.
    expect(killedWith.pending).toBeGreaterThanOrEqual(3);
    expect(killedWith.broadcast + killedWith.signed).toBeGreaterThanOrEqual(3);
    expect(killedWith.coinsHeld).toBeGreaterThanOrEqual(3);
  }, 400_000);
});

async function stateCounts(w: SuiRelayerWorld): Promise<Record<string, number>> {
  const { rows } = await w.database.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from relayer_intents group by state');
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
