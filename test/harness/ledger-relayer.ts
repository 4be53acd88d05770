import type { PoolClient } from 'pg';
import { onTestFinished } from 'vitest';
import { parseAbiItem, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { createLogger } from '../../src/runtime/logger.js';
import { createOutbox, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import { startRelayer, type RelayerOptions } from '../../src/core/relayer/relayer.js';
import { inTransaction } from '../../src/db/transaction.js';
import { ledgerIntents, ledgerMigrations } from '../app/index.js';
import { createTestDatabase } from './db.js';
import { connectTestChain, type TestChainOptions } from './evm.js';
import { fastRelayer } from './relayer.js';
import { ledgerWorld } from './ledger-world.js';

const MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * The relayer of the neutral test app (intents `ledger.write` on TestLedger) on
 * a private anvil, the ledger variant of relayerWorld: any hardfork and chain id
 * (`--hardfork berlin --chain-id 100` for a Polygon Edge-like legacy-gas chain),
 * a fresh database, an outbox whose signer is anvil's second dev account (the
 * world writes with the first), and what a test reads back: every transaction
 * signed for an intent, and the chain's Written events per key.
 */
export async function ledgerRelayerWorld(options: { hardfork?: string; chainId?: number; blockTime?: number; finalityDepth?: number; gas?: TestChainOptions['gas'] } = {}) {
  const world = await ledgerWorld({
    ...(options.hardfork ? { hardfork: options.hardfork } : {}),
    ...(options.chainId ? { chainId: options.chainId } : {}),
    ...(options.blockTime ? { blockTime: options.blockTime } : {}),
  });
  const database = await createTestDatabase(ledgerMigrations);
  onTestFinished(() => database.drop());
  const finalityDepth = options.finalityDepth ?? 1;
  const evm = await connectTestChain(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth, ...(options.gas ? { gas: options.gas } : {}) });
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
  const kinds = ledgerIntents(evm.key);
  const outbox = createOutbox({ chains: [{ key: evm.key, codec: evm.codec, signers: [{ address: account.address.toLowerCase(), roles: ['default'] }] }], kinds });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

  return {
    world,
    evm,
    database,
    account,
    outbox,
    /** A write whose ledger key is derived from its idempotency key: the chain's events say which intent each effect belongs to. */
    write: (idempotencyKey: string, value = 1n): SubmitIntent => ({ idempotencyKey, kind: 'ledger.write', functionName: 'write', args: [world.key(idempotencyKey), value] }),
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
    /** How many Written events the chain holds for the ledger key of each idempotency key (signed by the relayer). */
    async effects(idempotencyKeys: string[]): Promise<number[]> {
      const logs = await world.publicClient.getLogs({
        address: world.ledger,
        event: parseAbiItem('event Written(bytes32 indexed key, uint256 value, address indexed writer)'),
        args: { writer: account.address },
        fromBlock: 0n,
      });
      return idempotencyKeys.map((k) => logs.filter((l) => l.args.key === world.key(k)).length);
    },
  };
}

export type LedgerRelayerWorld = Awaited<ReturnType<typeof ledgerRelayerWorld>>;
