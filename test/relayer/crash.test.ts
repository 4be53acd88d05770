import { describe, expect, it } from 'vitest';
import { RunningCli, scratchDir } from '../harness/cli.js';
import { RELAYER_KEY, ledgerRelayerWorld, type LedgerRelayerWorld } from '../harness/ledger-relayer.js';
import { until } from '../harness/until.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/runtime/paths.js';

const KILLS = 22;
const INTENTS = 500;

const FAILING = 50;

/**
 * The relayer in a child process, killed with SIGKILL at random moments while
 * 500 intents are signed, stored, sent and confirmed, restarted each time, with
 * an app handler that throws for some intents: every intent (a writeOnce of its
 * own key: sent twice, it would revert and spend a nonce, never make a second
 * effect) has exactly one effect on chain, the signer's nonces have no gap, the
 * handler's effect happens once per intent, and the failing ones succeed once the
 * handler stops throwing.
 */
describe('relayer killed at random moments', () => {
  it(`sends each of ${INTENTS} intents exactly once through ${KILLS} SIGKILLs, with a handler failing for ${FAILING} of them`, async () => {
    // A slow node stretches each step, so that kills land inside them.
    const w = await ledgerRelayerWorld({ blockTime: 0.5, finalityDepth: 2, node: { latencyMs: 20 } });
    await w.database.pool.query('create table handled (seq bigserial primary key, key text not null); create table failing_keys (key text primary key)');
    const start = await w.nonceOnChain();
    const keys = Array.from({ length: INTENTS }, (_, i) => `crash-${i}`);
    const failing = keys.filter((_, i) => i % (INTENTS / FAILING) === 3);
    await w.database.pool.query('insert into failing_keys select unnest($1::text[])', [failing]);
    // Intents keep arriving while the worker is killed and restarted, so every phase has some.
    const producer = (async () => {
      for (let i = 0; i < INTENTS; i += 10) {
        await w.submit(keys.slice(i, i + 10).map((k) => w.writeOnce(k)));
        await new Promise((r) => setTimeout(r, 350));
      }
    })();

    const env = { DATABASE_URL: w.database.url, RPC_URL: w.node!.url, DEPLOYMENTS_FILE: w.world.deploymentsFile, RELAYER_PRIVATE_KEY: RELAYER_KEY, FINALITY_DEPTH: '2' };
    const cwd = scratchDir();
    // tsx resolved from here: the child's working directory is a scratch directory.
    const script = ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(packageRoot, 'test', 'harness', 'relayer-child.ts')];
    const killedWith = { pending: 0, sent: 0, included: 0 };
    const inFlight = (states: Record<string, number>) => ({ pending: !!states.pending, sent: !!(states.signed || states.broadcast), included: !!states.included });
    for (let i = 0; i < KILLS; i++) {
      const worker = new RunningCli([], { cwd, env, script });
      // Random moments of the relayer's work, not of the process's start-up.
      await until(() => worker.output.includes('relayer started'), 'the relayer to start', 30_000, 10);
      await new Promise((r) => setTimeout(r, Math.random() * 1500));
      // While a phase has had fewer than 3 kills, the kill waits (up to 3 s) for a moment that has one of those in
      // flight: left to chance alone, a fast run could kill in some phase only twice (CI saw it once).
      const short = () => (Object.keys(killedWith) as Array<keyof typeof killedWith>).filter((phase) => killedWith[phase] < 3);
      let states = await stateCounts(w);
      for (const deadline = Date.now() + 3_000; short().length > 0 && !short().some((phase) => inFlight(states)[phase]) && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 20));
        states = await stateCounts(w);
      }
      await worker.kill();
      for (const [phase, present] of Object.entries(inFlight(states))) if (present) killedWith[phase as keyof typeof killedWith]++;
    }
    await producer;

    const last = new RunningCli([], { cwd, env, script });
    const settled = await w.settled(120_000).catch((error) => {
      throw new Error(`${(error as Error).message}\n${last.output}`);
    });
    await until(() => last.output.includes('relayer started'), 'the relayer to start', 30_000, 10);
    expect(settled).toEqual({ confirmed: INTENTS });
    // The handler's effect, once for every intent it did not refuse; the refused ones are owed, with their error.
    const handledKeys = async () => (await w.database.pool.query<{ key: string }>('select key from handled order by key')).rows.map((r) => r.key);
    expect(await handledKeys()).toEqual(keys.filter((k) => !failing.includes(k)).sort());
    const { rows: owed } = await w.database.pool.query<{ key: string; attempts: number; error: { message: string } }>(
      `select i.idempotency_key as key, c.attempts, c.error from relayer_handler_calls c join relayer_intents i on i.id = c.intent_id order by key`,
    );
    expect(owed.map((o) => o.key)).toEqual([...failing].sort());
    expect(owed.every((o) => o.attempts >= 1 && o.error.message === `the app refuses ${o.key} for now`)).toBe(true);
    // Once the app accepts them, each refused intent's handler succeeds, once.
    await w.database.pool.query('delete from failing_keys');
    await until(async () => (await w.database.pool.query('select 1 from relayer_handler_calls')).rows.length === 0, 'the owed handler calls', 90_000);
    expect(await handledKeys()).toEqual([...keys].sort());
    const code = await last.stop('SIGTERM');
    expect(code, last.output.slice(-3000)).toBe(0);
    // The kills landed in every phase.
    expect(killedWith.pending).toBeGreaterThanOrEqual(3);
    expect(killedWith.sent).toBeGreaterThanOrEqual(3);
    expect(killedWith.included).toBeGreaterThanOrEqual(3);

    // Exactly one effect (Written event) per intent, and none for anything else.
    const effects = await w.effectsByKey();
    expect([...effects.keys()].sort()).toEqual([...keys].sort());
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    // No gap and nothing lost: every nonce from the start to the chain's count was used by exactly
    // one mined transaction of ours, and the next nonce handed out is the chain's.
    const onChain = await w.nonceOnChain();
    const { rows } = await w.database.pool.query<{ sequence: bigint }>("select sequence from relayer_transactions where status = 'mined' order by sequence");
    expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: onChain - start }, (_, i) => start + i));
    const { rows: signer } = await w.database.pool.query<{ next_nonce: bigint }>('select next_nonce from evm_nonces');
    expect(Number(signer[0]!.next_nonce)).toBe(onChain);
    expect(onChain - start).toBeGreaterThanOrEqual(INTENTS);
  }, 300_000);
});

async function stateCounts(w: LedgerRelayerWorld): Promise<Record<string, number>> {
  const { rows } = await w.database.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from relayer_intents group by state');
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
