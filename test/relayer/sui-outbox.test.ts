import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError, IntentRejectedError } from '../../src/core/relayer/outbox.js';
import { suiIntent } from '../../src/chain/sui/app.js';
import { SUI_TYPE } from '../../src/chain/sui/simulator/index.js';
import { suiRelayerWorld } from '../harness/sui-relayer.js';

describe('sui outbox', () => {
  it('stores a Sui intent as a deterministic call, addresses and types in their long form', async () => {
    const w = await suiRelayerWorld();
    await w.submit([w.transfer('short', '0xabc', 10n), w.pay('call', '0x2::sui::SUI', 5n, '0xABC', 'memo')]);
    const transfer = await w.intent('short');
    expect(transfer).toMatchObject({ kind: 'pay.sui', signer: w.signer, target: SUI_TYPE.split('::')[0], contract: 'coin', function_name: 'transfer' });
    const long = `0x${'0'.repeat(61)}abc`;
    expect(JSON.parse(transfer.payload)).toEqual({ transfer: { coinType: SUI_TYPE, amount: '10', recipient: long } });
    expect(transfer.args).toEqual([long, '10']);
    const call = await w.intent('call');
    expect(call).toMatchObject({ target: w.sim.ledger.packageId, contract: 'payments' });
    expect(call.payload).toBe(
      JSON.stringify({ moveCall: { module: 'payments', function: 'pay', typeArguments: [SUI_TYPE], arguments: [{ coin: { type: SUI_TYPE, amount: '5' } }, { address: long }, { string: 'memo' }] } }),
    );
    // The same request in another spelling is the same intent; another request under the key is refused.
    expect(await w.submit([w.transfer('short', long, 10n)])).toMatchObject([{ id: transfer.id, created: false }]);
    await expect(w.submit([w.transfer('short', long, 11n)])).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('refuses bad arguments at submit, saying which', async () => {
    const w = await suiRelayerWorld();
    const refused = async (intent: Parameters<typeof w.submit>[0][0]) => {
      const error = await w.submit([intent]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IntentRejectedError);
      return (error as Error).message;
    };
    expect(await refused(w.transfer('a', 'not-an-address', 1n))).toContain('recipient must be a Sui address');
    expect(await refused(w.transfer('b', '0xabc', 0n))).toContain('amount must be more than zero');
    expect(await refused(w.transfer('c', '0xabc', 2n ** 64n))).toContain('out of range for u64');
    expect(await refused(w.transfer('d', '0xabc', -1n))).toContain('out of range');
    expect(await refused(w.pay('e', 'garbage', 1n, '0xabc', 'm'))).toContain('type argument 0 is not a Move type');
    expect(await refused({ ...w.pay('f', SUI_TYPE, 1n, '0xabc', 'm'), args: [SUI_TYPE, 1n, '0xabc', 42] })).toContain('argument 2 (string) must be a string');
    expect(await refused({ ...w.abort('g', 1n), args: [] })).toContain('takes 0 type argument(s) then 1 argument(s), got 0 values');
    expect(await refused({ ...w.abort('h', 1n), functionName: 'nope' })).toContain('payments has no function "nope"');
    expect(await refused({ ...w.abort('i', 1n), signer: '0x1234' })).toContain('no signer 0x1234');
    const { rows } = await w.database.pool.query('select 1 from relayer_intents');
    expect(rows).toEqual([]);
  });

  it('refuses a kind with a coin type or package that does not parse, when the app is defined', () => {
    expect(() => suiIntent({ name: 'x', chain: 'sui:testnet', coinType: 'nope' })).toThrow('x: coinType is not a Move type');
    expect(() => suiIntent({ name: 'y', chain: 'sui:testnet', package: 'zz', module: 'm', functions: {} })).toThrow('y: package must be a Sui address');
  });
});
