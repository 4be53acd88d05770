import type { PoolClient } from 'pg';
import { onTestFinished } from 'vitest';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { connectSui } from '../../src/chain/sui/client.js';
import { suiIntent } from '../../src/chain/sui/app.js';
import { suiCodec } from '../../src/chain/sui/relayer/codec.js';
import type { SuiRelayerContext } from '../../src/chain/sui/relayer/context.js';
import { suiLifecycle } from '../../src/chain/sui/relayer/lifecycle.js';
import { SUI_TYPE, startSuiSimulator, type SuiSimulatorOptions } from '../../src/chain/sui/simulator/index.js';
import { Equivocation } from '../../src/chain/sui/simulator/errors.js';
import { createOutbox, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import { startRelayer, type RelayerOptions } from '../../src/core/relayer/relayer.js';
import type { IntentKind } from '../../src/core/relayer/types.js';
import { inTransaction } from '../../src/db/transaction.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createTestDatabase } from './db.js';

export const SUI = 1_000_000_000n;

/** The relayer's key in these worlds, in Sui's bech32 form (what the configuration holds). */
export const SUI_RELAYER_KEY = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(42)).getSecretKey();

export const fastSuiRelayer: RelayerOptions = {
  finalityDepth: 0,
  batchSize: 50,
  stuckBlocks: 20,
  rebroadcastMs: 500,
  pollIntervalMs: 25,
  maintainMs: 500,
};

/** The kinds these worlds send: SUI and cUSD transfers, and the simulator's `payments` module. */
export function suiKinds(chain: string, packageId: string, cusdType: string): IntentKind[] {
  return [
    suiIntent({ name: 'pay.sui', chain, coinType: SUI_TYPE }),
    suiIntent({ name: 'pay.cusd', chain, coinType: cusdType }),
    suiIntent({
      name: 'payments',
      chain,
      package: packageId,
      module: 'payments',
      functions: { pay: { typeParameters: 1, parameters: [{ coin: 0 }, 'address', 'string'] }, abort_with: { parameters: ['u64'] } },
    }),
  ];
}

/**
 * A Sui relayer world: the simulator in this process (checkpoints on its own every
 * `checkpointMs`), a fresh database, a signer funded with `funding` SUI in
 * `coins` coins (and cUSD), the outbox with the kinds above. It counts every
 * equivocation the simulator refuses (none may ever happen).
 */
export async function suiRelayerWorld(
  options: { checkpointMs?: number; funding?: bigint; coins?: number; cusd?: bigint; gas?: Partial<SuiRelayerContext['gas']>; simulator?: SuiSimulatorOptions } = {},
) {
  const sim = await startSuiSimulator({ seed: 9, autoCheckpointMs: options.checkpointMs ?? 50, ...options.simulator });
  onTestFinished(() => sim.close());
  const equivocations: string[] = [];
  const execute = sim.ledger.execute.bind(sim.ledger);
  sim.ledger.execute = async (bytes, signatures) => {
    try {
      return await execute(bytes, signatures);
    } catch (error) {
      if (error instanceof Equivocation) equivocations.push(error.message);
      throw error;
    }
  };
  const database = await createTestDatabase();
  onTestFinished(() => database.drop());
  const keypair = Ed25519Keypair.fromSecretKey(SUI_RELAYER_KEY);
  const signer = keypair.toSuiAddress();
  if ((options.funding ?? 1000n * SUI) > 0n) sim.ledger.fund(signer, SUI_TYPE, options.funding ?? 1000n * SUI, options.coins ?? 1);
  if (options.cusd !== 0n) sim.ledger.fund(signer, sim.ledger.cusdType, options.cusd ?? 1_000_000_000n, 2);
  sim.ledger.makeCheckpoint();
  const chain = `sui:${sim.ledger.chainName}`;
  const conn = connectSui(sim.url, chain);
  const kinds = suiKinds(chain, sim.ledger.packageId, sim.ledger.cusdType);
  const outbox = createOutbox({ chains: [{ key: chain, codec: suiCodec, signers: [{ address: signer, roles: ['default'] }] }], kinds });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const gas = { budget: options.gas?.budget ?? 50_000_000n, poolSize: options.gas?.poolSize ?? 8 };
  const context = (): SuiRelayerContext => ({ chain, client: connectSui(sim.url, chain).client, pool: database.pool, keypair, signer, gas, logger });

  return {
    sim,
    database,
    chain,
    conn,
    signer,
    keypair,
    kinds,
    outbox,
    gas,
    equivocations,
    context,
    transfer: (idempotencyKey: string, recipient: string, amount: bigint, kind = 'pay.sui'): SubmitIntent => ({ idempotencyKey, kind, functionName: 'transfer', args: [recipient, amount] }),
    pay: (idempotencyKey: string, coinType: string, amount: bigint, recipient: string, memo: string): SubmitIntent => ({
      idempotencyKey,
      kind: 'payments',
      functionName: 'pay',
      args: [coinType, amount, recipient, memo],
    }),
    abort: (idempotencyKey: string, code: bigint): SubmitIntent => ({ idempotencyKey, kind: 'payments', functionName: 'abort_with', args: [code] }),
    submit: (intents: SubmitIntent[]) =>
      inTransaction(database.pool, async (client: PoolClient) => {
        const submitted = [];
        for (const intent of intents) submitted.push(await outbox.submit(client, intent));
        return submitted;
      }),
    async startRelayer(overrides: Partial<RelayerOptions> = {}) {
      const relayer = await startRelayer(chain, database.pool, suiLifecycle(context()), kinds, { ...fastSuiRelayer, ...overrides }, logger);
      onTestFinished(() => relayer.stop());
      return relayer;
    },
    async intent(idempotencyKey: string) {
      return (await database.pool.query('select * from relayer_intents where idempotency_key = $1', [idempotencyKey])).rows[0];
    },
    async transactionsOf(idempotencyKey: string) {
      const { rows } = await database.pool.query<{ id: string; status: string; created_at: Date }>(
        'select t.id, t.status, t.created_at from relayer_transactions t join relayer_intents i on i.id = t.intent_id where i.idempotency_key = $1 order by t.created_at, t.id',
        [idempotencyKey],
      );
      return rows;
    },
    /** The signer's pool as stored. */
    async objects() {
      const { rows } = await database.pool.query<{ object_id: string; coin_type: string | null; balance: string | null; version: string; state: string; locked_by_transaction: string | null }>(
        'select object_id, coin_type, balance::text, version::text, state, locked_by_transaction from sui_owned_objects order by object_id',
      );
      return rows;
    },
    async settled(timeoutMs = 60_000): Promise<Record<string, number>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await database.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from relayer_intents group by state');
        const states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
        if (Object.keys(states).every((s) => s === 'confirmed' || s === 'failed')) return states;
        if (Date.now() > deadline) throw new Error(`intents not settled: ${JSON.stringify(states)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Coins of `coinType` each recipient holds on the simulator: what reached them. */
    received(recipients: string[], coinType = SUI_TYPE): Array<bigint[]> {
      return recipients.map((r) => sim.ledger.coins(normalizeSuiAddress(r), coinType).map((c) => c.balance));
    },
  };
}

export type SuiRelayerWorld = Awaited<ReturnType<typeof suiRelayerWorld>>;

/** A recipient address of its own for each index: a transfer's effect shows under it alone. */
export function recipient(i: number): string {
  return normalizeSuiAddress(`0x${(0xabc000000 + i).toString(16)}`);
}
