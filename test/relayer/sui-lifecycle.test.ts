import { describe, expect, it } from 'vitest';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { PaymentSent } from '../../src/chain/sui/simulator/index.js';
import { SUI, recipient, suiRelayerWorld } from '../harness/sui-relayer.js';
import { until } from '../harness/until.js';

describe('sui relayer: lifecycle', () => {
  it('confirms a SUI transfer, a cUSD transfer and a Move call once checkpointed, each digest stored before it was sent', async () => {
    const w = await suiRelayerWorld();
    // Every execution the simulator receives: was its digest stored (committed) by then?
    const storedFirst: boolean[] = [];
    const execute = w.sim.ledger.execute.bind(w.sim.ledger);
    w.sim.ledger.execute = async (bytes, signatures) => {
      const digest = TransactionDataBuilder.getDigestFromBytes(bytes);
      const { rows } = await w.database.pool.query('select 1 from relayer_transactions where id = $1', [digest]);
      storedFirst.push(rows.length === 1);
      return execute(bytes, signatures);
    };
    await w.startRelayer();
    await w.submit([w.transfer('sui', recipient(1), 123_456n), w.transfer('cusd', recipient(2), 7_000n, 'pay.cusd'), w.pay('call', w.sim.ledger.cusdType, 5_000n, recipient(3), 'invoice 42')]);
    expect(await w.settled()).toEqual({ confirmed: 3 });

    expect(w.received([recipient(1)])).toEqual([[123_456n]]);
    expect(w.received([recipient(2), recipient(3)], w.sim.ledger.cusdType)).toEqual([[7_000n], [5_000n]]);
    for (const key of ['sui', 'cusd', 'call']) {
      const intent = await w.intent(key);
      const [transaction, ...others] = await w.transactionsOf(key);
      expect(others).toEqual([]);
      expect(transaction).toMatchObject({ id: intent.transaction_id, status: 'mined' });
      const placed = w.sim.ledger.transaction(intent.transaction_id)!;
      expect(placed.tx.status.success).toBe(true);
      // The block is the checkpoint: its sequence number and digest.
      expect(BigInt(intent.block_number)).toBe(BigInt(placed.checkpoint!));
      expect(intent.block_hash).toBe(w.sim.ledger.checkpoint(placed.checkpoint!)!.digest);
      expect(intent.receipt).toMatchObject({ status: 'success', checkpoint: String(placed.checkpoint) });
    }
    expect(storedFirst.length).toBeGreaterThanOrEqual(3);
    expect(storedFirst.every(Boolean)).toBe(true);
    // The Move call's event, decoded as the indexer's handlers see it.
    const call = await w.intent('call');
    expect(call.events).toMatchObject([{ emitter: `${w.sim.ledger.packageId}::payments`, name: 'PaymentSent', args: { memo: 'invoice 42', amount: '5000', recipient: recipient(3) } }]);
    const event = w.sim.ledger.transaction(call.transaction_id)!.tx.events[0]!;
    expect(PaymentSent.parse(event.bcs).memo).toBe('invoice 42');
    // Every coin is back in the pool, at the version the chain has.
    const onChain = new Map([...w.sim.ledger.coins(w.signer)].map((c) => [c.objectId, c.version.toString()]));
    const stored = await w.objects();
    expect(stored.every((o) => o.state === 'free')).toBe(true);
    expect(new Map(stored.map((o) => [o.object_id, o.version]))).toEqual(onChain);
    expect(w.equivocations).toEqual([]);
  });

  it('counts an executed transaction as included only once it is in a checkpoint', async () => {
    const w = await suiRelayerWorld({ checkpointMs: 0 });
    await w.startRelayer();
    await w.submit([w.transfer('later', recipient(7), 1_000n)]);
    const executed = await until(async () => (await w.transactionsOf('later')).find((t) => w.sim.ledger.pending().some((tx) => tx.digest === t.id)), 'the transfer to execute');
    // Executed, its coin back in the pool, but in no checkpoint: not included, whatever the relayer looks at meanwhile.
    await until(async () => (await w.objects()).every((o) => o.state === 'free'), 'the gas coin to come back');
    await new Promise((r) => setTimeout(r, 500));
    expect(await w.intent('later')).toMatchObject({ state: 'broadcast', block_number: null });
    const checkpoint = w.sim.ledger.makeCheckpoint();
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect(await w.intent('later')).toMatchObject({ transaction_id: executed.id, block_number: BigInt(checkpoint), block_hash: w.sim.ledger.checkpoint(checkpoint)!.digest });
  });

  it('fails a Move abort at prepare, with its code and module, and signs nothing', async () => {
    const w = await suiRelayerWorld();
    await w.startRelayer();
    await w.submit([w.abort('abort', 77n)]);
    expect(await w.settled()).toEqual({ failed: 1 });
    const intent = await w.intent('abort');
    expect(intent.error).toMatchObject({ name: 'MoveAbort', args: ['77', `${w.sim.ledger.packageId}::payments`, 'abort_with'] });
    expect(intent.error.message).toContain('aborted with code 77 (module payments)');
    expect(await w.transactionsOf('abort')).toEqual([]);
  });

  it('fails clearly when the budget does not cover the gas, or the signer lacks the coins', async () => {
    const w = await suiRelayerWorld({ gas: { budget: 1_500_000n } });
    await w.startRelayer();
    await w.submit([w.transfer('small-budget', recipient(4), 1_000n)]);
    expect(await w.settled()).toEqual({ failed: 1 });
    expect((await w.intent('small-budget')).error).toMatchObject({ name: 'InsufficientGas', message: expect.stringContaining('gas budget of 1500000 MIST') });

    const poor = await suiRelayerWorld({ funding: 1n * SUI, coins: 1 });
    await poor.startRelayer();
    await poor.submit([poor.transfer('too-much', recipient(5), 2n * SUI), poor.transfer('cusd-too-much', recipient(6), 10n ** 12n, 'pay.cusd')]);
    expect(await poor.settled()).toEqual({ failed: 2 });
    expect((await poor.intent('too-much')).error).toMatchObject({ name: 'InsufficientBalance', message: expect.stringContaining(`holds ${SUI} of`) });
    expect((await poor.intent('cusd-too-much')).error).toMatchObject({ name: 'InsufficientBalance', args: [poor.sim.ledger.cusdType, '1000000000', '1000000000000'] });
    expect(poor.received([recipient(5), recipient(6)])).toEqual([[], []]);
  });
});
