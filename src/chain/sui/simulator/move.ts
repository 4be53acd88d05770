/**
 * The simulated Move code: the events its modules emit (with their BCS layouts, exported so
 * that tests and the adapter can decode them) and the abort codes of its functions.
 *
 * Our package has a `payments` module:
 *   public fun pay<T>(coin: Coin<T>, recipient: address, memo: String)
 *     moves the coin to `recipient` and emits PaymentSent; aborts with E_ZERO_AMOUNT (1) on an
 *     empty coin.
 *   public fun abort_with(code: u64)
 *     always aborts with `code`: a way for tests to produce any Move abort.
 * Unrelated traffic comes from "foreign" packages whose `dex` module emits Swap events.
 */
import { bcs } from '@mysten/sui/bcs';
import type { EventRecord } from './records.js';

export const PAYMENTS_MODULE = 'payments';
export const E_ZERO_AMOUNT = 1n;

export const PaymentSent = bcs.struct('PaymentSent', {
  payer: bcs.Address,
  recipient: bcs.Address,
  amount: bcs.u64(),
  coin_type: bcs.string(),
  memo: bcs.string(),
});

export const Swap = bcs.struct('Swap', {
  pool: bcs.Address,
  trader: bcs.Address,
  amount_in: bcs.u64(),
  amount_out: bcs.u64(),
});

/** Coin<T>'s layout: its id and its Balance<T>. */
export const CoinLayout = bcs.struct('Coin', { id: bcs.Address, balance: bcs.u64() });

export function paymentSentType(packageId: string): string {
  return `${packageId}::${PAYMENTS_MODULE}::PaymentSent`;
}

export function swapType(packageId: string): string {
  return `${packageId}::dex::Swap`;
}

export interface Payment {
  payer: string;
  recipient: string;
  amount: bigint;
  coinType: string;
  memo: string;
}

/**
 * An event whose BCS is encoded on first read: generated traffic makes many events that
 * nobody reads.
 */
class MoveEvent implements EventRecord {
  #bcs: Uint8Array | undefined;
  constructor(
    readonly packageId: string,
    readonly module: string,
    readonly sender: string,
    readonly eventType: string,
    readonly json: Record<string, unknown>,
    private readonly encode: () => Uint8Array,
  ) {}
  get bcs(): Uint8Array {
    return (this.#bcs ??= this.encode());
  }
}

/** The event `payments::pay` emits, with the JSON Sui renders (u64 as a string). */
export function paymentEvent(packageId: string, payment: Payment): EventRecord {
  const fields = { payer: payment.payer, recipient: payment.recipient, amount: payment.amount, coin_type: payment.coinType, memo: payment.memo };
  return new MoveEvent(packageId, PAYMENTS_MODULE, payment.payer, paymentSentType(packageId), { ...fields, amount: payment.amount.toString() }, () => PaymentSent.serialize(fields).toBytes());
}

export function swapEvent(packageId: string, swap: { pool: string; trader: string; amountIn: bigint; amountOut: bigint }): EventRecord {
  const fields = { pool: swap.pool, trader: swap.trader, amount_in: swap.amountIn, amount_out: swap.amountOut };
  const json = { ...fields, amount_in: swap.amountIn.toString(), amount_out: swap.amountOut.toString() };
  return new MoveEvent(packageId, 'dex', swap.trader, swapType(packageId), json, () => Swap.serialize(fields).toBytes());
}
