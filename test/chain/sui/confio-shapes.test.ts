/**
 * Confío's Sui shapes (docs/sui-simulator.md, "Confío's packages"), read the way the app will
 * read them: through the real SDK client against the simulator, and through the family's own
 * decoder (src/chain/sui/indexer/decode.ts). Plain cUSD transfers show as balance changes and no
 * event; Confío's module events carry their real type names and BCS fields. Then a recorded
 * mainnet stablecoin (native USDC) transfer through the same decoder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcTypes, SuiGrpcClient } from '@mysten/sui/grpc';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { Transaction } from '@mysten/sui/transactions';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { suiSource } from '../../../src/chain/sui/app.js';
import { getCheckpoint } from '../../../src/chain/sui/indexer/checkpoints.js';
import { decodeCheckpoint } from '../../../src/chain/sui/indexer/decode.js';
import { suiFilter } from '../../../src/chain/sui/indexer/filter.js';
import { CusdEvents, P2PTradeEvents, PayEvents, SUI_TYPE, TRADE_WINDOW_MS, startSuiSimulator, type SuiSimulator } from '../../../src/chain/sui/simulator/index.js';
import { loadSuiVectors } from '../../vectors/sui/index.js';

const CHAIN = 'sui:localnet';
const addr = (n: number) => normalizeSuiAddress(`0x${n.toString(16).padStart(2, '0').repeat(32)}`);
const alice = addr(0xa1);
const bob = addr(0xb0);
const merchant = addr(0xe4);
const b64 = (text: string) => Buffer.from(text).toString('base64');
const utf8 = (bytes: number[]) => Buffer.from(bytes).toString('utf8');

let sim: SuiSimulator;
let client: SuiGrpcClient;
beforeAll(async () => {
  sim = await startSuiSimulator({ seed: 13 });
  client = new SuiGrpcClient({ network: 'localnet', baseUrl: sim.url });
});
afterAll(async () => {
  await sim.close();
});

const include = { effects: true, events: true, balanceChanges: true, transaction: true } as const;

/** The transaction as the SDK client returns it, after its checkpoint. */
async function fetched(digest: string) {
  const result = await client.getTransaction({ digest, include });
  return result.Transaction!;
}

describe('Confío cUSD on the simulator, through SuiGrpcClient', () => {
  it('has the packages and the coin type the Move source declares', () => {
    const { confio } = sim.ledger;
    expect(confio.cusdType).toBe(sim.ledger.cusdType);
    expect(confio.cusdType).toBe(`${confio.packages.cusd}::cusd::CUSD`);
    expect(confio.confioType).toBe(`${confio.packages.confio}::confio::CONFIO`);
    expect(new Set(Object.values(confio.packages)).size).toBe(4);
  });

  it('a mint: CUSDMinted with its BCS fields, and +amount for the recipient only', async () => {
    const { confio } = sim.ledger;
    const digest = confio.mint(alice, 5_000_000n, { depositAddress: merchant });
    const seq = sim.ledger.makeCheckpoint();
    const tx = await fetched(digest);
    expect(tx.checkpoint).toBe(String(seq));
    expect(tx.balanceChanges).toEqual([{ coinType: confio.cusdType, address: alice, amount: '5000000' }]);
    expect(tx.events).toHaveLength(1);
    const event = tx.events![0]!;
    expect(event).toMatchObject({ packageId: confio.packages.cusd, module: 'cusd', sender: confio.admin, eventType: `${confio.packages.cusd}::cusd::CUSDMinted` });
    expect(CusdEvents.CUSDMinted.parse(event.bcs)).toEqual({ amount: '5000000', recipient: alice, deposit_address: merchant });
    expect(event.json).toEqual({ amount: '5000000', recipient: alice, deposit_address: merchant });
    expect((await client.getBalance({ owner: alice, coinType: confio.cusdType })).balance.balance).toBe('5000000');
  });

  it('a plain transfer signed through the SDK: balance changes and no event', async () => {
    const { confio } = sim.ledger;
    const signer = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(41));
    const me = signer.toSuiAddress();
    sim.ledger.fund(me, SUI_TYPE, 10n ** 10n);
    confio.mint(me, 3_000_000n);
    sim.ledger.makeCheckpoint();
    const [coin] = (await client.listCoins({ owner: me, coinType: confio.cusdType })).objects;
    const tx = new Transaction();
    tx.setSender(me);
    const [part] = tx.splitCoins(tx.objectRef({ objectId: coin!.objectId, version: coin!.version, digest: coin!.digest }), [1_250_000n]);
    tx.transferObjects([part!], bob);
    const result = await signer.signAndExecuteTransaction({ transaction: tx, client });
    const digest = (result.Transaction ?? result.FailedTransaction)!.digest;
    sim.ledger.makeCheckpoint();
    const done = await fetched(digest);
    expect(done.effects!.status.success).toBe(true);
    expect(done.events ?? []).toEqual([]);
    const cusd = done.balanceChanges!.filter((b) => b.coinType === confio.cusdType);
    expect(cusd).toEqual(expect.arrayContaining([
      { coinType: confio.cusdType, address: me, amount: '-1250000' },
      { coinType: confio.cusdType, address: bob, amount: '1250000' },
    ]));
    expect(cusd).toHaveLength(2);
    // The gas payer's SUI change is there too, as on mainnet.
    expect(done.balanceChanges!.some((b) => b.coinType === SUI_TYPE && b.address === me && BigInt(b.amount) < 0n)).toBe(true);
  });

  it('a plain transfer by the helper, and transfer_cusd: balance changes, no event, the call in the commands', async () => {
    const { confio } = sim.ledger;
    const plain = confio.transfer(alice, bob, 700_000n);
    const checked = confio.transfer(alice, bob, 300_000n, { checked: true });
    sim.ledger.makeCheckpoint();
    for (const [digest, amount] of [[plain, 700_000n], [checked, 300_000n]] as const) {
      const tx = await fetched(digest);
      expect(tx.events ?? []).toEqual([]);
      expect(tx.balanceChanges).toEqual(expect.arrayContaining([
        { coinType: confio.cusdType, address: alice, amount: (-amount).toString() },
        { coinType: confio.cusdType, address: bob, amount: amount.toString() },
      ]));
      expect(tx.balanceChanges).toHaveLength(2);
    }
    const checkedTx = await fetched(checked);
    const commands = checkedTx.transaction!.commands;
    expect(commands).toEqual([expect.objectContaining({ $kind: 'MoveCall', MoveCall: expect.objectContaining({ package: confio.packages.cusd, module: 'cusd', function: 'transfer_cusd' }) })]);
    const plainCommands = (await fetched(plain)).transaction!.commands.map((c) => Object.keys(c).find((k) => k !== '$kind'));
    expect(plainCommands).toEqual(['SplitCoins', 'TransferObjects']);
  });

  it('a Pay payment: PaymentMade with fee and net, −amount for the payer and +net for the merchant', async () => {
    const { confio } = sim.ledger;
    const digest = confio.pay(alice, merchant, 1_000_000n, 'order-17');
    const seq = sim.ledger.makeCheckpoint();
    const tx = await fetched(digest);
    expect(tx.balanceChanges).toEqual(expect.arrayContaining([
      { coinType: confio.cusdType, address: alice, amount: '-1000000' },
      { coinType: confio.cusdType, address: merchant, amount: '991000' },
    ]));
    expect(tx.balanceChanges).toHaveLength(2);
    const [event] = tx.events!;
    expect(event).toMatchObject({ packageId: confio.packages.pay, module: 'pay', sender: alice, eventType: `${confio.packages.pay}::pay::PaymentMade` });
    const fields = PayEvents.PaymentMade.parse(event!.bcs);
    expect({ ...fields, token_type: utf8(fields.token_type), payment_id: utf8(fields.payment_id) }).toEqual({
      payer: alice,
      recipient: merchant,
      amount: '1000000',
      fee_amount: '9000',
      net_amount: '991000',
      token_type: 'CUSD',
      payment_id: 'order-17',
      timestamp: String(sim.ledger.timestampMs(sim.ledger.epochInfo(sim.ledger.epoch)!.first)),
    });
    expect(seq).toBeGreaterThan(0);
    // vector<u8> renders as base64 in the gRPC JSON, as Sui's full node does.
    expect(event!.json).toMatchObject({ token_type: b64('CUSD'), payment_id: b64('order-17'), fee_amount: '9000' });
  });

  it('P2P escrow: created → accepted → released, created → cancelled, and a dispute resolved', async () => {
    const { confio } = sim.ledger;
    const type = (name: string) => `${confio.packages.p2pTrade}::p2p_trade::${name}`;
    confio.mint(bob, 10_000_000n);
    const created = confio.createTrade(alice, 'T1', 2_000_000n, { amount: 7_300n, currency: 'VES' });
    const createdAt = BigInt(sim.ledger.timestampMs(sim.ledger.height + 1));
    const seq = sim.ledger.makeCheckpoint();
    const accepted = confio.acceptTrade(bob, 'T1');
    const released = confio.releaseTrade(alice, 'T1');
    const created2 = confio.createTrade(alice, 'T2', 500_000n, { amount: 1_800n, currency: 'ARS' });
    const cancelled = confio.cancelTrade(alice, 'T2', 'changed my mind');
    confio.createTrade(bob, 'T3', 400_000n, { amount: 100n, currency: 'USD' });
    confio.acceptTrade(alice, 'T3');
    const disputed = confio.openDispute(alice, 'T3', 'no payment');
    const resolved = confio.resolveDispute('T3', alice);
    sim.ledger.makeCheckpoint();

    const c = await fetched(created);
    expect(c.checkpoint).toBe(String(seq));
    expect(c.events!.map((e) => e.eventType)).toEqual([type('TradeCreated')]);
    const tc = P2PTradeEvents.TradeCreated.parse(c.events![0]!.bcs);
    expect({ ...tc, trade_id: utf8(tc.trade_id), token_type: utf8(tc.token_type), fiat_currency: utf8(tc.fiat_currency) }).toEqual({
      trade_id: 'T1',
      seller: alice,
      amount: '2000000',
      token_type: 'CUSD',
      fiat_amount: '7300',
      fiat_currency: 'VES',
      expires_at: String(createdAt + TRADE_WINDOW_MS),
      timestamp: String(createdAt),
    });
    expect(c.balanceChanges).toEqual([{ coinType: confio.cusdType, address: alice, amount: '-2000000' }]);

    const a = await fetched(accepted);
    expect(a.events!.map((e) => e.eventType)).toEqual([type('TradeAccepted')]);
    expect(P2PTradeEvents.TradeAccepted.parse(a.events![0]!.bcs)).toMatchObject({ buyer: bob });
    expect(a.balanceChanges).toEqual([]);

    const r = await fetched(released);
    expect(r.events!.map((e) => e.eventType)).toEqual([type('TradeCompleted')]);
    expect(P2PTradeEvents.TradeCompleted.parse(r.events![0]!.bcs)).toMatchObject({ seller: alice, buyer: bob, amount: '2000000' });
    expect(r.balanceChanges).toEqual([{ coinType: confio.cusdType, address: bob, amount: '2000000' }]);

    expect((await fetched(created2)).balanceChanges).toEqual([{ coinType: confio.cusdType, address: alice, amount: '-500000' }]);
    const x = await fetched(cancelled);
    expect(x.events!.map((e) => e.eventType)).toEqual([type('TradeCancelled')]);
    const tx = P2PTradeEvents.TradeCancelled.parse(x.events![0]!.bcs);
    expect({ cancelled_by: tx.cancelled_by, reason: utf8(tx.reason), trade_id: utf8(tx.trade_id) }).toEqual({ cancelled_by: alice, reason: 'changed my mind', trade_id: 'T2' });
    expect(x.balanceChanges).toEqual([{ coinType: confio.cusdType, address: alice, amount: '500000' }]);

    const d = await fetched(disputed);
    expect(d.events!.map((e) => e.eventType)).toEqual([type('DisputeOpened')]);
    expect(P2PTradeEvents.DisputeOpened.parse(d.events![0]!.bcs)).toMatchObject({ opened_by: alice });
    const z = await fetched(resolved);
    expect(z.events!.map((e) => e.eventType)).toEqual([type('DisputeResolved')]);
    expect(P2PTradeEvents.DisputeResolved.parse(z.events![0]!.bcs)).toMatchObject({ resolved_by: confio.admin, winner: alice });
    expect(z.balanceChanges).toEqual([{ coinType: confio.cusdType, address: alice, amount: '400000' }]);
  });

  it('refuses what the Move code aborts on', () => {
    const { confio } = sim.ledger;
    expect(() => confio.pay(alice, merchant, 0n)).toThrow(/EInvalidAmount/);
    expect(() => confio.releaseTrade(alice, 'nope')).toThrow(/ETradeNotFound/);
    confio.createTrade(alice, 'T4', 1n, { amount: 1n, currency: 'USD' });
    expect(() => confio.acceptTrade(alice, 'T4')).toThrow(/ESelfTrade/);
    expect(() => confio.releaseTrade(alice, 'T4')).toThrow(/EInvalidTradeState/);
    expect(() => confio.cancelTrade(bob, 'T4')).toThrow(/ENotAuthorized/);
    expect(() => confio.transfer(merchant, bob, 10n ** 15n)).toThrow(/needs/);
    sim.ledger.makeCheckpoint();
  });

  it('the family decoder turns a checkpoint into records: a plain transfer by its balance changes, Pay by its event', async () => {
    const { confio } = sim.ledger;
    const transfer = confio.transfer(alice, bob, 111n);
    const payment = confio.pay(bob, merchant, 10_000n, 'ref-9');
    const seq = sim.ledger.makeCheckpoint();
    const checkpoint = await getCheckpoint(client, BigInt(seq));
    const users = suiFilter(suiSource({ name: 'users', chain: CHAIN, addressSet: 'accounts', startCheckpoint: 0n }), new Set([bob]));
    const packages = suiFilter(suiSource({ name: 'confio', chain: CHAIN, packages: [confio.packages.pay, confio.packages.p2pTrade, confio.packages.cusd], startCheckpoint: 0n }), undefined);
    const records = decodeCheckpoint(CHAIN, checkpoint, [users, packages]);

    const mine = records.filter((r) => r.source === 'users' && r.name === 'BalanceChange');
    expect(mine.map((r) => [r.transactionId, r.args])).toEqual([
      [transfer, { address: bob, coinType: confio.cusdType, amount: '111' }],
      [payment, { address: bob, coinType: confio.cusdType, amount: '-10000' }],
    ]);
    expect(records.filter((r) => r.transactionId === transfer && r.name !== 'Transaction' && r.name !== 'BalanceChange')).toEqual([]);
    // The plain transfer calls no Confío package: only the address set keeps it.
    expect(records.filter((r) => r.transactionId === transfer).map((r) => r.source)).not.toContain('confio');

    const made = records.filter((r) => r.source === 'confio' && r.name === 'PaymentMade');
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ transactionId: payment, emitter: `${confio.packages.pay}::pay`, args: { payer: bob, recipient: merchant, amount: '10000', fee_amount: '90', net_amount: '9910', token_type: b64('CUSD'), payment_id: b64('ref-9') } });
    const raw = GrpcTypes.Event.fromBinary(made[0]!.raw);
    expect(raw.eventType).toBe(`${confio.packages.pay}::pay::PaymentMade`);
    expect(PayEvents.PaymentMade.parse(raw.contents!.value!)).toMatchObject({ payer: bob, net_amount: '9910' });
  });
});

describe('recorded mainnet stablecoin transfer through the family decoder', () => {
  const USDC = '0xdba34672e30cb065b1f93e3ab55318768fd6fef66c15942c9f7cb846e2f900e7::usdc::USDC';
  const vector = loadSuiVectors().grpcTransactions.find((v) => v.id === 'grpc/ledger-live/transfer-CkUN1gw3')!;

  it('native USDC (Circle) moved by a mainnet transaction decodes into its coin type, owner and amount', () => {
    expect(vector.network).toBe('mainnet');
    const { expected } = vector;
    const ms = BigInt(expected.timestampMs);
    const checkpoint = GrpcTypes.Checkpoint.create({
      sequenceNumber: BigInt(expected.checkpoint),
      digest: `checkpoint-${expected.checkpoint}`,
      summary: { previousDigest: 'parent', timestamp: { seconds: ms / 1000n, nanos: Number(ms % 1000n) * 1_000_000 } },
      transactions: [vector.message],
    });
    const owner = normalizeSuiAddress('0x6cae00a08b04f6a4ca7157628ccf60f40078616deab20d2b626bd1de7c8a16c9');
    const users = suiFilter(suiSource({ name: 'users', chain: 'sui:mainnet', addressSet: 'accounts', startCheckpoint: 0n }), new Set([owner]));
    const records = decodeCheckpoint('sui:mainnet', checkpoint, [users]);
    const usdc = records.filter((r) => r.name === 'BalanceChange' && r.emitter === USDC);
    expect(usdc).toHaveLength(1);
    expect(usdc[0]).toMatchObject({ transactionId: 'CkUN1gw3aZu6gge8QERL3bU8WvaUmUzGtDQFtFWJXzMQ', blockNumber: 309148143n, args: { address: owner, coinType: USDC, amount: '-68315346' } });
    expect(GrpcTypes.BalanceChange.fromBinary(usdc[0]!.raw)).toEqual(vector.message.balanceChanges.find((b) => b.coinType === USDC));
  });
});
