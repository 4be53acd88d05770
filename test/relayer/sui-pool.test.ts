import { describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/relayer/outbox.js';
import { bcs } from '@mysten/sui/bcs';
import { Transaction, TransactionDataBuilder } from '@mysten/sui/transactions';
import { fromBase64, normalizeSuiAddress } from '@mysten/sui/utils';
import { open } from '../../src/chain/sui/relayer/envelope.js';
import { suiLifecycle } from '../../src/chain/sui/relayer/lifecycle.js';
import { SUI_TYPE } from '../../src/chain/sui/simulator/index.js';
import type { RelayerContext } from '../../src/core/relayer/context.js';
import { relayerMetrics } from '../../src/core/relayer/metrics.js';
import { prepareIntents } from '../../src/core/relayer/steps.js';
import { createLogger } from '../../src/runtime/logger.js';
import { recipient, suiRelayerWorld, type SuiRelayerWorld } from '../harness/sui-relayer.js';
import { until } from '../harness/until.js';

const stranger = normalizeSuiAddress(`0x${'5a'.repeat(32)}`);

/** The signer's coins on chain and as the relayer stores them, by object id: version and balance. */
async function pools(w: SuiRelayerWorld) {
  const chain = new Map(w.sim.ledger.coins(w.signer, SUI_TYPE).map((c) => [c.objectId, `${c.version}/${c.balance}`]));
  const stored = new Map((await w.objects()).filter((o) => o.coin_type === SUI_TYPE).map((o) => [o.object_id, `${o.version}/${o.balance}`]));
  return { chain, stored };
}

/** Every gas payment object version the simulator was asked to execute on, with the digests that asked. */
function recordGasPayments(w: SuiRelayerWorld): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>();
  const execute = w.sim.ledger.execute.bind(w.sim.ledger);
  w.sim.ledger.execute = (bytes, signatures) => {
    const digest = TransactionDataBuilder.getDigestFromBytes(bytes);
    for (const ref of bcs.TransactionData.parse(bytes).V1!.gasData.payment) {
      const key = `${ref.objectId}@${ref.version}`;
      uses.set(key, (uses.get(key) ?? new Set()).add(digest));
    }
    return execute(bytes, signatures);
  };
  return uses;
}

/** Sends a transaction with the relayer's key that the relayer knows nothing of: the key used elsewhere. */
async function spendElsewhere(w: SuiRelayerWorld, coin: { objectId: string; version: bigint; digest: string }) {
  const tx = new Transaction();
  tx.setSender(w.signer);
  tx.setGasPayment([{ objectId: coin.objectId, version: coin.version.toString(), digest: coin.digest }]);
  tx.setGasPrice(1000);
  tx.setGasBudget(10_000_000);
  tx.transferObjects([tx.gas], stranger);
  const bytes = await tx.build();
  const { signature } = await w.keypair.signTransaction(bytes);
  // Straight to the ledger: the RPC may be refusing sends in the test.
  await w.sim.ledger.execute(bytes, [fromBase64(signature)]);
}

describe('sui relayer: gas coin pool', () => {
  it('splits the signer coin into the pool at start and merges dust, with its own transactions stored first', async () => {
    const w = await suiRelayerWorld({ coins: 1 });
    w.sim.ledger.fund(w.signer, SUI_TYPE, 5_000_000n, 5); // five coins of 0.001 SUI: less than a budget each
    w.sim.ledger.makeCheckpoint();
    expect(w.sim.ledger.coins(w.signer, SUI_TYPE)).toHaveLength(6);
    await w.startRelayer();

    const { chain, stored } = await pools(w);
    const coins = w.sim.ledger.coins(w.signer, SUI_TYPE);
    expect(coins).toHaveLength(8);
    expect(coins.every((c) => c.balance >= 10n * w.gas.budget)).toBe(true);
    expect(stored).toEqual(chain);
    // The merge and the split: the family's own transactions, stored and executed.
    const { rows } = await w.database.pool.query<{ status: string }>('select status from relayer_transactions where intent_id is null');
    expect(rows.map((r) => r.status)).toEqual(['mined', 'mined']);
    expect(w.equivocations).toEqual([]);
  });

  it('never puts one gas coin version in two transactions, with two relayers of one signer', async () => {
    const w = await suiRelayerWorld({ gas: { poolSize: 4 } });
    const uses = recordGasPayments(w);
    await w.startRelayer();
    await w.startRelayer();
    const keys = Array.from({ length: 60 }, (_, i) => `t-${i}`);
    await w.submit(keys.map((k, i) => w.transfer(k, recipient(100 + i), 1_000n + BigInt(i))));
    expect(await w.settled(90_000)).toEqual({ confirmed: 60 });
    expect(w.received(keys.map((_, i) => recipient(100 + i)))).toEqual(keys.map((_, i) => [1_000n + BigInt(i)]));
    const shared = [...uses].filter(([, digests]) => digests.size > 1);
    expect(shared).toEqual([]);
    expect(uses.size).toBeGreaterThanOrEqual(60);
    expect(w.equivocations).toEqual([]);
  });

  it('sends each transfer once when replies are lost after execution', async () => {
    const w = await suiRelayerWorld({ simulator: { faults: { seed: 3, methods: { ExecuteTransaction: { failAfterRate: 0.5 } } } } });
    await w.startRelayer();
    const keys = Array.from({ length: 30 }, (_, i) => `lost-${i}`);
    await w.submit(keys.map((k, i) => w.transfer(k, recipient(200 + i), 5_000n)));
    expect(await w.settled(90_000)).toEqual({ confirmed: 30 });
    expect(w.sim.stats().injected.failAfter).toBeGreaterThanOrEqual(5);
    expect(w.received(keys.map((_, i) => recipient(200 + i)))).toEqual(keys.map(() => [5_000n]));
    expect(w.equivocations).toEqual([]);
  });

  it('signs again with another coin when the gas coin was spent by another transaction of the key (Sui taken sequence)', async () => {
    const w = await suiRelayerWorld();
    await w.startRelayer();
    // Signed and stored, never sent: the node refuses every send for now.
    w.sim.setFaults({ methods: { ExecuteTransaction: { unavailableRate: 1 } } });
    await w.submit([w.transfer('taken', recipient(300), 9_000n)]);
    const held = await until(async () => (await w.objects()).find((o) => o.state === 'locked'), 'a coin held by the signed transaction');
    await spendElsewhere(w, { objectId: held.object_id, version: BigInt(held.version), digest: w.sim.ledger.objects.get(held.object_id)!.digest });
    w.sim.setFaults({});

    expect(await w.settled(60_000)).toEqual({ confirmed: 1 });
    const [first, second, ...more] = await w.transactionsOf('taken');
    expect(more).toEqual([]);
    expect(first).toMatchObject({ id: held.locked_by_transaction, status: 'replaced' });
    expect(second).toMatchObject({ status: 'mined', id: (await w.intent('taken')).transaction_id });
    expect(w.sim.ledger.transaction(first!.id)).toBeUndefined();
    expect(w.received([recipient(300)])).toEqual([[9_000n]]);
    // The simulator calls the first send, on a version the other transaction used, an equivocation: reported, and passed by.
    expect(w.equivocations.length).toBeGreaterThanOrEqual(1);
    expect((await w.intent('taken')).error).toBeNull();
    // The coin given away is forgotten; the rest of the pool matches the chain.
    const { chain, stored } = await pools(w);
    expect(stored).toEqual(chain);
  });

  it('after a crash, frees a coin held by a transaction that executed, or whose coin was spent elsewhere, at what the chain says', async () => {
    const w = await suiRelayerWorld({ gas: { poolSize: 3 } });
    const logger = createLogger('silent');
    const lifecycle = suiLifecycle(w.context());
    await lifecycle.start();
    const ctx: RelayerContext = {
      chain: w.chain,
      pool: w.database.pool,
      lifecycle,
      signer: w.signer,
      kinds: new Map(w.kinds.map((k) => [k.name, k])),
      ports: { outbox: createOutbox({ chains: [], kinds: [] }) },
      finalityDepth: 0n,
      batchSize: 10,
      stuckBlocks: 10,
      rebroadcastMs: 500,
      refusedSignedMs: 120_000,
      logger,
      metrics: relayerMetrics(w.chain),
    };
    await w.submit([w.transfer('executed', recipient(400), 1_000n), w.transfer('spent', recipient(401), 1_000n)]);
    expect(await prepareIntents(ctx)).toBe(2);
    const locked = (await w.objects()).filter((o) => o.state === 'locked');
    expect(locked).toHaveLength(2);
    const executedTx = (await w.transactionsOf('executed'))[0]!;
    const spentTx = (await w.transactionsOf('spent'))[0]!;
    // The process dies after sending one (its reply lost) and before sending the other, whose coin the key then spends elsewhere.
    const { rows } = await w.database.pool.query<{ raw: Buffer }>('select raw from relayer_transactions where id = $1', [executedTx.id]);
    const { transaction, signatures } = open(rows[0]!.raw);
    await w.sim.ledger.execute(transaction, signatures);
    const spentCoin = locked.find((o) => o.locked_by_transaction === spentTx.id)!;
    await spendElsewhere(w, { objectId: spentCoin.object_id, version: BigInt(spentCoin.version), digest: w.sim.ledger.objects.get(spentCoin.object_id)!.digest });

    // A new process starts: its pool is reconciled with the chain.
    await suiLifecycle(w.context()).start();
    const after = await w.objects();
    expect(after.filter((o) => o.state === 'locked')).toEqual([]);
    expect(after.find((o) => o.object_id === spentCoin.object_id)).toBeUndefined();
    const executedCoin = locked.find((o) => o.locked_by_transaction === executedTx.id)!;
    expect(after.find((o) => o.object_id === executedCoin.object_id)!.version).toBe(w.sim.ledger.objects.get(executedCoin.object_id)!.version.toString());
    const { chain, stored } = await pools(w);
    expect(stored).toEqual(chain);
  });
});
