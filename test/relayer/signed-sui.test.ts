import { describe, expect, it } from 'vitest';
import { bcs } from '@mysten/sui/bcs';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { Transaction, TransactionDataBuilder } from '@mysten/sui/transactions';
import { fromBase64, normalizeSuiAddress, toBase64 } from '@mysten/sui/utils';
import { sponsorTransaction, SponsorshipError } from '../../src/chain/sui/relayer/sponsor.js';
import { SUI_TYPE } from '../../src/chain/sui/simulator/index.js';
import { IdempotencyConflictError, IntentRejectedError, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import { recipient, SUI, suiRelayerWorld, type SuiRelayerWorld } from '../harness/sui-relayer.js';
import { until } from '../harness/until.js';

const alice = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(7));
const mallory = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(8));

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

/** A cUSD transfer's commands, from one of the user's own cUSD coins: what a wallet builds on the user's phone. */
function cusdTransfer(w: SuiRelayerWorld, owner: string, to: string, amount: bigint, coinIndex = 0): Transaction {
  const coin = w.sim.ledger.coins(owner, w.sim.ledger.cusdType)[coinIndex]!;
  const tx = new Transaction();
  const [part] = tx.splitCoins(tx.objectRef({ objectId: coin.objectId, version: coin.version.toString(), digest: coin.digest }), [tx.pure.u64(amount)]);
  tx.transferObjects([part!], tx.pure.address(to));
  return tx;
}

/** The same transfer paid with the user's own gas coin (budget 10,000,000 MIST at price 1,000): nothing of the platform's. */
function ownGasTransfer(w: SuiRelayerWorld, user: string, gas: { objectId: string; version: bigint | number | string; digest: string }, to: string, amount: bigint): Promise<Uint8Array> {
  const tx = cusdTransfer(w, user, to, amount);
  tx.setSender(user);
  tx.setGasPayment([{ objectId: gas.objectId, version: gas.version.toString(), digest: gas.digest }]);
  tx.setGasPrice(1000);
  tx.setGasBudget(10_000_000);
  return tx.build();
}

async function signed(idempotencyKey: string, bytes: Uint8Array | string, signer = alice): Promise<SubmitIntent> {
  const data = typeof bytes === 'string' ? fromBase64(bytes) : bytes;
  const { signature } = await signer.signTransaction(data);
  return { idempotencyKey, kind: 'pay.cusd', signed: { transaction: toBase64(data), signatures: [signature] } };
}

const lockedRows = async (w: SuiRelayerWorld) =>
  (await w.database.pool.query<{ object_id: string; locked_by_intent: bigint | null; reserved_until: Date | null }>("select object_id, locked_by_intent, reserved_until from sui_owned_objects where state = 'locked'")).rows;

describe('user-signed Sui transactions through the outbox', () => {
  it('executes a platform-sponsored cUSD transfer the user signed once, its gas coin never shared with the platform transactions flying beside it', async () => {
    const w = await suiRelayerWorld({ coins: 1, gas: { poolSize: 4 } });
    const user = alice.toSuiAddress();
    w.sim.ledger.fund(user, w.sim.ledger.cusdType, 10_000_000n, 3);
    w.sim.ledger.makeCheckpoint();
    const uses = recordGasPayments(w);
    await w.startRelayer();
    await until(async () => (await w.objects()).filter((o) => o.coin_type === SUI_TYPE).length >= 4, 'the gas pool to be split');

    // Three sponsorships reserved at once, while the platform sends its own transfers from the same pool.
    const platform = w.submit(Array.from({ length: 12 }, (_, i) => w.transfer(`platform-${i}`, recipient(100 + i), 1_000n)));
    const sponsored = await Promise.all(
      [0, 1, 2].map((i) => sponsorTransaction(w.database.pool, w.conn.client, { chain: w.chain, sponsor: w.signer, sender: user, transaction: cusdTransfer(w, user, recipient(i), 1_000_000n + BigInt(i), i) })),
    );
    await platform;
    const reservedCoins = new Set(sponsored.map((s) => bcs.TransactionData.parse(fromBase64(s.transaction)).V1!.gasData.payment[0]!.objectId));
    expect(reservedCoins.size).toBe(3);
    const data = bcs.TransactionData.parse(fromBase64(sponsored[0]!.transaction)).V1!;
    expect(normalizeSuiAddress(data.sender)).toBe(user);
    expect(normalizeSuiAddress(data.gasData.owner)).toBe(w.signer);
    expect(BigInt(data.gasData.budget)).toBeLessThanOrEqual(50_000_000n);

    // Submitted twice under one key: one intent; the same bytes under another key are refused.
    const intents = await Promise.all(sponsored.map((s, i) => signed(`sponsored-${i}`, s.transaction)));
    const [first] = await w.submit([intents[0]!]);
    expect(await w.submit([intents[0]!])).toEqual([{ id: first!.id, state: 'signed', created: false }]);
    await expect(w.submit([{ ...intents[0]!, idempotencyKey: 'other-key' }])).rejects.toThrow(/already submitted/);
    await expect(w.submit([{ ...intents[1]!, idempotencyKey: 'sponsored-0' }])).rejects.toBeInstanceOf(IdempotencyConflictError);
    await w.submit(intents.slice(1));
    const settled = await w.settled();
    expect(settled).toEqual({ confirmed: 15 });

    const intent = await w.intent('sponsored-0');
    expect(intent).toMatchObject({ kind: 'pay.cusd', sender: user, signer: w.signer, function_name: 'transfer', args: [recipient(0), '1000000'], transaction_id: sponsored[0]!.digest });
    expect(w.received([recipient(0), recipient(1), recipient(2)], w.sim.ledger.cusdType)).toEqual([[1_000_000n], [1_000_001n], [1_000_002n]]);
    for (const [i, s] of sponsored.entries()) expect(await w.transactionsOf(`sponsored-${i}`)).toEqual([expect.objectContaining({ id: s.digest, status: 'mined' })]);
    // The user paid no gas (holds no SUI at all); no gas coin version was ever offered to two transactions.
    expect(w.sim.ledger.coins(user, SUI_TYPE)).toEqual([]);
    expect([...uses].filter(([, digests]) => digests.size > 1)).toEqual([]);
    expect(w.equivocations).toEqual([]);
    // Every coin is back in the pool, at the chain's version and balance.
    await until(async () => (await lockedRows(w)).length === 0, 'the gas coins to be freed');
    const chain = new Map(w.sim.ledger.coins(w.signer, SUI_TYPE).map((c) => [c.objectId, `${c.version}/${c.balance}`]));
    const stored = new Map((await w.objects()).filter((o) => o.coin_type === SUI_TYPE).map((o) => [o.object_id, `${o.version}/${o.balance}`]));
    expect(stored).toEqual(chain);
  });

  it('executes a transaction the user signed and pays the gas of, touching nothing of the platform', async () => {
    const w = await suiRelayerWorld({ coins: 1 });
    const user = alice.toSuiAddress();
    w.sim.ledger.fund(user, w.sim.ledger.cusdType, 5_000_000n, 1);
    const [gas] = w.sim.ledger.fund(user, SUI_TYPE, 1n * SUI, 1);
    w.sim.ledger.makeCheckpoint();
    await w.startRelayer();
    const bytes = await ownGasTransfer(w, user, gas!, recipient(9), 2_000_000n);
    const objectsBefore = await w.objects();
    await w.submit([await signed('own-gas', bytes)]);
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect(await w.intent('own-gas')).toMatchObject({ sender: user, signer: w.signer, args: [recipient(9), '2000000'], transaction_id: TransactionDataBuilder.getDigestFromBytes(bytes) });
    expect(w.received([recipient(9)], w.sim.ledger.cusdType)).toEqual([[2_000_000n]]);
    expect(w.sim.ledger.balance(user, SUI_TYPE).total).toBeLessThan(1n * SUI);
    expect(await w.objects()).toEqual(objectsBefore);
  });

  it('fails a transaction the user signed that the node refuses all along (a gas coin short of its budget), touching nothing', async () => {
    const w = await suiRelayerWorld({ coins: 1 });
    const user = alice.toSuiAddress();
    w.sim.ledger.fund(user, w.sim.ledger.cusdType, 5_000_000n, 1);
    const [gas] = w.sim.ledger.fund(user, SUI_TYPE, 1_000_000n, 1);
    w.sim.ledger.makeCheckpoint();
    await w.startRelayer({ refusedSignedMs: 1_500 });
    const bytes = await ownGasTransfer(w, user, gas!, recipient(9), 2_000_000n);
    const objectsBefore = await w.objects();
    const started = Date.now();
    await w.submit([await signed('short-of-gas', bytes)]);
    expect(await w.settled()).toEqual({ failed: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    const failed = await w.intent('short-of-gas');
    expect(failed).toMatchObject({ state: 'failed', error: { name: 'RefusedByNode' }, transaction_id: null });
    expect(failed.error.message).toMatch(/Balance of gas object 1000000 is lower than the needed amount/);
    expect(w.sim.ledger.balance(user, w.sim.ledger.cusdType).total).toBe(5_000_000n);
    expect(w.sim.ledger.balance(user, SUI_TYPE).total).toBe(1_000_000n);
    expect(await w.objects()).toEqual(objectsBefore);
  });

  it('fails a sponsored transaction whose coin the user spent elsewhere, telling the app, and frees the sponsor gas coin', async () => {
    const w = await suiRelayerWorld({ coins: 1, gas: { poolSize: 3 } });
    const user = alice.toSuiAddress();
    w.sim.ledger.fund(user, w.sim.ledger.cusdType, 5_000_000n, 1);
    const [gas] = w.sim.ledger.fund(user, SUI_TYPE, SUI, 1);
    w.sim.ledger.makeCheckpoint();
    await w.startRelayer({ maintainMs: 200 });
    await until(async () => (await w.objects()).filter((o) => o.coin_type === SUI_TYPE).length >= 3, 'the gas pool to be split');
    const sponsored = await sponsorTransaction(w.database.pool, w.conn.client, { chain: w.chain, sponsor: w.signer, sender: user, transaction: cusdTransfer(w, user, recipient(1), 10n) });
    const intent = await signed('spent-elsewhere', sponsored.transaction);
    // Before the platform relays it, the user spends the same cUSD coin in a transaction of their own.
    const own = cusdTransfer(w, user, recipient(2), 20n);
    own.setSender(user);
    own.setGasPayment([{ objectId: gas!.objectId, version: gas!.version.toString(), digest: gas!.digest }]);
    own.setGasPrice(1000);
    own.setGasBudget(10_000_000);
    const ownBytes = await own.build();
    await w.sim.ledger.execute(ownBytes, [fromBase64((await alice.signTransaction(ownBytes)).signature)]);
    w.sim.ledger.makeCheckpoint();
    await w.submit([intent]);
    expect(await w.settled()).toEqual({ failed: 1 });
    expect(await w.intent('spent-elsewhere')).toMatchObject({ state: 'failed', error: { name: 'SupersededBySender' } });
    expect(w.received([recipient(1), recipient(2)], w.sim.ledger.cusdType)).toEqual([[], [20n]]);
    await until(async () => (await lockedRows(w)).length === 0, 'the sponsor gas coin to be freed', 10_000);
    // Sending it again met the user's double signing on their own coin (the simulator calls it an equivocation
    // of that coin, where Sui would call the version spent); no coin of the sponsor's was ever involved.
    const userCoin = w.sim.ledger.coins(user, w.sim.ledger.cusdType)[0]!.objectId;
    expect(w.equivocations.every((e) => e.includes(`Object ${userCoin} `))).toBe(true);
  });

  it('refuses a bad signature, another call, a sponsorship it did not prepare or that expired, and frees an expired reservation', async () => {
    const w = await suiRelayerWorld({ coins: 1, gas: { poolSize: 3 } });
    const user = alice.toSuiAddress();
    w.sim.ledger.fund(user, w.sim.ledger.cusdType, 5_000_000n, 2);
    w.sim.ledger.makeCheckpoint();
    await w.startRelayer({ maintainMs: 200 });
    await until(async () => (await w.objects()).filter((o) => o.coin_type === SUI_TYPE).length >= 3, 'the gas pool to be split');
    const refused = async (intent: SubmitIntent) => {
      const error = await w.submit([intent]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IntentRejectedError);
      return (error as Error).message;
    };
    const sponsor = (transaction: Transaction, ttlMs?: number) =>
      sponsorTransaction(w.database.pool, w.conn.client, { chain: w.chain, sponsor: w.signer, sender: user, transaction, ...(ttlMs ? { ttlMs } : {}) });

    const good = await sponsor(cusdTransfer(w, user, recipient(1), 10n));
    expect(await refused(await signed('mallory', good.transaction, mallory))).toContain(`not the sender ${user}'s`);
    expect(await refused({ ...(await signed('garbage', good.transaction)), signed: { transaction: 'AAAA', signatures: ['AAAA'] } })).toContain('not Sui TransactionData');
    // A Move call where the kind transfers coins.
    const call = new Transaction();
    call.moveCall({ target: `${w.sim.ledger.packageId}::payments::abort_with`, arguments: [call.pure.u64(1)] });
    const callBytes = await (async () => {
      const coin = w.sim.ledger.fund(user, SUI_TYPE, SUI, 1)[0]!;
      w.sim.ledger.makeCheckpoint();
      call.setSender(user);
      call.setGasPayment([{ objectId: coin.objectId, version: coin.version.toString(), digest: coin.digest }]);
      call.setGasPrice(1000);
      call.setGasBudget(10_000_000);
      return call.build();
    })();
    expect(await refused(await signed('call', callBytes))).toContain('may call no Move function');
    // Bytes naming the platform as gas owner that no sponsorship prepared: the sponsor would never sign them.
    const [coin] = (await w.objects()).filter((o) => o.coin_type === SUI_TYPE && o.state === 'free');
    const forged = cusdTransfer(w, user, recipient(2), 10n);
    forged.setSender(user);
    forged.setGasOwner(w.signer);
    forged.setGasPayment([{ objectId: coin!.object_id, version: coin!.version, digest: (await w.database.pool.query('select digest from sui_owned_objects where object_id = $1', [coin!.object_id])).rows[0].digest }]);
    forged.setGasPrice(1000);
    forged.setGasBudget(10_000_000);
    expect(await refused(await signed('forged', await forged.build()))).toContain('is not sponsored by');
    // A sponsored transaction may not spend the sponsor's gas coin.
    const greedy = new Transaction();
    greedy.transferObjects([greedy.splitCoins(greedy.gas, [greedy.pure.u64(1)])[0]!], greedy.pure.address(user));
    await expect(sponsor(greedy)).rejects.toBeInstanceOf(SponsorshipError);

    // Reserved for 300 ms: submitted later, refused, and the coin is free again.
    const late = await sponsor(cusdTransfer(w, user, recipient(3), 10n, 1), 300);
    expect((await lockedRows(w)).filter((r) => r.locked_by_intent === null)).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 400));
    expect(await refused(await signed('late', late.transaction))).toContain('reservation expired');
    await until(async () => (await lockedRows(w)).filter((r) => r.locked_by_intent === null).length === 1, 'the expired reservation to be released', 10_000);
    expect(await w.database.pool.query('select count(*)::int as n from relayer_intents').then((r) => r.rows[0].n)).toBe(0);

    // The one still reserved goes through.
    await w.submit([await signed('good', good.transaction)]);
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect(w.received([recipient(1)], w.sim.ledger.cusdType)).toEqual([[10n]]);
    expect(w.equivocations).toEqual([]);
  });
});
