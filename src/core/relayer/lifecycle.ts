import type pg from 'pg';
import type { JsonValue } from '../chain.js';
import type { DecodedEvent, IntentError } from './types.js';

/** An intent waiting to be prepared (simulated and sized), as the lifecycle sees it. */
export interface PendingIntent {
  id: bigint;
  kind: string;
  target: string;
  payload: string;
  value: string;
  attempts: number;
}

export type Prepared =
  | { intent: PendingIntent; outcome: 'ready'; feeLimit: bigint }
  /** The chain refuses the call: it fails at once, with the decoded reason, and spends nothing. */
  | { intent: PendingIntent; outcome: 'reverted'; error: IntentError }
  /** Could not find out (an RPC failure): tried again later. */
  | { intent: PendingIntent; outcome: 'retry'; error: IntentError };

/** A signed transaction, stored before it is ever sent. */
export interface SignedTransaction {
  /** Its id (hash, digest), known before it is sent. */
  id: string;
  /** null for a transaction of the family's own (a nonce-gap filler). */
  intentId: bigint | null;
  sequence: bigint | null;
  raw: Uint8Array;
  /** What it pays, in the family's terms. */
  fees: Record<string, string>;
}

/** An intent in flight (broadcast or included), with every transaction signed for it, oldest first. */
export interface InFlightIntent {
  id: bigint;
  kind: string;
  state: 'broadcast' | 'included';
  sequence: bigint;
  target: string;
  payload: string;
  value: string;
  feeLimit: string;
  sentAtBlock: bigint | null;
  blockNumber: bigint | null;
  blockHash: string | null;
  succeeded: boolean | null;
  error: IntentError | null;
  /** The user's address when the user signed its transaction on their device (the outbox got the bytes); null when the platform signs. */
  sender: string | null;
  transactions: Array<{ id: string; fees: Record<string, string> }>;
}

/** Where a transaction of the intent was mined. */
export interface Inclusion {
  transactionId: string;
  blockNumber: bigint;
  blockHash: string;
  succeeded: boolean;
  receipt: JsonValue;
  events: DecodedEvent[];
}

/**
 * What the chain positively says of an intent in flight. Anything not known for
 * sure (a failed read, a node behind) is `unknown`: nothing moves on it.
 */
export type Observation =
  | { kind: 'unknown' }
  /** Not mined (yet). */
  | { kind: 'waiting' }
  /** The block it was recorded in is still the chain's at that height. */
  | { kind: 'stillIncluded' }
  /** Mined (maybe in another block than we recorded: a reorg moved it). */
  | { kind: 'included'; inclusion: Inclusion }
  /** Its block was replaced and none of its transactions is mined anywhere. */
  | { kind: 'gone' }
  /** Another transaction used its sequence number (sent with the same key outside the relayer). */
  | { kind: 'sequenceTaken' };

/**
 * Why stored bytes were not sent. `refused`: the node answered and would not take
 * them (a user with no gas money, a fee cap below the base fee); a node that did
 * not answer, or failed in itself (a timeout, an HTTP 5xx, an internal error), did
 * not refuse them.
 */
export interface SendFailure {
  message: string;
  refused: boolean;
}

/**
 * One chain family's transaction lifecycle for one signer: prepare, sign, send,
 * track, replace. The relayer core claims intents, moves them through their
 * states (intents.ts) and tells the apps; the family does what only it knows.
 */
export interface TransactionLifecycle {
  readonly signer: string;
  head(): Promise<bigint>;
  /** Makes the signer's bookkeeping match the chain at start (EVM: the next nonce). */
  start(): Promise<void>;
  /**
   * How many transactions it could sign now: the core claims no more pending intents
   * than that (EVM: no limit; Sui: one per free gas coin).
   */
  capacity(): Promise<number>;
  /** Simulates and sizes each call. */
  prepare(intents: PendingIntent[]): Promise<Prepared[]>;
  /**
   * Takes sequence numbers (and whatever else the transactions consume, under locks held
   * by `client`'s transaction) and signs; nothing is sent. One transaction per intent it
   * can sign now; an intent left out (Sui: no free gas coin left) stays pending.
   */
  sign(client: pg.PoolClient, ready: Array<{ intent: PendingIntent; feeLimit: bigint }>): Promise<SignedTransaction[]>;
  /** Sends stored bytes; per transaction, undefined when the node has it (now or already), else why not. */
  send(transactions: Array<{ id: string; raw: Uint8Array }>): Promise<Array<SendFailure | undefined>>;
  /** What the chain says of each intent in flight. */
  observe(intents: InFlightIntent[], head: bigint): Promise<Map<bigint, Observation>>;
  /** Why a mined transaction failed. */
  explainFailure(intent: InFlightIntent, blockNumber: bigint): Promise<IntentError>;
  /**
   * A replacement for a transaction not included after `stuckBlocks` (same sequence,
   * higher fees), or why there is none (a fee ceiling; a chain without replacement):
   * the intent then waits, its bytes sent again.
   */
  replace(intent: InFlightIntent, head: bigint): Promise<{ replacement: SignedTransaction } | { waiting: IntentError }>;
  /** After a sequence number was taken by someone else: hand out numbers from where the chain is. */
  resync(client: pg.PoolClient): Promise<void>;
  /** Housekeeping between passes (EVM: fill holes in the signer's nonces). */
  maintain(): Promise<void>;
}
