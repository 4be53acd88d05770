import { describe, expect, it, onTestFinished } from 'vitest';
import { RunningCli, scratchDir } from '../harness/cli.js';
import { INSTITUTION_KEY, relayerWorld } from '../harness/relayer.js';
import { startRpcProxy } from '../harness/rpc-proxy.js';
import { until } from '../harness/until.js';

const KILLS = 22;
const INTENTS = 500;

/**
 * `ledgersync worker` in a child process, killed with SIGKILL at random moments
 * while 500 intents are signed, stored, sent and confirmed, restarted each time:
 * every intent has exactly one effect on chain and the signer's nonces have no gap.
 */
describe('relayer killed at random moments', () => {
  it(`sends each of ${INTENTS} intents exactly once through ${KILLS} SIGKILLs`, async () => {
    const w = await relayerWorld({ blockTime: 0.5, finalityDepth: 2 });
    // A slow node stretches each step, so that kills land inside them.
    const node = await startRpcProxy(w.world.rpcUrl, { latencyMs: 20 });
    onTestFinished(() => node.close());
    const start = await w.nonceOnChain();
    const keys = Array.from({ length: INTENTS }, (_, i) => `crash-${i}`);
    // Intents keep arriving while the worker is killed and restarted, so every phase has some.
    const producer = (async () => {
      for (let i = 0; i < INTENTS; i += 10) {
        await w.submit(keys.slice(i, i + 10).map(w.issue));
        await new Promise((r) => setTimeout(r, 350));
      }
    })();

    const env = {
      DATABASE_URL: w.database.url,
      RPC_URL: node.url,
      DEPLOYMENTS_FILE: w.world.deploymentsFile,
      RELAYER_PRIVATE_KEY: INSTITUTION_KEY,
      FINALITY_DEPTH: '2',
      RELAYER_BATCH_SIZE: '20',
      RELAYER_POLL_INTERVAL_MS: '50',
      LOG_LEVEL: 'info',
    };
    const cwd = scratchDir();
    const killedWith = { pending: 0, sent: 0, included: 0 };
    for (let i = 0; i < KILLS; i++) {
      const worker = new RunningCli(['worker'], { cwd, env });
      // Random moments of the relayer's work, not of the process's start-up.
      await until(() => worker.output.includes('relayer started'), 'the relayer to start', 30_000, 10);
      await new Promise((r) => setTimeout(r, Math.random() * 1500));
      const states = await stateCounts(w);
      await worker.kill();
      if (states.pending) killedWith.pending++;
      if (states.signed || states.broadcast) killedWith.sent++;
      if (states.included) killedWith.included++;
    }
    await producer;

    const last = new RunningCli(['worker'], { cwd, env });
    const settled = await w.settled(120_000).catch((error) => {
      throw new Error(`${(error as Error).message}\n${last.output}`);
    });
    await until(() => last.output.includes('relayer started'), 'the relayer to start', 30_000, 10);
    const code = await last.stop('SIGTERM');
    expect(code, last.output.slice(-3000)).toBe(0);
    expect(settled).toEqual({ confirmed: INTENTS });
    // The kills landed in every phase.
    expect(killedWith.pending).toBeGreaterThanOrEqual(3);
    expect(killedWith.sent).toBeGreaterThanOrEqual(3);
    expect(killedWith.included).toBeGreaterThanOrEqual(3);

    // Exactly one effect per intent, and none for anything else.
    const effects = await w.effectsByKey();
    expect([...effects.keys()].sort()).toEqual([...keys].sort());
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    // No gap and nothing lost: every nonce from the start to the chain's count was used by exactly
    // one mined transaction of ours, and the next nonce handed out is the chain's.
    const onChain = await w.nonceOnChain();
    const { rows } = await w.database.pool.query<{ nonce: bigint }>("select nonce from relayer_transactions where status = 'mined' order by nonce");
    expect(rows.map((r) => Number(r.nonce))).toEqual(Array.from({ length: onChain - start }, (_, i) => start + i));
    const { rows: signer } = await w.database.pool.query<{ next_nonce: bigint }>('select next_nonce from relayer_signers');
    expect(Number(signer[0]!.next_nonce)).toBe(onChain);
    expect(onChain - start).toBeGreaterThanOrEqual(INTENTS);
  });
});

async function stateCounts(w: Awaited<ReturnType<typeof relayerWorld>>): Promise<Record<string, number>> {
  const { rows } = await w.database.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from relayer_intents group by state');
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}
