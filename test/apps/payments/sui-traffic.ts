/**
 * What the payments end-to-end test on Sui does, and what it expects of it: each call makes
 * one transaction with the simulator's Confío helpers (`ledger.confio`) and notes the record
 * that transaction justifies, from what was asked (who, to whom, how much) and the digest the
 * helper returned, never from the app's handlers. The record semantics are those documented in
 * src/apps/payments/poller/handlers/{cusd,pay,p2p}.ts; an item's position (event_index) is
 * read from the simulator's checkpoint once the transaction is in one.
 */
import { createHash } from 'node:crypto';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { PAY_FEE_BASIS_POINTS, type SuiLedger } from '../../../src/chain/sui/simulator/index.js';

/** One cUSD in base units (6 decimals). */
export const CUSD = 1_000_000n;

export interface ExpectedRecord {
  transaction: string;
  eventIndex: number;
  kind: string;
  sender: string | null;
  recipient: string | null;
  amount: string;
  fee: string;
  reference: string | null;
}

/** Where a record sits in its transaction: at a Move event (by struct name) or at an address's cUSD balance change. */
type Anchor = { event: string } | { change: string };

interface Planned extends Omit<ExpectedRecord, 'eventIndex'> {
  anchor: Anchor;
}

/** A Sui address from a name (and a seed): the same run, the same addresses. */
export function suiAddress(seed: number, name: string): string {
  return normalizeSuiAddress(`0x${createHash('sha256').update(`${seed}:${name}`).digest('hex')}`);
}

export class SuiTraffic {
  readonly #planned: Planned[] = [];
  readonly #trades = new Map<string, { seller: string; amount: bigint; buyer?: string }>();
  /** Every transaction made, in order. */
  readonly digests: string[] = [];
  /** cUSD per address, as the calls moved it (fees stay in Pay's collector, escrows in the vault). */
  readonly balances = new Map<string, bigint>();

  constructor(
    private readonly ledger: SuiLedger,
    /** Our users' addresses: only their balance changes are followed. */
    private readonly users: ReadonlySet<string>,
  ) {}

  get #confio() {
    return this.ledger.confio;
  }

  balance(address: string): bigint {
    return this.balances.get(address) ?? 0n;
  }

  #move(address: string, delta: bigint) {
    const next = this.balance(address) + delta;
    if (next < 0n) throw new Error(`the test would overdraw ${address}`);
    this.balances.set(address, next);
  }

  #plan(transaction: string, record: Omit<Planned, 'transaction'> | null): string {
    this.digests.push(transaction);
    if (record) this.#planned.push({ transaction, ...record });
    return transaction;
  }

  /** `cusd::mint_and_transfer`: a transfer without sender, if the recipient is ours. */
  mint(to: string, amount: bigint): string {
    this.#move(to, amount);
    const digest = this.#confio.mint(to, amount);
    return this.#plan(digest, this.users.has(to) ? { kind: 'transfer', sender: null, recipient: to, amount: String(amount), fee: '0', reference: null, anchor: { change: to } } : null);
  }

  /** A plain transfer (no event): sender to recipient, at the recipient's change; to an outsider, no recipient, at the sender's. */
  transfer(from: string, to: string, amount: bigint): string {
    if (from === to) throw new Error('the test sends to another address');
    this.#move(from, -amount);
    this.#move(to, amount);
    const digest = this.#confio.transfer(from, to, amount);
    const ours = this.users.has(to);
    if (!ours && !this.users.has(from)) return this.#plan(digest, null);
    return this.#plan(digest, { kind: 'transfer', sender: from, recipient: ours ? to : null, amount: String(amount), fee: '0', reference: null, anchor: { change: ours ? to : from } });
  }

  /** `pay::pay_with_cusd`: one payment, payer to merchant, the gross amount with its 0.9% fee (rounded down). */
  pay(payer: string, merchant: string, amount: bigint, paymentId: string): string {
    const fee = (amount * PAY_FEE_BASIS_POINTS) / 10_000n;
    this.#move(payer, -amount);
    this.#move(merchant, amount - fee);
    const digest = this.#confio.pay(payer, merchant, amount, paymentId);
    return this.#plan(digest, { kind: 'payment', sender: payer, recipient: merchant, amount: String(amount), fee: String(fee), reference: paymentId, anchor: { event: 'PaymentMade' } });
  }

  /** `create_cusd_trade`: escrow_created from the seller, no recipient (the buyer is not known yet on Sui). */
  createTrade(seller: string, tradeId: string, amount: bigint): string {
    this.#move(seller, -amount);
    this.#trades.set(tradeId, { seller, amount });
    const digest = this.#confio.createTrade(seller, tradeId, amount, { amount: amount / 10_000n, currency: 'ARS' });
    return this.#plan(digest, { kind: 'escrow_created', sender: seller, recipient: null, amount: String(amount), fee: '0', reference: tradeId, anchor: { event: 'TradeCreated' } });
  }

  /** `accept_trade`: escrow_paid, buyer to seller, the trade's amount. */
  acceptTrade(buyer: string, tradeId: string): string {
    const trade = this.#trades.get(tradeId)!;
    trade.buyer = buyer;
    const digest = this.#confio.acceptTrade(buyer, tradeId);
    return this.#plan(digest, { kind: 'escrow_paid', sender: buyer, recipient: trade.seller, amount: String(trade.amount), fee: '0', reference: tradeId, anchor: { event: 'TradeAccepted' } });
  }

  /** `confirm_payment_received`: escrow_released, seller to buyer; the escrow goes to the buyer. */
  releaseTrade(seller: string, tradeId: string): string {
    const trade = this.#trades.get(tradeId)!;
    this.#move(trade.buyer!, trade.amount);
    const digest = this.#confio.releaseTrade(seller, tradeId);
    return this.#plan(digest, { kind: 'escrow_released', sender: seller, recipient: trade.buyer!, amount: String(trade.amount), fee: '0', reference: tradeId, anchor: { event: 'TradeCompleted' } });
  }

  /** `cancel_trade`: escrow_cancelled, from who cancelled to the seller; the escrow goes back. */
  cancelTrade(by: string, tradeId: string): string {
    const trade = this.#trades.get(tradeId)!;
    this.#move(trade.seller, trade.amount);
    const digest = this.#confio.cancelTrade(by, tradeId, 'changed my mind');
    return this.#plan(digest, { kind: 'escrow_cancelled', sender: by, recipient: trade.seller, amount: String(trade.amount), fee: '0', reference: tradeId, anchor: { event: 'TradeCancelled' } });
  }

  /**
   * The records, each at its item's position in its checkpoint: every transaction's
   * Transaction item, its events, then its balance changes, counted over all of the
   * checkpoint's transactions (src/chain/sui/indexer/decode.ts). Every transaction must be
   * in a checkpoint by now.
   */
  records(): ExpectedRecord[] {
    return this.#planned.map(({ anchor, ...record }) => {
      const placed = this.ledger.transaction(record.transaction);
      if (placed?.checkpoint === undefined || placed.index === undefined) throw new Error(`${record.transaction} is not in a checkpoint yet`);
      const { transactions } = this.ledger.checkpoint(placed.checkpoint)!;
      const base = transactions.slice(0, placed.index).reduce((sum, tx) => sum + 1 + tx.events.length + tx.balanceChanges.length, 0);
      const { tx } = placed;
      const i = 'event' in anchor ? tx.events.findIndex((e) => e.eventType.endsWith(`::${anchor.event}`)) : tx.balanceChanges.findIndex((c) => c.address === anchor.change && c.coinType === this.#confio.cusdType);
      if (i < 0) throw new Error(`${record.transaction} has no ${JSON.stringify(anchor)}`);
      const at = 'event' in anchor ? 1 + i : 1 + tx.events.length + i;
      return { ...record, eventIndex: base + at };
    });
  }
}
