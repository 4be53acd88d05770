/**
 * The Sui simulator, driven only through the real SDK (SuiGrpcClient over grpc-web, the SDK's
 * Transaction builder, Ed25519 keys): what the engine's Sui adapter will meet.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RpcError, SuiGrpcClient, GrpcTypes } from '@mysten/sui/grpc';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { Transaction, TransactionDataBuilder } from '@mysten/sui/transactions';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { PaymentSent, SUI_TYPE, paymentSentType, startSuiSimulator, type SuiSimulator } from '../../../src/chain/sui/simulator/index.js';

const SUI = 1_000_000_000n;
const PRICE = 1000;
const BUDGET = 20_000_000;

const sims: SuiSimulator[] = [];
async function simulator(options: Parameters<typeof startSuiSimulator>[0] = {}): Promise<{ sim: SuiSimulator; client: SuiGrpcClient }> {
  const sim = await startSuiSimulator(options);
  sims.push(sim);
  return { sim, client: new SuiGrpcClient({ network: 'localnet', baseUrl: sim.url }) };
}
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

const keypair = (n: number) => Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(n));
const stranger = normalizeSuiAddress(`0x${'5a'.repeat(32)}`);

type Ref = { objectId: string; version: string; digest: string };

/** The coins of `owner` in `coinType`, as object references, through the SDK. */
async function coinRefs(client: SuiGrpcClient, owner: string, coinType = SUI_TYPE): Promise<(Ref & { balance: bigint })[]> {
  const { objects } = await client.listCoins({ owner, coinType });
  return objects.map((o) => ({ objectId: o.objectId, version: o.version, digest: o.digest, balance: BigInt(o.balance) }));
}

/** Builds offline (gas payment, price and budget given: no resolution call) and signs. */
async function signed(signer: Ed25519Keypair, gas: Ref, compose: (tx: Transaction) => void, budget = BUDGET) {
  const tx = new Transaction();
  tx.setSender(signer.toSuiAddress());
  tx.setGasPrice(PRICE);
  tx.setGasBudget(budget);
  tx.setGasPayment([gas]);
  compose(tx);
  const bytes = await tx.build();
  const { signature } = await signer.signTransaction(bytes);
  return { bytes, signature, digest: TransactionDataBuilder.getDigestFromBytes(bytes) };
}

const transfer = (amount: bigint, to = stranger) => (tx: Transaction) => {
  const [coin] = tx.splitCoins(tx.gas, [amount]);
  tx.transferObjects([coin!], to);
};

async function execute(client: SuiGrpcClient, t: { bytes: Uint8Array; signature: string }) {
  return client.executeTransaction({ transaction: t.bytes, signatures: [t.signature], include: { effects: true, events: true, balanceChanges: true, transaction: true } });
}

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

const FULL_CHECKPOINT = [
  'sequence_number',
  'digest',
  'summary.sequence_number',
  'summary.digest',
  'summary.previous_digest',
  'summary.timestamp',
  'summary.epoch',
  'transactions.digest',
  'transactions.transaction.sender',
  'transactions.transaction.gas_payment',
  'transactions.effects.status',
  'transactions.events',
  'transactions.balance_changes',
];

async function listAll(client: SuiGrpcClient, start: number, end: number, paths = FULL_CHECKPOINT) {
  const checkpoints: GrpcTypes.Checkpoint[] = [];
  let after: Uint8Array | undefined;
  for (;;) {
    const call = client.ledgerService.listCheckpoints({ startCheckpoint: BigInt(start), endCheckpoint: BigInt(end), readMask: { paths }, options: { limit: 1000, after } });
    let last: GrpcTypes.QueryEnd | undefined;
    for await (const frame of call.responses) {
      if (frame.checkpoint) checkpoints.push(frame.checkpoint);
      after = frame.watermark?.cursor;
      last = frame.end ?? last;
    }
    if (last?.reason !== GrpcTypes.QueryEndReason.ITEM_LIMIT && last?.reason !== GrpcTypes.QueryEndReason.SCAN_LIMIT) return checkpoints;
  }
}

describe('sui simulator: ledger reads', () => {
  let sim: SuiSimulator;
  let client: SuiGrpcClient;
  const watched = keypair(1).toSuiAddress();
  beforeAll(async () => {
    ({ sim, client } = await simulator({ seed: 11 }));
    sim.ledger.emitCheckpoints(40, { relevantEvery: 4, addresses: [watched] });
  });
  afterEach(() => sim.setFaults({}));

  it('serves the service info: chain id (the genesis digest), name, epoch, height, timestamp; a lag fault lowers the height', async () => {
    const { response } = await client.ledgerService.getServiceInfo({});
    const genesis = await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: 0n } });
    expect(response.chainId).toBe(genesis.response.checkpoint?.digest);
    expect(await client.core.getChainIdentifier()).toEqual({ chainIdentifier: response.chainId });
    expect(await client.getReferenceGasPrice()).toEqual({ referenceGasPrice: '1000' });
    expect(response).toMatchObject({ chain: 'localnet-sim', epoch: 0n, checkpointHeight: BigInt(sim.ledger.height), lowestAvailableCheckpoint: 0n });
    expect(Number(response.timestamp!.seconds) * 1000 + response.timestamp!.nanos / 1e6).toBe(sim.ledger.timestampMs(sim.ledger.height));
    sim.setFaults({ lag: 5 });
    expect((await client.ledgerService.getServiceInfo({})).response.checkpointHeight).toBe(BigInt(sim.ledger.height - 5));
  });

  it('gets a checkpoint by sequence number and by digest, with exactly the masked fields', async () => {
    const seq = 21;
    const byNumber = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: BigInt(seq) }, readMask: { paths: FULL_CHECKPOINT } })).response.checkpoint!;
    const previous = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: BigInt(seq - 1) } })).response.checkpoint!;
    expect(byNumber.sequenceNumber).toBe(BigInt(seq));
    expect(byNumber.summary).toMatchObject({ sequenceNumber: BigInt(seq), digest: byNumber.digest, previousDigest: previous.digest, epoch: 0n });
    expect(byNumber.summary!.timestamp!.seconds).toBeGreaterThan(0n);
    // Not masked: absent.
    expect(byNumber.summary!.contentDigest).toBeUndefined();
    expect(byNumber.contents).toBeUndefined();
    const [prologue, ...users] = byNumber.transactions;
    expect(prologue!.transaction!.sender).toBe(normalizeSuiAddress('0x0'));
    expect(users.length).toBeGreaterThan(0);
    for (const tx of users) {
      expect(tx.digest).toMatch(/^[1-9A-HJ-NP-Za-km-z]{43,44}$/);
      expect(tx.transaction!.sender).toMatch(/^0x[0-9a-f]{64}$/);
      expect(tx.transaction!.gasPayment!.price).toBe(1000n);
      expect(tx.transaction!.kind).toBeUndefined();
      expect(typeof tx.effects!.status!.success).toBe('boolean');
      expect(tx.effects!.gasUsed).toBeUndefined();
    }
    const byDigest = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'digest', digest: byNumber.digest! }, readMask: { paths: FULL_CHECKPOINT } })).response.checkpoint!;
    expect(GrpcTypes.Checkpoint.toJson(byDigest)).toEqual(GrpcTypes.Checkpoint.toJson(byNumber));
    const bare = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: BigInt(seq) } })).response.checkpoint!;
    expect(bare).toMatchObject({ sequenceNumber: BigInt(seq), digest: byNumber.digest, transactions: [] });
    expect(bare.summary).toBeUndefined();
    const missing = await rejection(client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: 10_000n } }).response);
    expect(missing.code).toBe('NOT_FOUND');
  });

  it('serves events with package, module, sender, type and BCS contents, and balance changes of watched addresses', async () => {
    const checkpoints = await listAll(client, 1, sim.ledger.height + 1);
    const events = checkpoints.flatMap((c) => c.transactions.flatMap((t) => t.events?.events ?? []));
    const ours = events.filter((e) => e.packageId === sim.ledger.packageId);
    expect(ours.length).toBeGreaterThan(0);
    for (const event of ours) {
      expect(event).toMatchObject({ module: 'payments', eventType: paymentSentType(sim.ledger.packageId) });
      const fields = PaymentSent.parse(event.contents!.value!);
      expect(normalizeSuiAddress(fields.payer)).toBe(event.sender);
      expect(GrpcTypes.Event.toJson(event)).toMatchObject({ json: { amount: fields.amount, memo: fields.memo } });
    }
    const watchedChanges = checkpoints.flatMap((c) => c.transactions.flatMap((t) => t.balanceChanges.filter((b) => b.address === watched)));
    expect(watchedChanges.length).toBeGreaterThan(0);
  });

  it('lists checkpoints as a stream: watermarks, item limit, cursor pagination, checkpoint bound, descending order', async () => {
    const call = client.ledgerService.listCheckpoints({ startCheckpoint: 5n, endCheckpoint: 30n, options: { limit: 10 } });
    const frames = [];
    for await (const frame of call.responses) frames.push(frame);
    expect(frames.map((f) => f.checkpoint?.sequenceNumber)).toEqual([5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n, 13n, 14n]);
    expect(frames.every((f) => f.watermark?.cursor !== undefined)).toBe(true);
    expect(frames.at(-1)!.end?.reason).toBe(GrpcTypes.QueryEndReason.ITEM_LIMIT);
    expect(frames.slice(0, -1).every((f) => f.end === undefined)).toBe(true);

    const rest = [];
    let end;
    for await (const frame of client.ledgerService.listCheckpoints({ startCheckpoint: 5n, endCheckpoint: 30n, options: { limit: 100, after: frames.at(-1)!.watermark!.cursor } }).responses) {
      if (frame.checkpoint) rest.push(Number(frame.checkpoint.sequenceNumber));
      end = frame.end;
    }
    expect(rest).toEqual(Array.from({ length: 15 }, (_, i) => 15 + i));
    expect(end?.reason).toBe(GrpcTypes.QueryEndReason.CHECKPOINT_BOUND);

    const down = [];
    for await (const frame of client.ledgerService.listCheckpoints({ startCheckpoint: 5n, endCheckpoint: 9n, options: { ordering: GrpcTypes.Ordering.DESCENDING } }).responses) {
      if (frame.checkpoint) down.push(Number(frame.checkpoint.sequenceNumber));
    }
    expect(down).toEqual([8, 7, 6, 5]);
  });

  it('filters: listEvents by our package matches the ground truth; a checkpoint filter keeps only matching checkpoints', async () => {
    const packageId = sim.ledger.packageId;
    const events = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<SuiGrpcClient['listEvents']>> = await client.listEvents({ filter: { emitModule: `${packageId}::payments` }, limit: 3, after: cursor ?? undefined });
      events.push(...page.events);
      cursor = page.hasNextPage ? page.endCursor : null;
    } while (cursor);
    const truth = sim.ledger.truth({ packages: [packageId] });
    expect(events.map((e) => [e.transactionDigest, e.eventIndex])).toEqual(truth.events.map((e) => [e.transactionDigest, e.eventIndex]));

    const matching: number[] = [];
    const filter = { terms: [{ literals: [{ negated: false, predicate: { oneofKind: 'affectedAddress' as const, affectedAddress: { address: watched } } }] }] };
    for await (const frame of client.ledgerService.listCheckpoints({ startCheckpoint: 1n, filter, options: { limit: 1000 } }).responses) {
      if (frame.checkpoint) matching.push(Number(frame.checkpoint.sequenceNumber));
    }
    const expected = [...new Set(sim.ledger.truth({ addresses: [watched], from: 1 }).balanceChanges.map((b) => b.checkpoint))];
    expect(matching).toEqual(expected);
    expect(matching.length).toBeGreaterThan(0);
  });

  it('refuses what it cannot simulate instead of ignoring it', async () => {
    const filter = { terms: [{ literals: [{ negated: false, predicate: { oneofKind: 'packageWrite' as const, packageWrite: {} } }] }] };
    const error = await rejection(client.ledgerService.listCheckpoints({ filter }).status);
    expect(error.code).toBe('UNIMPLEMENTED');
  });
});

describe('sui simulator: subscriptions', () => {
  it('streams the current checkpoint, then new ones as they are made', async () => {
    const { sim, client } = await simulator({ seed: 2 });
    const abort = new AbortController();
    const call = client.subscriptionService.subscribeCheckpoints({ readMask: { paths: ['sequence_number', 'digest', 'summary.previous_digest'] } }, { abort: abort.signal });
    const seen: GrpcTypes.SubscribeCheckpointsResponse[] = [];
    for await (const message of call.responses) {
      seen.push(message);
      if (seen.length === 1) {
        sim.ledger.makeCheckpoint();
        sim.ledger.emitCheckpoints(2);
      }
      if (seen.length === 4) break;
    }
    abort.abort();
    expect(seen.map((m) => m.cursor)).toEqual([0n, 1n, 2n, 3n]);
    seen.slice(1).forEach((m, i) => expect(m.checkpoint!.summary!.previousDigest).toBe(seen[i]!.checkpoint!.digest));
  });

  it('a dropped stream fails with UNAVAILABLE after N messages; the gap is filled with ListCheckpoints', async () => {
    const { sim, client } = await simulator({ seed: 3, faults: { methods: { SubscribeCheckpoints: { dropAfterMessages: 3 } } } });
    const received: bigint[] = [];
    const call = client.subscriptionService.subscribeCheckpoints({});
    const drained = (async () => {
      for await (const message of call.responses) {
        received.push(message.cursor!);
        if (received.length === 1) sim.ledger.emitCheckpoints(5);
      }
    })();
    const error = await rejection(drained);
    expect(error.code).toBe('UNAVAILABLE');
    expect(received).toEqual([0n, 1n, 2n]);
    expect(sim.stats().injected.drop).toBe(1);
    const gap = await listAll(client, Number(received.at(-1)!) + 1, sim.ledger.height + 1, ['sequence_number']);
    expect(gap.map((c) => c.sequenceNumber)).toEqual([3n, 4n, 5n]);
  });

  it('cuts off a subscriber that falls too far behind, and can drop a stream by time or by cutting the connection', async () => {
    const { sim, client } = await simulator({ seed: 4, subscriptionBuffer: 10 });
    const call = client.subscriptionService.subscribeCheckpoints({});
    let count = 0;
    const error = await rejection(
      (async () => {
        for await (const _ of call.responses) if (++count === 1) sim.ledger.emitCheckpoints(50);
      })(),
    );
    expect(error.code).toBe('RESOURCE_EXHAUSTED');

    sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMs: 100 } } });
    const started = Date.now();
    const timed = await rejection(
      (async () => {
        for await (const _ of client.subscriptionService.subscribeCheckpoints({}).responses);
      })(),
    );
    expect(timed.code).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);

    sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMessages: 1, dropAs: 'reset' } } });
    const cut = await rejection(
      (async () => {
        for await (const _ of client.subscriptionService.subscribeCheckpoints({}).responses);
      })(),
    );
    expect(cut.code).not.toBe('OK');
  });
});

describe('sui simulator: state and transactions', () => {
  let sim: SuiSimulator;
  let client: SuiGrpcClient;
  const alice = keypair(7);
  const me = alice.toSuiAddress();
  beforeAll(async () => {
    ({ sim, client } = await simulator({ seed: 5 }));
    sim.ledger.fund(me, SUI_TYPE, 10n * SUI, 4);
    sim.ledger.fund(me, sim.ledger.cusdType, 1_000_000_000n, 2);
    sim.ledger.makeCheckpoint();
  });
  afterEach(() => sim.setFaults({}));

  it('serves balances and owned coins with their object references, paged', async () => {
    expect((await client.getBalance({ owner: me })).balance).toMatchObject({ balance: (10n * SUI).toString(), coinBalance: (10n * SUI).toString() });
    const { balances } = await client.listBalances({ owner: me });
    expect(balances.map((b) => [b.coinType, b.balance]).sort()).toEqual([
      [sim.ledger.cusdType, '1000000000'],
      [SUI_TYPE, (10n * SUI).toString()],
    ].sort());
    const coins = await coinRefs(client, me);
    expect(coins).toHaveLength(4);
    expect(coins.reduce((s, c) => s + c.balance, 0n)).toBe(10n * SUI);
    expect(coins.every((c) => c.version === '1' && c.digest.length >= 43)).toBe(true);
    const first = await client.listCoins({ owner: me, limit: 3 });
    const second = await client.listCoins({ owner: me, limit: 3, cursor: first.cursor });
    expect(first.hasNextPage).toBe(true);
    expect([...first.objects, ...second.objects].map((o) => o.objectId)).toEqual(coins.map((c) => c.objectId));
    const object = await client.getObject({ objectId: coins[0]!.objectId });
    expect(object.object).toMatchObject({ version: '1', digest: coins[0]!.digest, owner: { AddressOwner: me } });
    expect(await coinRefs(client, me, sim.ledger.cusdType)).toHaveLength(2);
  });

  it('executes a SUI transfer: digest known before sending, effects, balance changes, then in the next checkpoint', async () => {
    const [gas] = await coinRefs(client, me);
    const t = await signed(alice, gas!, transfer(123_456n));
    const result = await execute(client, t);
    const done = result.Transaction!;
    expect(done.digest).toBe(t.digest);
    expect(done.effects!.status.success).toBe(true);
    expect(done.effects!.gasObject).toMatchObject({ objectId: gas!.objectId, inputVersion: '1', outputVersion: '2' });
    expect(done.transaction!.sender).toBe(me);
    const charged = BigInt(done.effects!.gasUsed.computationCost!) + BigInt(done.effects!.gasUsed.storageCost!) - BigInt(done.effects!.gasUsed.storageRebate!);
    expect(done.balanceChanges).toEqual(expect.arrayContaining([
      { coinType: SUI_TYPE, address: stranger, amount: '123456' },
      { coinType: SUI_TYPE, address: me, amount: (-(123_456n + charged)).toString() },
    ]));
    expect(done.checkpoint).toBeNull();
    // Executed, so visible by digest at once, but not final before its checkpoint.
    expect((await client.waitForTransaction({ digest: t.digest })).Transaction!.checkpoint).toBeNull();
    const seq = sim.ledger.makeCheckpoint();
    const fetched = await client.getTransaction({ digest: t.digest, include: { effects: true } });
    expect(fetched.Transaction!.checkpoint).toBe(String(seq));
    const checkpoint = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: BigInt(seq) }, readMask: { paths: ['transactions.digest'] } })).response.checkpoint!;
    expect(checkpoint.transactions.map((x) => x.digest)).toEqual([expect.any(String), t.digest]);
    expect((await client.getBalance({ owner: stranger })).balance.balance).toBe('123456');
  });

  it('executes a cUSD transfer of a coin object, gas paid in SUI', async () => {
    const [gas] = await coinRefs(client, me);
    const [cusd] = await coinRefs(client, me, sim.ledger.cusdType);
    const t = await signed(alice, gas!, (tx) => {
      const [part] = tx.splitCoins(tx.objectRef(cusd!), [250_000n]);
      tx.transferObjects([part!], stranger);
    });
    const done = (await execute(client, t)).Transaction!;
    expect(done.balanceChanges).toEqual(expect.arrayContaining([
      { coinType: sim.ledger.cusdType, address: stranger, amount: '250000' },
      { coinType: sim.ledger.cusdType, address: me, amount: '-250000' },
    ]));
    const after = await client.getObject({ objectId: cusd!.objectId, include: { content: true } });
    expect(BigInt(after.object.version)).toBeGreaterThan(BigInt(cusd!.version));
  });

  it('executes payments::pay: a PaymentSent event with our BCS fields, the coin moved to the recipient', async () => {
    const [gas] = await coinRefs(client, me);
    const [cusd] = await coinRefs(client, me, sim.ledger.cusdType);
    const t = await signed(alice, gas!, (tx) => {
      const [part] = tx.splitCoins(tx.objectRef(cusd!), [42_000n]);
      tx.moveCall({ target: `${sim.ledger.packageId}::payments::pay`, typeArguments: [sim.ledger.cusdType], arguments: [part!, tx.pure.address(stranger), tx.pure.string('order 17')] });
    });
    const done = (await execute(client, t)).Transaction!;
    expect(done.status.success).toBe(true);
    expect(done.events).toHaveLength(1);
    const event = done.events![0]!;
    expect(event).toMatchObject({ packageId: sim.ledger.packageId, module: 'payments', sender: me, eventType: paymentSentType(sim.ledger.packageId) });
    expect(PaymentSent.parse(event.bcs)).toEqual({ payer: me, recipient: stranger, amount: '42000', coin_type: sim.ledger.cusdType, memo: 'order 17' });
    expect(event.json).toMatchObject({ amount: '42000', memo: 'order 17' });
    expect(done.balanceChanges).toEqual(expect.arrayContaining([{ coinType: sim.ledger.cusdType, address: stranger, amount: '42000' }]));
    sim.ledger.makeCheckpoint();
    const listed = await client.listEvents({ filter: { eventType: paymentSentType(sim.ledger.packageId) } });
    expect(listed.events.map((e) => e.transactionDigest)).toContain(t.digest);
  });

  it('an aborted Move call fails in effects with its abort code and module; only gas is charged', async () => {
    const [gas] = await coinRefs(client, me);
    const [cusd] = await coinRefs(client, me, sim.ledger.cusdType);
    const before = await client.getBalance({ owner: me, coinType: sim.ledger.cusdType });
    const zero = await signed(alice, gas!, (tx) => {
      const [empty] = tx.splitCoins(tx.objectRef(cusd!), [0n]);
      tx.moveCall({ target: `${sim.ledger.packageId}::payments::pay`, typeArguments: [sim.ledger.cusdType], arguments: [empty!, tx.pure.address(stranger), tx.pure.string('nothing')] });
    });
    const failed = (await execute(client, zero)).FailedTransaction!;
    expect(failed.status.error).toMatchObject({ $kind: 'MoveAbort', command: 1, MoveAbort: { abortCode: '1', location: { module: 'payments', functionName: 'pay', package: sim.ledger.packageId } } });
    expect(failed.events).toEqual([]);
    expect(failed.balanceChanges!.every((b) => b.coinType === SUI_TYPE && b.address === me)).toBe(true);
    expect((await client.getBalance({ owner: me, coinType: sim.ledger.cusdType })).balance.balance).toBe(before.balance.balance);
    // Owned inputs still move to a new version on failure.
    expect(BigInt((await client.getObject({ objectId: cusd!.objectId })).object.version)).toBeGreaterThan(BigInt(cusd!.version));

    const [gas2] = await coinRefs(client, me);
    const custom = await signed(alice, gas2!, (tx) => tx.moveCall({ target: `${sim.ledger.packageId}::payments::abort_with`, arguments: [tx.pure.u64(42)] }));
    expect((await execute(client, custom)).FailedTransaction!.status.error).toMatchObject({ $kind: 'MoveAbort', MoveAbort: { abortCode: '42', location: { module: 'payments', functionName: 'abort_with' } } });
  });

  it('insufficient gas: a budget below the cost fails in effects and costs the budget; a gas coin below the budget is refused', async () => {
    const [gas] = await coinRefs(client, me);
    const before = BigInt((await client.getBalance({ owner: me })).balance.balance);
    const tight = await signed(alice, gas!, transfer(1n), 1_000_000);
    const failed = (await execute(client, tight)).FailedTransaction!;
    expect(failed.status.error?.message).toBe('InsufficientGas');
    expect(BigInt((await client.getBalance({ owner: me })).balance.balance)).toBe(before - 1_000_000n);

    const poor = keypair(8);
    sim.ledger.fund(poor.toSuiAddress(), SUI_TYPE, 500_000n);
    const [small] = await coinRefs(client, poor.toSuiAddress());
    const refused = await rejection(execute(client, await signed(poor, small!, transfer(1n), 1_000_000)));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.message).toMatch(/lower than the needed amount/);
    const lowBudget = await rejection(execute(client, await signed(poor, small!, transfer(1n), 999)));
    expect(lowBudget.message).toMatch(/Gas budget: 999 is lower than min/);
  });

  it('equivocation: a second transaction on one gas coin version is refused and the coin stays locked until the epoch ends', async () => {
    const bob = keypair(9);
    sim.ledger.fund(bob.toSuiAddress(), SUI_TYPE, 5n * SUI);
    const [gas] = await coinRefs(client, bob.toSuiAddress());
    const first = await signed(bob, gas!, transfer(1_000n));
    const second = await signed(bob, gas!, transfer(2_000n));
    expect((await execute(client, first)).Transaction!.status.success).toBe(true);
    const equivocated = await rejection(execute(client, second));
    expect(equivocated.code).toBe('FAILED_PRECONDITION');
    expect(equivocated.message).toMatch(/equivocated/);
    expect(equivocated.message).toContain(first.digest);
    // Even its new version is refused until the epoch ends.
    const [current] = await coinRefs(client, bob.toSuiAddress());
    expect(current!.version).not.toBe(gas!.version);
    const third = await signed(bob, current!, transfer(3_000n));
    expect((await rejection(execute(client, third))).message).toMatch(/equivocated/);
    const epoch = sim.ledger.advanceEpoch();
    expect(epoch).toBe(1);
    expect((await execute(client, third)).Transaction!.status.success).toBe(true);
    // The consumed version is now simply stale.
    const stale = await rejection(execute(client, second));
    expect(stale.code).toBe('INVALID_ARGUMENT');
    expect(stale.message).toMatch(/is not available for consumption, current version/);
  });

  it('resubmitting the same signed transaction is idempotent; a bad signature is refused', async () => {
    const [gas] = await coinRefs(client, me);
    const t = await signed(alice, gas!, transfer(5n));
    const once = (await execute(client, t)).Transaction!;
    const twice = (await execute(client, t)).Transaction!;
    expect(twice.digest).toBe(once.digest);
    expect(twice.effects!.gasObject!.outputVersion).toBe(once.effects!.gasObject!.outputVersion);
    const [gas2] = await coinRefs(client, me);
    const mallory = keypair(10);
    const forged = await signed(alice, gas2!, transfer(5n));
    const { signature } = await mallory.signTransaction(forged.bytes);
    const refused = await rejection(execute(client, { bytes: forged.bytes, signature }));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.message).toMatch(/Required Signature from/);
  });

  it('simulates without changing state: gas and effects of a success, the abort of a failure', async () => {
    const [gas] = await coinRefs(client, me);
    const t = await signed(alice, gas!, transfer(77n));
    const dry = await client.simulateTransaction({ transaction: t.bytes, include: { effects: true, balanceChanges: true } });
    expect(dry.Transaction!.digest).toBe(t.digest);
    expect(BigInt(dry.Transaction!.effects!.gasUsed.computationCost!)).toBeGreaterThan(0n);
    expect(dry.Transaction!.balanceChanges).toEqual(expect.arrayContaining([{ coinType: SUI_TYPE, address: stranger, amount: '77' }]));
    expect((await client.getObject({ objectId: gas!.objectId })).object.version).toBe(gas!.version);
    const abort = await signed(alice, gas!, (tx) => tx.moveCall({ target: `${sim.ledger.packageId}::payments::abort_with`, arguments: [tx.pure.u64(7)] }));
    const failed = await client.simulateTransaction({ transaction: abort.bytes, include: { effects: true } });
    expect(failed.FailedTransaction!.status.error).toMatchObject({ $kind: 'MoveAbort', MoveAbort: { abortCode: '7' } });
    // The real transaction still goes through afterwards: nothing was locked by the dry run.
    expect((await execute(client, t)).Transaction!.status.success).toBe(true);
  });

  it('resolves for build({ client }): objects by id, gas coins and budget picked by SimulateTransaction; an abort fails the build', async () => {
    const carol = keypair(12);
    sim.ledger.fund(carol.toSuiAddress(), SUI_TYPE, 3n * SUI);
    const [cusd] = sim.ledger.fund(carol.toSuiAddress(), sim.ledger.cusdType, 9_000n);
    const tx = new Transaction();
    const [part] = tx.splitCoins(tx.object(cusd!.objectId), [4_000n]);
    tx.moveCall({ target: `${sim.ledger.packageId}::payments::pay`, typeArguments: [sim.ledger.cusdType], arguments: [part!, tx.pure.address(stranger), tx.pure.string('built by the SDK')] });
    const result = await client.signAndExecuteTransaction({ transaction: tx, signer: carol, include: { effects: true, events: true } });
    expect(result.Transaction!.events!.map((e) => PaymentSent.parse(e.bcs).amount)).toEqual(['4000']);
    const gasData = tx.getData().gasData;
    expect(gasData.payment!.map((p) => p.objectId)).toEqual((await coinRefs(client, carol.toSuiAddress())).map((c) => c.objectId));
    const used = result.Transaction!.effects!.gasUsed;
    expect(BigInt(gasData.budget!)).toBe(BigInt(used.computationCost!) + BigInt(used.storageCost!));
    expect(sim.stats().calls.SimulateTransaction).toBeGreaterThanOrEqual(1);

    const failing = new Transaction();
    failing.moveCall({ target: `${sim.ledger.packageId}::payments::abort_with`, arguments: [failing.pure.u64(5)] });
    await expect(client.signAndExecuteTransaction({ transaction: failing, signer: carol })).rejects.toThrow(/abort code: 5/);
  });

  it('faults: injected UNAVAILABLE and INTERNAL at their rates, latency, and a reply lost after execution', async () => {
    sim.setFaults({ seed: 3, methods: { GetServiceInfo: { unavailableRate: 0.3, internalRate: 0.2 } } });
    const codes: string[] = [];
    for (let i = 0; i < 60; i++) {
      codes.push(await client.ledgerService.getServiceInfo({}).response.then(() => 'OK', (e: RpcError) => e.code));
    }
    const count = (code: string) => codes.filter((c) => c === code).length;
    expect(count('UNAVAILABLE')).toBeGreaterThan(5);
    expect(count('INTERNAL')).toBeGreaterThan(3);
    expect(count('OK')).toBeGreaterThan(15);
    expect(sim.stats().injected).toMatchObject({ unavailable: count('UNAVAILABLE'), internal: count('INTERNAL') });
    expect(sim.stats().calls.GetServiceInfo).toBeGreaterThanOrEqual(60);

    sim.setFaults({ methods: { GetBalance: { latencyMs: 200 } } });
    const started = Date.now();
    await client.getBalance({ owner: me });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    sim.setFaults({ methods: { ExecuteTransaction: { failAfterRate: 1 } } });
    const [gas] = await coinRefs(client, me);
    const t = await signed(alice, gas!, transfer(9n));
    expect((await rejection(execute(client, t))).code).toBe('UNAVAILABLE');
    sim.setFaults({});
    // It did execute: found by digest, and a resubmission answers its effects.
    expect((await client.getTransaction({ digest: t.digest })).Transaction?.digest).toBe(t.digest);
    expect((await execute(client, t)).Transaction!.status.success).toBe(true);
  });

  it('speaks binary grpc-web too, unary and streaming', async () => {
    const binary = new SuiGrpcClient({ network: 'localnet', baseUrl: sim.url, format: 'binary' });
    expect((await binary.getBalance({ owner: me })).balance.balance).toBe((await client.getBalance({ owner: me })).balance.balance);
    const sequence: bigint[] = [];
    for await (const frame of binary.ledgerService.listCheckpoints({ startCheckpoint: 0n, endCheckpoint: 3n }).responses) if (frame.checkpoint) sequence.push(frame.checkpoint.sequenceNumber!);
    expect(sequence).toEqual([0n, 1n, 2n]);
  });
});

describe('sui simulator: generated traffic', () => {
  it('is deterministic: the same seed and steps give the same checkpoints, another seed does not', async () => {
    const run = async (seed: number) => {
      const { sim, client } = await simulator({ seed });
      sim.ledger.emitCheckpoints(30, { addresses: [keypair(1).toSuiAddress()], relevantEvery: 3 });
      const checkpoints = await listAll(client, 0, 31, ['digest', 'transactions.digest', 'transactions.balance_changes', 'transactions.events']);
      return checkpoints.map((c) => GrpcTypes.Checkpoint.toJson(c));
    };
    const [a, b, c] = await Promise.all([run(21), run(21), run(22)]);
    expect(a).toHaveLength(31);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("the ground truth equals what the served checkpoints hold, and watched balances equal the sum of their changes", async () => {
    const watched = [keypair(1).toSuiAddress(), keypair(2).toSuiAddress()];
    const { sim, client } = await simulator({ seed: 31 });
    const packages = [sim.ledger.packageId];
    const range = sim.ledger.emitCheckpoints(300, { packages, addresses: watched, relevantEvery: 5, failureRate: 0.2 });
    const served = await listAll(client, range.from, range.to + 1);
    const events: string[] = [];
    const changes: string[] = [];
    for (const checkpoint of served) {
      checkpoint.transactions.forEach((tx, index) => {
        tx.events?.events.forEach((e, i) => {
          if (e.packageId === sim.ledger.packageId) events.push(`${checkpoint.sequenceNumber}/${index}/${i}/${e.eventType}/${Buffer.from(e.contents!.value!).toString('base64')}`);
        });
        for (const b of tx.balanceChanges) if (watched.includes(b.address!)) changes.push(`${checkpoint.sequenceNumber}/${index}/${b.address}/${b.coinType}/${b.amount}`);
      });
    }
    const truth = sim.ledger.truth({ packages, addresses: watched, from: range.from, to: range.to });
    expect(events).toEqual(truth.events.map((e) => `${e.checkpoint}/${e.transactionIndex}/${e.eventIndex}/${e.eventType}/${Buffer.from(e.bcs).toString('base64')}`));
    expect(changes).toEqual(truth.balanceChanges.map((b) => `${b.checkpoint}/${b.transactionIndex}/${b.address}/${b.coinType}/${b.amount}`));
    expect(truth.events.length).toBeGreaterThan(5);
    // Aborted payments are served as failures with their abort, and emit nothing.
    const failed = served.flatMap((c) => c.transactions.filter((t) => t.effects?.status?.success === false));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBe(truth.transactions.filter((t) => !t.success).length);
    for (const tx of failed) {
      expect(tx.effects!.status!.error!.errorDetails).toMatchObject({ oneofKind: 'abort', abort: { abortCode: 1n, location: { module: 'payments', functionName: 'pay' } } });
      expect(tx.events?.events ?? []).toEqual([]);
    }
    for (const address of watched) {
      for (const coinType of [SUI_TYPE, sim.ledger.cusdType]) {
        const sum = truth.balanceChanges.filter((b) => b.address === address && b.coinType === coinType).reduce((s, b) => s + b.amount, 0n);
        expect((await client.getBalance({ owner: address, coinType })).balance).toMatchObject({ balance: sum.toString(), addressBalance: sum.toString() });
      }
    }
  });

  it('makes checkpoints on a timer, with generated traffic when nothing is pending', async () => {
    const { sim, client } = await simulator({ seed: 41, autoCheckpointMs: 30, autoTraffic: { relevantEvery: 1 } });
    const start = sim.ledger.height;
    await new Promise((r) => setTimeout(r, 400));
    const { response } = await client.ledgerService.getServiceInfo({});
    expect(Number(response.checkpointHeight)).toBeGreaterThan(start + 3);
    const last = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: undefined }, readMask: { paths: ['transactions.events'] } })).response.checkpoint!;
    expect(last.transactions.length).toBeGreaterThan(1);
  });

  it('generates 100,000 checkpoints quickly and serves any of them', async () => {
    const { sim, client } = await simulator({ seed: 51 });
    const started = performance.now();
    const range = sim.ledger.emitCheckpoints(100_000, { addresses: [keypair(3).toSuiAddress()], relevantEvery: 50 });
    const elapsed = performance.now() - started;
    expect(range.to).toBe(100_000);
    // About 20 µs a checkpoint here; the bound leaves room for a loaded machine.
    expect(elapsed).toBeLessThan(20_000);
    const far = (await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: 99_999n }, readMask: { paths: ['digest', 'transactions.digest'] } })).response.checkpoint!;
    const tx = await client.getTransaction({ digest: far.transactions[1]!.digest!, include: { effects: true } });
    expect(tx.Transaction?.checkpoint ?? tx.FailedTransaction?.checkpoint).toBe('99999');
  });
});
