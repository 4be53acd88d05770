import type pg from 'pg';
import type { Abi, Hex } from 'viem';
import type { JsonValue } from '../indexer/types.js';
import type { IntentState } from './schema.js';

/**
 * A kind of write an app sends through the outbox, e.g. `credentials.issue`:
 * which contract it calls, and what the app does with the outcome. The handlers
 * run inside the relayer's transaction that records the outcome, so the app's
 * rows and the intent's state change together.
 */
export interface IntentKind {
  name: string;
  /** Name of the contract in the deployments file. */
  contract: string;
  abi: Abi;
  /** The transaction is final (enough confirmations) and succeeded. */
  onConfirmed?(intent: SettledIntent, client: pg.PoolClient): Promise<void>;
  /** It reverted (in simulation, or on chain after the confirmations). */
  onFailed?(intent: SettledIntent, client: pg.PoolClient): Promise<void>;
  /** A reorg removed its inclusion; it is being sent again. */
  onReorged?(intent: SettledIntent, client: pg.PoolClient): Promise<void>;
}

/** What a handler is told. */
export interface SettledIntent {
  id: bigint;
  idempotencyKey: string;
  kind: string;
  functionName: string;
  args: JsonValue;
  state: IntentState;
  transactionHash: Hex | null;
  blockNumber: bigint | null;
  /** The receipt's logs decoded with the contract's ABI (e.g. the new credential id). */
  events: DecodedEvent[];
  error: IntentError | null;
}

export interface DecodedEvent {
  address: Hex;
  logIndex: number;
  eventName: string;
  args: Record<string, JsonValue>;
}

/** Why an intent failed or is waiting: a decoded revert (`name` is the custom error) or an RPC problem. */
export interface IntentError {
  name: string;
  message: string;
  args?: JsonValue[];
  /** For a nonce taken by another transaction: the head when that was first seen. */
  seenAtBlock?: string;
}
