import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CLI_WITH_TS_CONFIG, RunningCli, scratchDir } from '../harness/cli.js';
import { RELAYER_KEY, ledgerRelayerWorld } from '../harness/ledger-relayer.js';
import { packageRoot } from '../../src/runtime/paths.js';

const INTENTS = 1000;

/** Two `ledgersync worker` processes of the neutral test app against one PostgreSQL, one signer, 1,000 intents. */
describe('two workers at once', () => {
  it(`send each of ${INTENTS} intents once, with no nonce used twice`, async () => {
    const w = await ledgerRelayerWorld({ blockTime: 0.5, finalityDepth: 0 });
    const start = await w.nonceOnChain();
    const keys = Array.from({ length: INTENTS }, (_, i) => `pair-${i}`);
    const env = {
      LEDGERSYNC_CONFIG: join(packageRoot, 'test', 'app', 'ledgersync.config.ts'),
      DATABASE_URL: w.database.url,
      RPC_URL: w.world.rpcUrl,
      DEPLOYMENTS_FILE: w.world.deploymentsFile,
      RELAYER_PRIVATE_KEY: RELAYER_KEY,
      FINALITY_DEPTH: '0',
      RELAYER_BATCH_SIZE: '50',
      RELAYER_POLL_INTERVAL_MS: '50',
      LOG_LEVEL: 'warn',
    };
    const workers = [1, 2].map(() => new RunningCli(['worker'], { cwd: scratchDir(), env, script: CLI_WITH_TS_CONFIG }));
    // Intents arrive while both run, in many small application transactions.
    for (let i = 0; i < INTENTS; i += 25) await w.submit(keys.slice(i, i + 25).map((k) => w.writeOnce(k)));
    const settled = await w.settled(180_000).catch((error) => {
      throw new Error(`${(error as Error).message}\n${workers.map((p) => p.output).join('\n')}`);
    });
    for (const worker of workers) expect(await worker.stop('SIGTERM')).toBe(0);
    expect(settled).toEqual({ confirmed: INTENTS });
    // Decoded with the test app's ABI: the workers ran its intent kinds.
    const { rows: decoded } = await w.database.pool.query<{ n: number }>(`select count(*)::int as n from relayer_intents where events @> '[{"name": "Written"}]'`);
    expect(decoded[0]!.n).toBe(INTENTS);

    // Both did part of the work.
    const { rows: signers } = await w.database.pool.query<{ signed_by: string; n: number }>(
      'select signed_by, count(*)::int as n from relayer_transactions group by signed_by',
    );
    expect(signers).toHaveLength(2);
    for (const s of signers) expect(s.n).toBeGreaterThan(INTENTS / 20);
    // No nonce was given to two intents; each intent has one effect.
    const { rows: shared } = await w.database.pool.query('select sequence from relayer_transactions group by sequence having count(distinct coalesce(intent_id, -1)) > 1');
    expect(shared).toEqual([]);
    const effects = await w.effectsByKey();
    expect(effects.size).toBe(INTENTS);
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    expect(await w.nonceOnChain()).toBe(start + INTENTS);
  });
});
