import type { PoolClient } from 'pg';
import { onTestFinished } from 'vitest';
import type { Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { createLogger } from '../../src/runtime/logger.js';
import type { ChainKey } from '../../src/core/chain.js';
import { createOutbox, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import { startRelayer, type RelayerOptions } from '../../src/core/relayer/relayer.js';
import type { IntentKind } from '../../src/core/relayer/types.js';
import { inTransaction } from '../../src/db/transaction.js';
import { testLedgerAbi } from '../../contracts/artifacts/TestLedger.js';
import { ledgerIntents, ledgerMigrations } from '../app/index.js';
import { createTestDatabase } from './db.js';
import { connectTestChain, type TestChainOptions } from './evm.js';
import { ledgerWorld } from './ledger-world.js';
import { startRpcProxy, type FaultPlan } from './rpc-proxy.js';

const MNEMONIC = 'test test test test test test test test test test test junk';

/** anvil's second dev account: the relayer's signer in these worlds (the world itself writes with the first). */
export const RELAYER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export const fastRelayer: RelayerOptions = {
  finalityDepth: 1,
  batchSize: 200,
  stuckBlocks: 3,
  rebroadcastMs: 500,
  pollIntervalMs: 50,
  maintainMs: 500,
};

/** The test app's `ledger.write` kind (every TestLedger function) on `chain`, with these app handlers. */
export function ledgerWriteKind(handlers: Pick<IntentKind, 'onConfirmed' | 'onFailed' | 'onReorged'> = {}, chain: ChainKey = 'evm:31337'): IntentKind {
  return { ...ledgerIntents(chain).find((k) => k.name === 'ledger.write')!, ...handlers };
}

/**
 * The relayer of the neutral test app (intents `ledger.write` on TestLedger) on
 * a private anvil: blocks every `blockTime` seconds (default 0.2; 0: a block per
 * transaction), any hardfork and chain id (`--hardfork berlin --chain-id 100` for
 * a Polygon Edge-like legacy-gas chain), a fresh database, an outbox whose signer
 * is anvil's second dev account (the world writes with the first), optionally
 * relaying through a fault proxy (`node`), with the test app's intent kinds or
 * `kinds` (to give them handlers). What a test reads back: every transaction
 * signed for an intent, and the chain's Written events per key.
 */
export async function ledgerRelayerWorld(
  options: {
    hardfork?: string;
    chainId?: number;
    blockTime?: number;
    finalityDepth?: number;
    gas?: TestChainOptions['gas'];
    kinds?: IntentKind[];
    /** Relay through a fault proxy in front of the chain. */
    node?: FaultPlan;
  } = {},
) {
  const world = await ledgerWorld({
    blockTime: options.blockTime ?? 0.2,
    ...(options.hardfork ? { hardfork: options.hardfork } : {}),
    ...(options.chainId ? { chainId: options.chainId } : {}),
  });
  const database = await createTestDatabase(ledgerMigrations);
  onTestFinished(() => database.drop());
  const node = options.node ? await startRpcProxy(world.rpcUrl, options.node) : undefined;
  if (node) onTestFinished(() => node.close());
  const finalityDepth = options.finalityDepth ?? 1;
  const evm = await connectTestChain(node?.url ?? world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth, ...(options.gas ? { gas: options.gas } : {}) });
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
  const kinds = options.kinds ?? ledgerIntents(evm.key);
  const outbox = createOutbox({ chains: [{ key: evm.key, codec: evm.codec, signers: [{ address: account.address.toLowerCase(), roles: ['default'] }] }], kinds });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

  // The ledger key of each idempotency key an intent was made for, so that the chain's events name their intents.
  const labels = new Map<Hex, string>();
  const ledgerKey = (idempotencyKey: string): Hex => {
    const key = world.key(idempotencyKey);
    labels.set(key, idempotencyKey);
    return key;
  };

  /**
   * Every Written event on chain (whoever wrote), counted per idempotency key of
   * the intent its ledger key was made for; a key no intent of this world was
   * made for is counted under the key itself (hex), so it shows too.
   */
  const effectsByKey = async (): Promise<Map<string, number>> => {
    const logs = await world.publicClient.getContractEvents({ address: world.ledger, abi: testLedgerAbi, eventName: 'Written', fromBlock: 0n });
    const counts = new Map<string, number>();
    for (const log of logs) {
      const key = labels.get(log.args.key!) ?? log.args.key!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };

  return {
    world,
    node,
    evm,
    database,
    account,
    outbox,
    /** A write whose ledger key is derived from its idempotency key: the chain's events say which intent each effect belongs to. */
    write: (idempotencyKey: string, value = 1n): SubmitIntent => ({ idempotencyKey, kind: 'ledger.write', functionName: 'write', args: [ledgerKey(idempotencyKey), value] }),
    /**
     * A write that can happen once: its key is derived from its idempotency key, and
     * TestLedger reverts AlreadyWritten(key) for a key written before. The same call
     * sent twice is one effect and one reverted transaction, never two effects.
     */
    writeOnce: (idempotencyKey: string, value = 1n): SubmitIntent => ({ idempotencyKey, kind: 'ledger.write', functionName: 'writeOnce', args: [ledgerKey(idempotencyKey), value] }),
    /** A call that always reverts, with Refused(reason). */
    refuse: (idempotencyKey: string, reason: string): SubmitIntent => ({ idempotencyKey, kind: 'ledger.write', functionName: 'refuse', args: [reason] }),
    /** Submits intents, all in one application transaction. */
    submit: (intents: SubmitIntent[]) =>
      inTransaction(database.pool, async (client: PoolClient) => {
        const submitted = [];
        for (const intent of intents) submitted.push(await outbox.submit(client, intent));
        return submitted;
      }),
    async startRelayer(overrides: Partial<RelayerOptions> = {}) {
      const relayer = await startRelayer(evm.key, database.pool, evm.lifecycle(account, kinds, database.pool, logger), kinds, { ...fastRelayer, finalityDepth, ...overrides }, logger);
      onTestFinished(() => relayer.stop());
      return relayer;
    },
    async intent(idempotencyKey: string) {
      return (await database.pool.query('select * from relayer_intents where idempotency_key = $1', [idempotencyKey])).rows[0];
    },
    /** Every transaction signed for an intent, oldest first, with what it pays (decimal strings). */
    async transactionsOf(idempotencyKey: string) {
      const { rows } = await database.pool.query<{ hash: Hex; status: string; nonce: bigint; gas_price: string | null; max_fee_per_gas: string | null }>(
        `select t.id as hash, t.status, t.sequence as nonce, t.fees->>'gasPrice' as gas_price, t.fees->>'maxFeePerGas' as max_fee_per_gas
         from relayer_transactions t join relayer_intents i on i.id = t.intent_id where i.idempotency_key = $1 order by t.created_at, t.id`,
        [idempotencyKey],
      );
      return rows;
    },
    /** Resolves when no intent is left outside a final state. */
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
    effectsByKey,
    /** How many Written events the chain holds for each of these idempotency keys. */
    async effects(idempotencyKeys: string[]): Promise<number[]> {
      const counts = await effectsByKey();
      return idempotencyKeys.map((k) => counts.get(k) ?? 0);
    },
    /** The signer's mined transaction count. */
    nonceOnChain: () => world.publicClient.getTransactionCount({ address: account.address, blockTag: 'latest' }),
  };
}

export type LedgerRelayerWorld = Awaited<ReturnType<typeof ledgerRelayerWorld>>;
