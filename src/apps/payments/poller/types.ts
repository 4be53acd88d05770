import type { ChainKey, JsonValue } from '../../../engine/index.js';
import type { NotificationKind } from '../notifications/index.js';

/** One event of a transaction as the raw row keeps it (`payment_raw_events.events`), in chain order. */
export interface RawEvent {
  source: string;
  name: string;
  emitter: string;
  /** Its position in the block (engine's event index). */
  eventIndex: number;
  args: Record<string, JsonValue>;
}

/** A transaction the poller kept: what the handlers derive records from, live or from the raw row. */
export interface PaymentTx {
  chain: ChainKey;
  transactionId: string;
  blockNumber: bigint;
  blockHash: string;
  blockTimestamp: bigint;
  events: RawEvent[];
}

export const RECORD_KINDS = ['transfer', 'payment', 'escrow_created', 'escrow_paid', 'escrow_released', 'escrow_cancelled', 'escrow_disputed', 'escrow_resolved'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** A row of payment_transactions before accounts are resolved. Addresses in the family's normal form. */
export interface RecordDraft {
  eventIndex: number;
  kind: RecordKind;
  /** The token's symbol (`cUSD`; `CONFIO` for Sui payments in Confío's own coin). */
  token: string;
  amount: bigint;
  fee: bigint;
  sender: string | null;
  recipient: string | null;
  /** Pay: the payment reference; P2P: the trade id. */
  reference: string | null;
  /** The push the recipient gets, if they are ours and have a target; null: none. */
  notify: NotificationKind | null;
}

/** What the poller knows of a trade: from its escrow_created record (in the table, or earlier in the batch). */
export interface Trade {
  seller: string | null;
  buyer: string | null;
  amount: bigint;
  token: string;
}

export interface TradeBook {
  get(reference: string): Trade | undefined;
  set(reference: string, trade: Trade): void;
}

/** What every handler of a chain is given besides the transaction. */
export interface HandlerContext {
  trades: TradeBook;
}

export type HandlerName = 'cusd' | 'pay' | 'p2p';

/**
 * One module's handler: the records a transaction yields for it. Pure but for the
 * trade book (what earlier records said of a trade), so a retry from the raw row
 * derives the same records as the live run did.
 */
export interface PaymentHandler {
  name: HandlerName;
  derive(tx: PaymentTx, context: HandlerContext): RecordDraft[];
}

/** Source names (the same on every chain of a family; events carry their chain). */
export const EVM_CUSD_SOURCE = 'payments_cusd';
export const EVM_PAY_SOURCE = 'payments_pay';
export const EVM_P2P_SOURCE = 'payments_p2p';
export const SUI_SOURCE = 'payments_sui';
