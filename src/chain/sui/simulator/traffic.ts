/**
 * Generated traffic: checkpoints filled with a seeded mix of relevant transactions (calls to our
 * packages' `payments::pay`, transfers to and from watched addresses) and unrelated ones
 * (transfers between strangers, swaps on foreign packages). Nothing is stored per checkpoint:
 * a checkpoint's transactions are a pure function of (seed, sequence number, segment), computed
 * again whenever it is read, so 100,000 checkpoints cost a few bytes each.
 *
 * Watched addresses hold generated money in their address balances (Sui's balance
 * accumulators); a segment opens with a deposit that covers everything they pay in it, so
 * their balances never go below zero and GetBalance agrees with the balance changes.
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { fromBase58, normalizeSuiAddress, toBase58 } from '@mysten/sui/utils';
import { bcs } from '@mysten/sui/bcs';
import { NON_REFUNDABLE_PER_OBJECT, REBATE_PER_OBJECT, STORAGE_PER_OBJECT, UNITS_PER_COMMAND } from './execute.js';
import { E_ZERO_AMOUNT, PAYMENTS_MODULE, paymentEvent, swapEvent } from './move.js';
import { objectDigest } from './objects.js';
import type { BalanceChangeRecord, ChangedObjectRecord, GasCost, TxRecord } from './records.js';
import { Prng, SUI_TYPE, coinObjectType, mix32, seededAddress } from './util.js';

export interface TrafficPlan {
  /** Every Nth checkpoint of the segment (starting with its first) carries one relevant transaction. */
  relevantEvery: number;
  /** Our packages: relevant payments call their `payments::pay`. */
  packages: string[];
  /** Watched addresses: relevant transfers and payments move money to and from them. */
  addresses: string[];
  /** Unrelated user transactions in every checkpoint. */
  transactionsPerCheckpoint: number;
  /** Share of relevant payments that abort (E_ZERO_AMOUNT): they emit nothing and only pay gas. */
  failureRate: number;
}

export interface Segment {
  index: number;
  from: number;
  to: number;
  plan: TrafficPlan;
  /** What the opening deposit gives each watched address, per coin type. */
  deposits: BalanceChangeRecord[];
}

/** What the ledger lends generated transactions. */
export interface TrafficContext {
  seed: number;
  cusdType: string;
  faucet: string;
  referenceGasPrice: bigint;
  foreignPackages: readonly string[];
}

/** A watched address, or a stranger drawn as a seed (its address is spun only when needed). */
type Party = { watched: true; address: string } | { watched: false; seed: number };

export type Synthetic =
  | { kind: 'deposit' }
  | { kind: 'payment'; pkg: string; payer: Party; recipient: Party; amount: bigint; coinType: string; memo: string; fails: boolean }
  | { kind: 'transfer'; from: Party; to: Party; amount: bigint; coinType: string }
  | { kind: 'swap'; pkg: string; trader: Party; pool: number; amountIn: bigint; amountOut: bigint };

const addressOf = (party: Party) => (party.watched ? party.address : seededAddress(party.seed));

const FRAMEWORK = normalizeSuiAddress('0x2');

/**
 * A digest that says where its transaction sits: bytes 0-5 are the checkpoint, 6-7 the index,
 * the rest a hash. The ledger finds a generated transaction by its digest without an index.
 */
export function positionalDigest(seed: number, checkpoint: number, index: number): string {
  // The position makes it unique; the PRNG only has to make it look random (and is cheaper than SHA-256).
  const rng = new Prng(mix32(seed, checkpoint, index, 0x7d));
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, rng.u32());
  view.setUint16(0, Math.floor(checkpoint / 2 ** 32));
  view.setUint32(2, checkpoint >>> 0);
  view.setUint16(6, index);
  // Masked with the hashed tail, so that digests look as random as Sui's (no run of leading 1s).
  for (let i = 0; i < 8; i++) bytes[i]! ^= positionMask(bytes, i);
  return toBase58(bytes);
}

function positionMask(bytes: Uint8Array, i: number): number {
  return bytes[8 + i]! ^ bytes[16 + i]! ^ bytes[24 + i]!;
}

export function decodePosition(digest: string): { checkpoint: number; index: number } | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fromBase58(digest);
  } catch {
    return undefined;
  }
  if (bytes.length !== 32) return undefined;
  for (let i = 0; i < 8; i++) bytes[i]! ^= positionMask(bytes, i);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { checkpoint: view.getUint16(0) * 2 ** 32 + view.getUint32(2), index: view.getUint16(6) };
}

function amountOf(rng: Prng): bigint {
  return BigInt(rng.int(1, 1_000_000)) * 1_000n;
}

/** The user transactions of checkpoint `seq` of a segment, before the consensus prologue is added. */
export function describe(ctx: TrafficContext, segment: Segment, seq: number): Synthetic[] {
  const { plan } = segment;
  const rng = new Prng(mix32(ctx.seed, seq, segment.index));
  const coinType = () => (rng.chance(0.5) ? SUI_TYPE : ctx.cusdType);
  const stranger = (): Party => ({ watched: false, seed: rng.u32() });
  const txs: Synthetic[] = [];
  for (let k = 0; k < plan.transactionsPerCheckpoint; k++) {
    if (rng.chance(0.5)) txs.push({ kind: 'transfer', from: stranger(), to: stranger(), amount: amountOf(rng), coinType: coinType() });
    else txs.push({ kind: 'swap', pkg: rng.pick(ctx.foreignPackages), trader: stranger(), pool: rng.u32(), amountIn: amountOf(rng), amountOut: amountOf(rng) });
  }
  if ((seq - segment.from) % plan.relevantEvery === 0) {
    const kinds = [...(plan.packages.length > 0 ? ['payment', 'payment'] : []), ...(plan.addresses.length > 0 ? ['incoming', 'outgoing'] : [])];
    const watched = (): Party => ({ address: rng.pick(plan.addresses), watched: true });
    const kind = kinds.length > 0 ? rng.pick(kinds) : undefined;
    let relevant: Synthetic | undefined;
    if (kind === 'payment') {
      const payer = plan.addresses.length > 0 && rng.chance(0.5) ? watched() : stranger();
      let recipient = plan.addresses.length > 0 && rng.chance(0.5) ? watched() : stranger();
      if (recipient.watched && payer.watched && recipient.address === payer.address) recipient = stranger();
      const fails = rng.chance(plan.failureRate);
      const amount = amountOf(rng);
      relevant = { kind: 'payment', pkg: rng.pick(plan.packages), payer, recipient, amount: fails ? 0n : amount, coinType: coinType(), memo: `invoice-${seq}`, fails };
    } else if (kind === 'incoming') {
      relevant = { kind: 'transfer', from: stranger(), to: watched(), amount: amountOf(rng), coinType: coinType() };
    } else if (kind === 'outgoing') {
      relevant = { kind: 'transfer', from: watched(), to: stranger(), amount: amountOf(rng), coinType: coinType() };
    }
    if (relevant) txs.splice(rng.int(0, txs.length), 0, relevant);
  }
  if (seq === segment.from && segment.deposits.length > 0) txs.unshift({ kind: 'deposit' });
  return txs;
}

export function syntheticGas(ctx: TrafficContext): GasCost {
  return { computation: ctx.referenceGasPrice * UNITS_PER_COMMAND, storage: STORAGE_PER_OBJECT, rebate: REBATE_PER_OBJECT, nonRefundable: NON_REFUNDABLE_PER_OBJECT };
}

/** Whether a generated transaction moves money of a watched address (only those change GetBalance). */
export function touchesWatched(tx: Synthetic): boolean {
  switch (tx.kind) {
    case 'deposit':
      return true;
    case 'payment':
      return tx.payer.watched || tx.recipient.watched;
    case 'transfer':
      return tx.from.watched || tx.to.watched;
    case 'swap':
      return tx.trader.watched;
  }
}

function senderOf(tx: Synthetic, ctx: TrafficContext): { address: string; watched: boolean } {
  switch (tx.kind) {
    case 'deposit':
      return { address: ctx.faucet, watched: false };
    case 'payment':
      return { address: addressOf(tx.payer), watched: tx.payer.watched };
    case 'transfer':
      return { address: addressOf(tx.from), watched: tx.from.watched };
    case 'swap':
      return { address: addressOf(tx.trader), watched: tx.trader.watched };
  }
}

/** Balance changes of a generated transaction: the same numbers feed GetBalance and the checkpoints. */
export function balanceChanges(tx: Synthetic, segment: Segment, ctx: TrafficContext): BalanceChangeRecord[] {
  const gas = syntheticGas(ctx);
  const deltas = new Map<string, BalanceChangeRecord>();
  const add = (address: string, coinType: string, amount: bigint) => {
    const key = `${address}|${coinType}`;
    const entry = deltas.get(key) ?? { address, coinType, amount: 0n };
    entry.amount += amount;
    deltas.set(key, entry);
  };
  add(senderOf(tx, ctx).address, SUI_TYPE, -(gas.computation + gas.storage - gas.rebate));
  if (tx.kind === 'deposit') {
    for (const d of segment.deposits) {
      add(d.address, d.coinType, d.amount);
      add(ctx.faucet, d.coinType, -d.amount);
    }
  } else if (tx.kind === 'payment' || tx.kind === 'transfer') {
    const [from, to] = tx.kind === 'payment' ? [tx.payer, tx.recipient] : [tx.from, tx.to];
    add(addressOf(from), tx.coinType, -tx.amount);
    add(addressOf(to), tx.coinType, tx.amount);
  } else {
    const trader = addressOf(tx.trader);
    add(trader, SUI_TYPE, -tx.amountIn);
    add(trader, ctx.cusdType, tx.amountOut);
  }
  return [...deltas.values()].filter((d) => d.amount !== 0n).sort((a, b) => (a.address + a.coinType < b.address + b.coinType ? -1 : 1));
}

const { Input_InputKind: InputKind, Argument_ArgumentKind: ArgKind, TransactionKind_Kind: Kind, TransactionExpiration_TransactionExpirationKind: Expiration } = GrpcTypes;
const input = (i: number): GrpcTypes.Argument => ({ kind: ArgKind.INPUT, input: i });
const pure = (bytes: Uint8Array): GrpcTypes.Input => ({ kind: InputKind.PURE, pure: bytes });
const nested = (result: number, subresult: number): GrpcTypes.Argument => ({ kind: ArgKind.RESULT, result, subresult });
const call = (pkg: string, module: string, fn: string, typeArguments: string[], args: GrpcTypes.Argument[]): GrpcTypes.Command => ({
  command: { oneofKind: 'moveCall', moveCall: { package: pkg, module, function: fn, typeArguments, arguments: args } },
});

/** A plausible programmable transaction for a generated one: the shape, not an executable copy. */
function programmable(tx: Synthetic, segment: Segment, ctx: TrafficContext, gasCoin: string | undefined): GrpcTypes.Transaction {
  const sender = senderOf(tx, ctx);
  const inputs: GrpcTypes.Input[] = [];
  const commands: GrpcTypes.Command[] = [];
  // Money leaves a watched address from its address balance, anyone else's from a coin.
  const source = (coinType: string, amount: bigint) => {
    inputs.push(pure(bcs.u64().serialize(amount).toBytes()));
    if (sender.watched) {
      inputs.push({ kind: InputKind.FUNDS_WITHDRAWAL, fundsWithdrawal: { amount, coinType, source: 1 } });
      commands.push(call(FRAMEWORK, 'coin', 'redeem_funds', [coinType], [input(inputs.length - 1)]));
    } else {
      commands.push({ command: { oneofKind: 'splitCoins', splitCoins: { coin: { kind: ArgKind.GAS }, amounts: [input(inputs.length - 1)] } } });
    }
    return nested(commands.length - 1, 0);
  };
  const recipient = (address: string) => {
    inputs.push(pure(bcs.Address.serialize(address).toBytes()));
    return input(inputs.length - 1);
  };
  if (tx.kind === 'deposit') {
    for (const deposit of segment.deposits) commands.push(call(FRAMEWORK, 'coin', 'send_funds', [deposit.coinType], [source(deposit.coinType, deposit.amount), recipient(deposit.address)]));
  } else if (tx.kind === 'payment') {
    const coin = source(tx.coinType, tx.amount);
    const to = recipient(addressOf(tx.recipient));
    inputs.push(pure(bcs.string().serialize(tx.memo).toBytes()));
    commands.push(call(tx.pkg, PAYMENTS_MODULE, 'pay', [tx.coinType], [coin, to, input(inputs.length - 1)]));
  } else if (tx.kind === 'transfer') {
    const coin = source(tx.coinType, tx.amount);
    const to = recipient(addressOf(tx.to));
    if (tx.to.watched) commands.push(call(FRAMEWORK, 'coin', 'send_funds', [tx.coinType], [coin, to]));
    else commands.push({ command: { oneofKind: 'transferObjects', transferObjects: { objects: [coin], address: to } } });
  } else {
    const coin = source(SUI_TYPE, tx.amountIn);
    inputs.push({ kind: InputKind.SHARED, objectId: seededAddress(tx.pool), version: 1n, mutable: true });
    commands.push(call(tx.pkg, 'dex', 'swap', [SUI_TYPE, ctx.cusdType], [input(inputs.length - 1), coin]));
  }
  return {
    version: 1,
    kind: { kind: Kind.PROGRAMMABLE_TRANSACTION, data: { oneofKind: 'programmableTransaction', programmableTransaction: { inputs, commands } } },
    sender: sender.address,
    gasPayment: { objects: gasCoin ? [{ objectId: gasCoin, version: 1n, digest: objectDigest(gasCoin, 1n, sender.address, 0n) }] : [], owner: sender.address, price: ctx.referenceGasPrice, budget: 10_000_000n },
    expiration: { kind: Expiration.NONE },
  };
}

/** The full record of a generated transaction at (seq, index) of its checkpoint. */
export function synthesize(tx: Synthetic, segment: Segment, ctx: TrafficContext, seq: number, index: number, epoch: number): TxRecord {
  const sender = senderOf(tx, ctx);
  const failed = tx.kind === 'payment' && tx.fails;
  const events = [];
  if (tx.kind === 'payment' && !failed) {
    events.push(paymentEvent(tx.pkg, { payer: sender.address, recipient: addressOf(tx.recipient), amount: tx.amount, coinType: tx.coinType, memo: tx.memo }));
  } else if (tx.kind === 'swap') {
    events.push(swapEvent(tx.pkg, { pool: seededAddress(tx.pool), trader: sender.address, amountIn: tx.amountIn, amountOut: tx.amountOut }));
  }
  const moveCall = tx.kind === 'payment' ? `${tx.pkg}::${PAYMENTS_MODULE}::pay` : tx.kind === 'swap' ? `${tx.pkg}::dex::swap` : undefined;
  // Strangers pay gas with a coin (one changed object); watched addresses from their address balance.
  const gasCoin = sender.watched ? undefined : seededAddress(mix32(ctx.seed, seq, index, 7));
  const changedObjects = (): ChangedObjectRecord[] => {
    if (!gasCoin) return [];
    const owner = sender.address;
    return [{ objectId: gasCoin, objectType: coinObjectType(SUI_TYPE), input: { version: 1n, digest: objectDigest(gasCoin, 1n, owner, 0n), owner }, output: { version: 2n, digest: objectDigest(gasCoin, 2n, owner, 0n), owner }, operation: 'none' }];
  };
  let digest: string | undefined;
  return {
    // Base58 costs more than the rest of the record: spelled out only when read.
    get digest() {
      return (digest ??= positionalDigest(ctx.seed, seq, index));
    },
    kind: 'programmable',
    sender: sender.address,
    transaction: () => programmable(tx, segment, ctx, gasCoin),
    signatures: [],
    status: failed
      ? {
          success: false,
          error: {
            kind: GrpcTypes.ExecutionError_ExecutionErrorKind.MOVE_ABORT,
            description: `MoveAbort in ${PAYMENTS_MODULE}::pay with code ${E_ZERO_AMOUNT}`,
            command: 1n,
            errorDetails: { oneofKind: 'abort', abort: { abortCode: E_ZERO_AMOUNT, location: { package: tx.pkg, module: PAYMENTS_MODULE, function: 0, instruction: 0, functionName: 'pay' } } },
          },
        }
      : { success: true },
    gas: syntheticGas(ctx),
    gasObjectId: gasCoin,
    changedObjects,
    dependencies: [],
    lamport: gasCoin ? 2n : undefined,
    events,
    balanceChanges: balanceChanges(tx, segment, ctx),
    moveCalls: moveCall ? [moveCall] : [],
    epoch,
  };
}
