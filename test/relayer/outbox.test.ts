import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, IntentRejectedError } from '../../src/core/relayer/outbox.js';
import { ledgerRelayerWorld, ledgerWriteKind } from '../harness/ledger-relayer.js';
import { metrics } from '../../src/runtime/metrics.js';
import { inTransaction } from '../../src/db/transaction.js';

describe('outbox and relayer', () => {
  it('sends nothing for an intent whose application transaction rolled back', async () => {
    const w = await ledgerRelayerWorld();
    await w.startRelayer();
    const before = await w.nonceOnChain();
    await expect(
      inTransaction(w.database.pool, async (client) => {
        await w.outbox.submit(client, w.writeOnce('rolled-back'));
        throw new Error('the application failed after submitting');
      }),
    ).rejects.toThrow('the application failed');
    await w.submit([w.writeOnce('committed')]);
    await w.settled();
    const { rows } = await w.database.pool.query('select idempotency_key from relayer_intents');
    expect(rows.map((r) => r.idempotency_key)).toEqual(['committed']);
    expect(await w.nonceOnChain()).toBe(before + 1);
    expect([...(await w.effectsByKey()).keys()]).toEqual(['committed']);
  });

  it('returns the existing intent for a repeated idempotency key, and refuses the key for a different request', async () => {
    const w = await ledgerRelayerWorld();
    const intent = w.writeOnce('same-key', 1n);
    const [first] = await w.submit([intent]);
    const [again] = await w.submit([intent]);
    expect(first!.created).toBe(true);
    expect(again).toEqual({ id: first!.id, state: 'pending', created: false });
    await expect(w.submit([w.writeOnce('same-key', 2n)])).rejects.toThrow(IdempotencyConflictError);
    await expect(w.submit([{ ...intent, functionName: 'write' }])).rejects.toThrow(IdempotencyConflictError);
    await expect(w.submit([{ ...intent, idempotencyKey: 'bad-args', args: ['not a bytes32', 1n] }])).rejects.toThrow(IntentRejectedError);
    await expect(w.submit([{ ...intent, idempotencyKey: 'bad-kind', kind: 'ledger.nope' }])).rejects.toThrow(/unknown intent kind ledger.nope/);
    expect((await w.database.pool.query('select count(*)::int as n from relayer_intents')).rows[0].n).toBe(1);
  });

  it('confirms a batch with consecutive nonces, decoded events, and the app told in the same transaction', async () => {
    const confirmed: string[] = [];
    const kind = ledgerWriteKind({
      async onConfirmed(intent, client) {
        const written = intent.events.find((e) => e.name === 'Written');
        await client.query('insert into written_results (key, ledger_key, value) values ($1, $2, $3)', [intent.idempotencyKey, written?.args.key, written?.args.value]);
        confirmed.push(intent.idempotencyKey);
      },
    });
    const w = await ledgerRelayerWorld({ kinds: [kind], finalityDepth: 2 });
    await w.database.pool.query('create table written_results (key text primary key, ledger_key text not null, value numeric not null)');
    const start = await w.nonceOnChain();
    await w.submit(Array.from({ length: 30 }, (_, i) => w.writeOnce(`batch-${i}`, BigInt(100 + i))));
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 30 });

    const { rows } = await w.database.pool.query<{ key: string; nonce: bigint; events: Array<{ emitter: string; name: string; args: Record<string, string> }>; block_number: bigint }>(
      'select idempotency_key as key, sequence as nonce, events, block_number from relayer_intents order by sequence',
    );
    expect(rows.map((r) => Number(r.nonce))).toEqual(Array.from({ length: 30 }, (_, i) => start + i));
    expect(await w.nonceOnChain()).toBe(start + 30);
    const head = await w.world.publicClient.getBlockNumber();
    for (const row of rows) expect(head - row.block_number + 1n).toBeGreaterThanOrEqual(3n);
    const results = (await w.database.pool.query('select key, ledger_key, value::text from written_results order by key')).rows;
    expect(results).toHaveLength(30);
    for (const row of rows) {
      // The receipt's event, decoded with the kind's ABI: its key, the value written and the signer.
      const value = String(100 + Number(row.key.slice('batch-'.length)));
      expect(row.events).toEqual([{ emitter: w.world.ledger.toLowerCase(), eventIndex: expect.any(Number), name: 'Written', args: { key: w.world.key(row.key), value, writer: w.account.address.toLowerCase() } }]);
      expect(results).toContainEqual({ key: row.key, ledger_key: w.world.key(row.key), value });
    }
    expect(new Set(confirmed).size).toBe(30);
    const exposed = await metrics.metrics();
    expect(Number(exposed.match(/^ledgersync_relayer_intents_settled_total\{chain="evm:31337",outcome="confirmed"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(30);
    expect(Number(exposed.match(/^ledgersync_relayer_transactions_signed_total\{chain="evm:31337"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(30);
    const effects = await w.effectsByKey();
    expect(effects.size).toBe(30);
    for (const count of effects.values()) expect(count).toBe(1);
  });

  it('fails a reverting call with the custom error and its arguments, spends no nonce and retries nothing', async () => {
    const w = await ledgerRelayerWorld();
    await w.startRelayer();
    const original = w.writeOnce('original');
    await w.submit([original]);
    await w.settled();
    const nonce = await w.nonceOnChain();
    // The same key again: the ledger refuses a second write; and a call that always reverts.
    await w.submit([{ ...original, idempotencyKey: 'duplicate' }, w.refuse('refused', 'not today')]);
    await w.settled();
    const { rows } = await w.database.pool.query("select idempotency_key as key, state, error, attempts, sequence from relayer_intents where idempotency_key <> 'original' order by key");
    expect(rows).toEqual([
      { key: 'duplicate', state: 'failed', attempts: 0, sequence: null, error: { name: 'AlreadyWritten', message: `AlreadyWritten("${w.world.key('original')}")`, args: [w.world.key('original')] } },
      { key: 'refused', state: 'failed', attempts: 0, sequence: null, error: { name: 'Refused', message: 'Refused("not today")', args: ['not today'] } },
    ]);
    expect((await w.database.pool.query("select count(*)::int as n from relayer_transactions t join relayer_intents i on i.id = t.intent_id where i.idempotency_key <> 'original'")).rows[0].n).toBe(0);
    expect(await w.nonceOnChain()).toBe(nonce);
    expect(await w.effects(['original', 'duplicate'])).toEqual([1, 0]);
  });

  it('prices with a legacy gas price on a chain without EIP-1559 (Polygon Edge-style), within the ceiling', async () => {
    const w = await ledgerRelayerWorld({ hardfork: 'berlin', finalityDepth: 0, gas: { maxFeePerGas: 900_000_000_000n } });
    expect((await w.world.publicClient.getBlock()).baseFeePerGas ?? null).toBeNull();
    await w.submit([w.writeOnce('legacy')]);
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 1 });
    const { rows } = await w.database.pool.query("select fees->>'gasPrice' as gas_price, fees->>'maxFeePerGas' as max_fee_per_gas from relayer_transactions");
    expect(rows[0].max_fee_per_gas).toBeNull();
    expect(BigInt(rows[0].gas_price)).toBe(await w.world.publicClient.getGasPrice());
    const tx = await w.world.publicClient.getTransaction({ hash: (await w.database.pool.query('select id from relayer_transactions')).rows[0].id });
    expect(tx.type).toBe('legacy');
  });
});
