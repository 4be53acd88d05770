import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, IntentRejectedError } from '../../src/core/relayer/outbox.js';
import type { IntentKind } from '../../src/core/relayer/types.js';
import { credentialKinds, relayerWorld } from '../harness/relayer.js';
import { metrics } from '../../src/runtime/metrics.js';
import { inTransaction } from '../../src/db/transaction.js';

describe('outbox and relayer', () => {
  it('sends nothing for an intent whose application transaction rolled back', async () => {
    const w = await relayerWorld();
    await w.startRelayer();
    const before = await w.nonceOnChain();
    await expect(
      inTransaction(w.database.pool, async (client) => {
        await w.outbox.submit(client, w.issue('rolled-back'));
        throw new Error('the application failed after submitting');
      }),
    ).rejects.toThrow('the application failed');
    await w.submit([w.issue('committed')]);
    await w.settled();
    const { rows } = await w.database.pool.query('select idempotency_key from relayer_intents');
    expect(rows.map((r) => r.idempotency_key)).toEqual(['committed']);
    expect(await w.nonceOnChain()).toBe(before + 1);
    expect([...(await w.effectsByKey()).keys()]).toEqual(['committed']);
  });

  it('returns the existing intent for a repeated idempotency key, and refuses the key for a different request', async () => {
    const w = await relayerWorld();
    const intent = w.issue('same-key');
    const [first] = await w.submit([intent]);
    const [again] = await w.submit([intent]);
    expect(first!.created).toBe(true);
    expect(again).toEqual({ id: first!.id, state: 'pending', created: false });
    await expect(w.submit([w.issue('same-key')])).rejects.toThrow(IdempotencyConflictError);
    await expect(w.submit([{ ...intent, idempotencyKey: 'bad-args', args: [{ student: 'not an address' }] }])).rejects.toThrow(IntentRejectedError);
    await expect(w.submit([{ ...intent, idempotencyKey: 'bad-kind', kind: 'credentials.nope' }])).rejects.toThrow(/unknown intent kind credentials.nope/);
    expect((await w.database.pool.query('select count(*)::int as n from relayer_intents')).rows[0].n).toBe(1);
  });

  it('confirms a batch with consecutive nonces, decoded events, and the app told in the same transaction', async () => {
    const confirmed: string[] = [];
    const kind: IntentKind = {
      ...credentialKinds[0]!,
      async onConfirmed(intent, client) {
        const issued = intent.events.find((e) => e.name === 'CredentialIssued');
        await client.query('insert into issued_results (key, credential_id) values ($1, $2)', [intent.idempotencyKey, issued?.args.id]);
        confirmed.push(intent.idempotencyKey);
      },
    };
    const w = await relayerWorld({ kinds: [kind], finalityDepth: 2 });
    await w.database.pool.query('create table issued_results (key text primary key, credential_id numeric not null)');
    const start = await w.nonceOnChain();
    await w.submit(Array.from({ length: 30 }, (_, i) => w.issue(`batch-${i}`)));
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 30 });

    const { rows } = await w.database.pool.query<{ nonce: bigint; events: Array<{ name: string; args: { metadataURI: string; id: string } }>; block_number: bigint }>(
      'select sequence as nonce, events, block_number from relayer_intents order by sequence',
    );
    expect(rows.map((r) => Number(r.nonce))).toEqual(Array.from({ length: 30 }, (_, i) => start + i));
    expect(await w.nonceOnChain()).toBe(start + 30);
    const head = await w.world.publicClient.getBlockNumber();
    for (const row of rows) expect(head - row.block_number + 1n).toBeGreaterThanOrEqual(3n);
    const results = (await w.database.pool.query('select key, credential_id::text as id from issued_results order by key')).rows;
    expect(results).toHaveLength(30);
    for (const row of rows) {
      const issued = row.events.find((e) => e.name === 'CredentialIssued')!;
      expect(results).toContainEqual({ key: issued.args.metadataURI, id: issued.args.id });
    }
    expect(new Set(confirmed).size).toBe(30);
    const exposed = await metrics.metrics();
    expect(Number(exposed.match(/^ledgersync_relayer_intents_settled_total\{chain="evm:31337",outcome="confirmed"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(30);
    expect(Number(exposed.match(/^ledgersync_relayer_transactions_signed_total\{chain="evm:31337"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(30);
    for (const count of (await w.effectsByKey()).values()) expect(count).toBe(1);
  });

  it('fails a reverting call with the custom error, spends no nonce and retries nothing', async () => {
    const w = await relayerWorld();
    await w.startRelayer();
    const original = w.issue('original');
    await w.submit([original]);
    await w.settled();
    const nonce = await w.nonceOnChain();
    // Same fingerprint again: the vault refuses it.
    await w.submit([{ ...original, idempotencyKey: 'duplicate' }]);
    await w.settled();
    const { rows } = await w.database.pool.query("select state, error, attempts, sequence from relayer_intents where idempotency_key = 'duplicate'");
    expect(rows[0]).toMatchObject({ state: 'failed', attempts: 0, sequence: null });
    expect(rows[0].error.name).toBe('FingerprintAlreadyUsed');
    expect(rows[0].error.args[1]).toBe('1');
    expect((await w.database.pool.query("select count(*)::int as n from relayer_transactions t join relayer_intents i on i.id = t.intent_id where i.idempotency_key = 'duplicate'")).rows[0].n).toBe(0);
    expect(await w.nonceOnChain()).toBe(nonce);
  });

  it('prices with a legacy gas price on a chain without EIP-1559 (Polygon Edge-style), within the ceiling', async () => {
    const w = await relayerWorld({ hardfork: 'berlin', finalityDepth: 0, gas: { maxFeePerGas: 900_000_000_000n } });
    expect((await w.world.publicClient.getBlock()).baseFeePerGas ?? null).toBeNull();
    await w.submit([w.issue('legacy')]);
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 1 });
    const { rows } = await w.database.pool.query("select fees->>'gasPrice' as gas_price, fees->>'maxFeePerGas' as max_fee_per_gas from relayer_transactions");
    expect(rows[0].max_fee_per_gas).toBeNull();
    expect(BigInt(rows[0].gas_price)).toBe(await w.world.publicClient.getGasPrice());
    const tx = await w.world.publicClient.getTransaction({ hash: (await w.database.pool.query('select id from relayer_transactions')).rows[0].id });
    expect(tx.type).toBe('legacy');
  });
});
