/**
 * Confío's Move packages, as far as an indexer sees them: their events (BCS layouts exactly as
 * the Move structs declare them, type names `<package>::<module>::<Struct>`) and the balance
 * changes their functions cause. Source: caesar4321/Confio, contracts/{cusd,pay,p2p_trade}
 * at commit 2b21654f (the last before the Move code was removed); see docs/sui-simulator.md,
 * "Confío's packages".
 *
 * The functions take shared objects (PauseState, FreezeRegistry, FeeCollector, TradeRegistry,
 * EscrowVault, the Clock), which the simulator does not model, so they are not callable through
 * ExecuteTransaction: `ledger.confio` makes their transactions directly, as `fund` does (unsigned,
 * no gas), with the real Move call in the transaction's commands, the real events and the
 * balance changes Sui would report. Sui reports balance changes from Coin<T> objects (and address balances) only, so
 * money going into or out of a Balance<T> held by a shared object (the Pay fee collector, the
 * escrow vault) or minted from the supply shows on one side only.
 *
 * Plain transfers (`transfer::public_transfer` of a Coin<CUSD>, and `cusd::transfer_cusd`, which
 * checks the freeze list and pause and then does the same) emit no event: balance changes only.
 */
import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { objectDigest, type Coin, type ObjectStore } from './objects.js';
import { NO_GAS, balanceChanges, type ChangedObjectRecord, type EventRecord, type TxRecord } from './records.js';
import { address, coinObjectType, digest58, normalizeType } from './util.js';

// ---- event layouts (field order and types as in the Move source) ---------------------------

/** Move gives a struct without fields one `dummy_field: bool` (false). */
const Empty = (name: string) => bcs.struct(name, { dummy_field: bcs.bool() });

/** Module `cusd::cusd`. */
export const CusdEvents = {
  CUSDMinted: bcs.struct('CUSDMinted', { amount: bcs.u64(), recipient: bcs.Address, deposit_address: bcs.Address }),
  CUSDBurned: bcs.struct('CUSDBurned', { amount: bcs.u64(), deposit_address: bcs.Address }),
  AddressFrozen: bcs.struct('AddressFrozen', { address: bcs.Address }),
  AddressUnfrozen: bcs.struct('AddressUnfrozen', { address: bcs.Address }),
  Paused: Empty('Paused'),
  Unpaused: Empty('Unpaused'),
};

/** Module `pay::pay`. `token_type` is b"CUSD" or b"CONFIO"; `timestamp` is the epoch's start (tx_context::epoch_timestamp_ms). */
export const PayEvents = {
  PaymentMade: bcs.struct('PaymentMade', {
    payer: bcs.Address,
    recipient: bcs.Address,
    amount: bcs.u64(),
    fee_amount: bcs.u64(),
    net_amount: bcs.u64(),
    token_type: bcs.vector(bcs.u8()),
    payment_id: bcs.vector(bcs.u8()),
    timestamp: bcs.u64(),
  }),
  FeesWithdrawn: bcs.struct('FeesWithdrawn', { admin: bcs.Address, recipient: bcs.Address, cusd_amount: bcs.u64(), confio_amount: bcs.u64(), timestamp: bcs.u64() }),
  FeeRecipientUpdated: bcs.struct('FeeRecipientUpdated', { old_recipient: bcs.Address, new_recipient: bcs.Address, timestamp: bcs.u64() }),
  SystemPaused: bcs.struct('SystemPaused', { timestamp: bcs.u64() }),
  SystemUnpaused: bcs.struct('SystemUnpaused', { timestamp: bcs.u64() }),
};

/** Module `p2p_trade::p2p_trade`. Timestamps are the Clock's (ms). TradeExpired is declared but never emitted. */
export const P2PTradeEvents = {
  TradeCreated: bcs.struct('TradeCreated', {
    trade_id: bcs.vector(bcs.u8()),
    seller: bcs.Address,
    amount: bcs.u64(),
    token_type: bcs.vector(bcs.u8()),
    fiat_amount: bcs.u64(),
    fiat_currency: bcs.vector(bcs.u8()),
    expires_at: bcs.u64(),
    timestamp: bcs.u64(),
  }),
  TradeAccepted: bcs.struct('TradeAccepted', { trade_id: bcs.vector(bcs.u8()), buyer: bcs.Address, timestamp: bcs.u64() }),
  TradeCompleted: bcs.struct('TradeCompleted', { trade_id: bcs.vector(bcs.u8()), seller: bcs.Address, buyer: bcs.Address, amount: bcs.u64(), token_type: bcs.vector(bcs.u8()), timestamp: bcs.u64() }),
  TradeCancelled: bcs.struct('TradeCancelled', { trade_id: bcs.vector(bcs.u8()), cancelled_by: bcs.Address, reason: bcs.vector(bcs.u8()), timestamp: bcs.u64() }),
  DisputeOpened: bcs.struct('DisputeOpened', { trade_id: bcs.vector(bcs.u8()), opened_by: bcs.Address, reason: bcs.vector(bcs.u8()), timestamp: bcs.u64() }),
  DisputeResolved: bcs.struct('DisputeResolved', { trade_id: bcs.vector(bcs.u8()), resolved_by: bcs.Address, winner: bcs.Address, timestamp: bcs.u64() }),
  TradeExpired: bcs.struct('TradeExpired', { trade_id: bcs.vector(bcs.u8()), timestamp: bcs.u64() }),
};

/** pay.move: FEE_PERCENTAGE / BASIS_POINTS = 90 / 10000 (0.9%), rounded down. */
export const PAY_FEE_BASIS_POINTS = 90n;
/** p2p_trade.move: TRADE_WINDOW_MS, 15 minutes. */
export const TRADE_WINDOW_MS = 900_000n;

export type ConfioToken = 'CUSD' | 'CONFIO';

export interface ConfioPackageIds {
  /** Publishes module `cusd` and the coin type `<cusd>::cusd::CUSD`. */
  cusd: string;
  /** Publishes module `confio` and the coin type `<confio>::confio::CONFIO`. */
  confio: string;
  pay: string;
  p2pTrade: string;
}

/** What the ledger lends the helpers: where objects live, the clock, and how to place a transaction. */
export interface ConfioHost {
  seed: number;
  objects: ObjectStore;
  epoch(): number;
  /** The Clock's time for a transaction made now (the next checkpoint's timestamp). */
  nowMs(): number;
  /** tx_context::epoch_timestamp_ms: when the current epoch began. */
  epochStartMs(): number;
  place(tx: TxRecord): void;
}

type Layout = { serialize(value: never): { toBytes(): Uint8Array } };

/** Sui's gRPC JSON rendering of a Move value: u64 as a decimal string, vector<u8> as base64, addresses 0x-long. */
function renderJson(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'bigint') out[key] = value.toString();
    else if (value instanceof Uint8Array) out[key] = Buffer.from(value).toString('base64');
    else out[key] = value;
  }
  return out;
}

function moveEvent(packageId: string, module: string, struct: string, sender: string, layout: Layout, fields: Record<string, unknown>): EventRecord {
  return {
    packageId,
    module,
    sender,
    eventType: `${packageId}::${module}::${struct}`,
    bcs: layout.serialize(fields as never).toBytes(),
    json: renderJson(fields),
  };
}

const bytes = (text: string | Uint8Array) => (typeof text === 'string' ? new TextEncoder().encode(text) : text);

interface Trade {
  seller: string;
  buyer?: string;
  amount: bigint;
  token: ConfioToken;
  expiresAt: bigint;
  status: 'pending' | 'active' | 'completed' | 'cancelled' | 'disputed';
}

const { TransactionKind_Kind: Kind, Input_InputKind: InputKind, Argument_ArgumentKind: ArgKind } = GrpcTypes;

/**
 * Confío's packages on the simulated chain, and test helpers that make their transactions.
 * Each helper puts one transaction in the pending list (it goes into the next checkpoint) and
 * returns its digest; a Move abort of the real function is thrown as an Error instead.
 */
export class ConfioPackages {
  readonly packages: ConfioPackageIds;
  readonly cusdType: string;
  readonly confioType: string;
  /** Holds AdminCap and TreasuryCap: the sender of mints and dispute resolutions. */
  readonly admin: string;
  readonly #trades = new Map<string, Trade>();
  #count = 0;

  constructor(
    private readonly host: ConfioHost,
    cusdPackage: string,
  ) {
    const seed = host.seed;
    this.packages = {
      cusd: normalizeSuiAddress(cusdPackage),
      confio: address('confio-package', seed),
      pay: address('confio-pay', seed),
      p2pTrade: address('confio-p2p-trade', seed),
    };
    this.cusdType = normalizeType(`${this.packages.cusd}::cusd::CUSD`);
    this.confioType = normalizeType(`${this.packages.confio}::confio::CONFIO`);
    this.admin = address('confio-admin', seed);
  }

  coinType(token: ConfioToken): string {
    return token === 'CUSD' ? this.cusdType : this.confioType;
  }

  /** `cusd::mint_and_transfer`: a new Coin<CUSD> for `recipient`; emits CUSDMinted. Balance change: +amount for the recipient only. */
  mint(recipient: string, amount: bigint, options: { depositAddress?: string } = {}): string {
    const to = normalizeSuiAddress(recipient);
    const deposit = normalizeSuiAddress(options.depositAddress ?? to);
    return this.#transaction(this.admin, 'cusd', 'mint_and_transfer', (t) => {
      t.create(to, this.cusdType, amount);
      t.emit(this.packages.cusd, 'cusd', 'CUSDMinted', CusdEvents.CUSDMinted, { amount, recipient: to, deposit_address: deposit });
    });
  }

  /**
   * A plain transfer of `amount` cUSD (or CONFIO) from `from` to `to`: SplitCoins and
   * TransferObjects (`transfer::public_transfer`), or `cusd::transfer_cusd` when `checked`.
   * No event either way: only balance changes.
   */
  transfer(from: string, to: string, amount: bigint, options: { token?: ConfioToken; checked?: boolean } = {}): string {
    const sender = normalizeSuiAddress(from);
    const recipient = normalizeSuiAddress(to);
    const type = this.coinType(options.token ?? 'CUSD');
    const build = (t: Tx) => {
      t.take(sender, type, amount);
      t.create(recipient, type, amount);
    };
    if (options.checked) return this.#transaction(sender, 'cusd', 'transfer_cusd', build);
    return this.#transaction(sender, null, null, build, { recipient, amount });
  }

  /**
   * `pay::pay_with_cusd` (or `pay_with_confio`): 0.9% (rounded down) stays in the shared
   * FeeCollector, the rest goes to `recipient`; emits PaymentMade. Balance changes: −amount for
   * the payer, +net for the recipient.
   */
  pay(payer: string, recipient: string, amount: bigint, paymentId: string | Uint8Array = '', options: { token?: ConfioToken } = {}): string {
    const from = normalizeSuiAddress(payer);
    const to = normalizeSuiAddress(recipient);
    const token = options.token ?? 'CUSD';
    if (amount <= 0n) throw new Error('pay: MoveAbort 2 (EInvalidAmount)');
    const fee = (amount * PAY_FEE_BASIS_POINTS) / 10_000n;
    const net = amount - fee;
    return this.#transaction(from, 'pay', token === 'CUSD' ? 'pay_with_cusd' : 'pay_with_confio', (t) => {
      t.take(from, this.coinType(token), amount);
      t.create(to, this.coinType(token), net);
      t.emit(this.packages.pay, 'pay', 'PaymentMade', PayEvents.PaymentMade, {
        payer: from,
        recipient: to,
        amount,
        fee_amount: fee,
        net_amount: net,
        token_type: bytes(token),
        payment_id: bytes(paymentId),
        timestamp: BigInt(this.host.epochStartMs()),
      });
    });
  }

  /** `p2p_trade::create_cusd_trade` (or `create_confio_trade`): the seller's coin goes into escrow; emits TradeCreated. */
  createTrade(seller: string, tradeId: string, amount: bigint, fiat: { amount: bigint; currency: string }, options: { token?: ConfioToken } = {}): string {
    const from = normalizeSuiAddress(seller);
    const token = options.token ?? 'CUSD';
    if (this.#trades.has(tradeId)) throw new Error('create_trade: MoveAbort 3 (ETradeNotFound: the id is taken)');
    if (amount <= 0n) throw new Error('create_trade: MoveAbort 2 (EInvalidAmount)');
    const now = BigInt(this.host.nowMs());
    const expiresAt = now + TRADE_WINDOW_MS;
    const digest = this.#transaction(from, 'p2p_trade', token === 'CUSD' ? 'create_cusd_trade' : 'create_confio_trade', (t) => {
      t.take(from, this.coinType(token), amount);
      t.emit(this.packages.p2pTrade, 'p2p_trade', 'TradeCreated', P2PTradeEvents.TradeCreated, {
        trade_id: bytes(tradeId),
        seller: from,
        amount,
        token_type: bytes(token),
        fiat_amount: fiat.amount,
        fiat_currency: bytes(fiat.currency),
        expires_at: expiresAt,
        timestamp: now,
      });
    });
    this.#trades.set(tradeId, { seller: from, amount, token, expiresAt, status: 'pending' });
    return digest;
  }

  /** `p2p_trade::accept_trade`: emits TradeAccepted; no balance change. */
  acceptTrade(buyer: string, tradeId: string): string {
    const by = normalizeSuiAddress(buyer);
    const trade = this.#trade(tradeId);
    if (trade.status !== 'pending') throw new Error('accept_trade: MoveAbort 11 (EInvalidTradeState)');
    if (trade.seller === by) throw new Error('accept_trade: MoveAbort 13 (ESelfTrade)');
    const now = BigInt(this.host.nowMs());
    if (now > trade.expiresAt) throw new Error('accept_trade: MoveAbort 5 (ETradeExpired)');
    const digest = this.#transaction(by, 'p2p_trade', 'accept_trade', (t) => {
      t.emit(this.packages.p2pTrade, 'p2p_trade', 'TradeAccepted', P2PTradeEvents.TradeAccepted, { trade_id: bytes(tradeId), buyer: by, timestamp: now });
    });
    Object.assign(trade, { buyer: by, status: 'active' });
    return digest;
  }

  /** `p2p_trade::confirm_payment_received` (the release): the seller confirms, the escrow goes to the buyer; emits TradeCompleted. */
  releaseTrade(seller: string, tradeId: string): string {
    const by = normalizeSuiAddress(seller);
    const trade = this.#trade(tradeId);
    if (trade.seller !== by) throw new Error('confirm_payment_received: MoveAbort 1 (ENotAuthorized)');
    if (trade.status !== 'active') throw new Error('confirm_payment_received: MoveAbort 11 (EInvalidTradeState)');
    const buyer = trade.buyer!;
    const digest = this.#transaction(by, 'p2p_trade', 'confirm_payment_received', (t) => {
      t.create(buyer, this.coinType(trade.token), trade.amount);
      t.emit(this.packages.p2pTrade, 'p2p_trade', 'TradeCompleted', P2PTradeEvents.TradeCompleted, {
        trade_id: bytes(tradeId),
        seller: trade.seller,
        buyer,
        amount: trade.amount,
        token_type: bytes(trade.token),
        timestamp: BigInt(this.host.nowMs()),
      });
    });
    trade.status = 'completed';
    return digest;
  }

  /** `p2p_trade::cancel_trade`: by the seller while pending, or by anyone once an active trade expired; the escrow goes back to the seller; emits TradeCancelled. */
  cancelTrade(by: string, tradeId: string, reason = ''): string {
    const sender = normalizeSuiAddress(by);
    const trade = this.#trade(tradeId);
    const now = BigInt(this.host.nowMs());
    if (trade.status === 'pending') {
      if (trade.seller !== sender) throw new Error('cancel_trade: MoveAbort 1 (ENotAuthorized)');
    } else if (!(trade.status === 'active' && now > trade.expiresAt)) {
      throw new Error('cancel_trade: MoveAbort 11 (EInvalidTradeState)');
    }
    const digest = this.#transaction(sender, 'p2p_trade', 'cancel_trade', (t) => {
      t.create(trade.seller, this.coinType(trade.token), trade.amount);
      t.emit(this.packages.p2pTrade, 'p2p_trade', 'TradeCancelled', P2PTradeEvents.TradeCancelled, { trade_id: bytes(tradeId), cancelled_by: sender, reason: bytes(reason), timestamp: now });
    });
    trade.status = 'cancelled';
    return digest;
  }

  /** `p2p_trade::open_dispute`: by the seller or the buyer of an active trade; emits DisputeOpened; no balance change. */
  openDispute(by: string, tradeId: string, reason = ''): string {
    const sender = normalizeSuiAddress(by);
    const trade = this.#trade(tradeId);
    if (trade.status !== 'active') throw new Error('open_dispute: MoveAbort 11 (EInvalidTradeState)');
    if (sender !== trade.seller && sender !== trade.buyer) throw new Error('open_dispute: MoveAbort 1 (ENotAuthorized)');
    const digest = this.#transaction(sender, 'p2p_trade', 'open_dispute', (t) => {
      t.emit(this.packages.p2pTrade, 'p2p_trade', 'DisputeOpened', P2PTradeEvents.DisputeOpened, { trade_id: bytes(tradeId), opened_by: sender, reason: bytes(reason), timestamp: BigInt(this.host.nowMs()) });
    });
    trade.status = 'disputed';
    return digest;
  }

  /** `p2p_trade::resolve_dispute` (the admin): the escrow goes to `winner` (seller or buyer); emits DisputeResolved. */
  resolveDispute(tradeId: string, winner: string): string {
    const to = normalizeSuiAddress(winner);
    const trade = this.#trade(tradeId);
    if (trade.status !== 'disputed') throw new Error('resolve_dispute: MoveAbort 10 (ETradeNotInDispute)');
    if (to !== trade.seller && to !== trade.buyer) throw new Error('resolve_dispute: MoveAbort 1 (ENotAuthorized)');
    const digest = this.#transaction(this.admin, 'p2p_trade', 'resolve_dispute', (t) => {
      t.create(to, this.coinType(trade.token), trade.amount);
      t.emit(this.packages.p2pTrade, 'p2p_trade', 'DisputeResolved', P2PTradeEvents.DisputeResolved, { trade_id: bytes(tradeId), resolved_by: this.admin, winner: to, timestamp: BigInt(this.host.nowMs()) });
    });
    trade.status = 'completed';
    return digest;
  }

  #trade(tradeId: string): Trade {
    const trade = this.#trades.get(tradeId);
    if (!trade) throw new Error('p2p_trade: MoveAbort 3 (ETradeNotFound)');
    return trade;
  }

  /** Builds one transaction: `module::fn` of the package that owns `module` (null: a plain transfer). */
  #transaction(sender: string, module: 'cusd' | 'pay' | 'p2p_trade' | null, fn: string | null, build: (t: Tx) => void, plain?: PlainTransfer): string {
    const digest = digest58('confio', this.host.seed, this.#count++);
    const pkg = module === 'cusd' ? this.packages.cusd : module === 'pay' ? this.packages.pay : this.packages.p2pTrade;
    const t = new Tx(digest, this.host.objects);
    build(t);
    const call = module && fn ? { package: pkg, module, function: fn } : null;
    this.host.place(t.record(sender, call ?? plain!, this.host.epoch()));
    return digest;
  }
}

function plainCommands(coins: number): GrpcTypes.Command[] {
  const merge: GrpcTypes.Command[] = coins > 1 ? [{ command: { oneofKind: 'mergeCoins', mergeCoins: { coin: { kind: ArgKind.INPUT, input: 0 }, coinsToMerge: Array.from({ length: coins - 1 }, (_, i) => ({ kind: ArgKind.INPUT, input: i + 1 })) } } }] : [];
  const split = merge.length;
  return [
    ...merge,
    { command: { oneofKind: 'splitCoins', splitCoins: { coin: { kind: ArgKind.INPUT, input: 0 }, amounts: [{ kind: ArgKind.INPUT, input: coins }] } } },
    { command: { oneofKind: 'transferObjects', transferObjects: { objects: [{ kind: ArgKind.RESULT, result: split, subresult: 0 }], address: { kind: ArgKind.INPUT, input: coins + 1 } } } },
  ];
}

/** A plain transfer's commands: SplitCoins(coins…, [amount]) then TransferObjects to the recipient. */
interface PlainTransfer {
  recipient: string;
  amount: bigint;
}

/** The coins one helper transaction takes and makes, and its events. */
class Tx {
  readonly #inputs: Coin[] = [];
  readonly #outputs: { owner: string; coinType: string; balance: bigint; objectId?: string }[] = [];
  readonly events: EventRecord[] = [];
  #created = 0;

  constructor(
    readonly digest: string,
    private readonly objects: ObjectStore,
  ) {}

  /** Takes `amount` from `owner`'s coins of `coinType` (smallest ids first); the change stays in the first coin. */
  take(owner: string, coinType: string, amount: bigint): void {
    const coins = this.objects.owned(owner, (c) => c.coinType === coinType);
    const used: Coin[] = [];
    let sum = 0n;
    for (const coin of coins) {
      if (sum >= amount) break;
      used.push(coin);
      sum += coin.balance;
    }
    if (sum < amount) throw new Error(`${owner} holds ${sum} of ${coinType}, needs ${amount}`);
    this.#inputs.push(...used);
    if (sum > amount) this.#outputs.push({ owner, coinType, balance: sum - amount, objectId: used[0]!.objectId });
  }

  create(owner: string, coinType: string, balance: bigint): void {
    this.#outputs.push({ owner: normalizeSuiAddress(owner), coinType, balance });
  }

  emit(packageId: string, module: string, struct: string, layout: Layout, fields: Record<string, unknown>): void {
    this.events.push({ ...moveEvent(packageId, module, struct, '', layout, fields) });
  }

  record(sender: string, what: { package: string; module: string; function: string } | PlainTransfer, epoch: number): TxRecord {
    const call = 'module' in what ? what : null;
    const plain = 'recipient' in what ? what : null;
    const lamport = this.#inputs.reduce((max, c) => (c.version > max ? c.version : max), 0n) + 1n;
    const changed: ChangedObjectRecord[] = [];
    const deltas = balanceChanges();
    const kept = new Set(this.#outputs.flatMap((o) => (o.objectId ? [o.objectId] : [])));
    for (const coin of this.#inputs) {
      deltas.add(coin.owner, coin.coinType, -coin.balance);
      if (kept.has(coin.objectId)) continue;
      changed.push({ objectId: coin.objectId, objectType: coinObjectType(coin.coinType), input: coin, operation: 'deleted' });
      this.objects.delete(coin.objectId, lamport);
    }
    for (const out of this.#outputs) {
      deltas.add(out.owner, out.coinType, out.balance);
      const input = out.objectId ? this.#inputs.find((c) => c.objectId === out.objectId) : undefined;
      const objectId = out.objectId ?? address('object', this.digest, this.#created++);
      const coin: Coin = { objectId, coinType: out.coinType, balance: out.balance, owner: out.owner, version: lamport, digest: objectDigest(objectId, lamport, out.owner, out.balance), previousTransaction: this.digest };
      this.objects.put(coin);
      changed.push({ objectId, objectType: coinObjectType(out.coinType), input, output: coin, operation: input ? 'none' : 'created' });
    }
    const changes = deltas.changes();
    const events = this.events.map((e) => ({ ...e, sender }));
    const inputs = this.#inputs;
    return {
      digest: this.digest,
      kind: 'programmable',
      sender,
      transaction: () => ({
        version: 1,
        sender,
        gasPayment: { objects: [], owner: sender, price: 1000n, budget: 0n },
        expiration: { kind: GrpcTypes.TransactionExpiration_TransactionExpirationKind.NONE },
        kind: {
          kind: Kind.PROGRAMMABLE_TRANSACTION,
          data: {
            oneofKind: 'programmableTransaction',
            programmableTransaction: {
              inputs: [
                ...inputs.map((c) => ({ kind: InputKind.IMMUTABLE_OR_OWNED, objectId: c.objectId, version: c.version, digest: c.digest })),
                ...(plain ? [{ kind: InputKind.PURE, pure: bcs.u64().serialize(plain.amount).toBytes() }, { kind: InputKind.PURE, pure: bcs.Address.serialize(plain.recipient).toBytes() }] : []),
              ],
              commands: call
                ? [{ command: { oneofKind: 'moveCall', moveCall: { package: call.package, module: call.module, function: call.function, typeArguments: [], arguments: [] } } }]
                : plainCommands(inputs.length),
            },
          },
        },
      }),
      signatures: [],
      status: { success: true },
      gas: NO_GAS,
      changedObjects: () => changed,
      dependencies: [...new Set(inputs.map((c) => c.previousTransaction))],
      lamport,
      events,
      balanceChanges: changes,
      moveCalls: call ? [`${call.package}::${call.module}::${call.function}`] : [],
      epoch,
    };
  }
}
