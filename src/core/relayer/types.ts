import type pg from 'pg';
import type { ChainKey, JsonValue } from '../chain.js';
import type { IntentState } from './schema.js';
import type { Outbox } from './outbox.js';

/**
 * A kind of write an app sends through the outbox, e.g. `credentials.issue`: on
 * which chain, what it calls (in the family's terms, `spec`: on EVM the ABI and,
 * unless each intent names its target, the contract's name in the deployments
 * file), and what the app does with the outcome. The handlers run inside the
 * relayer's transaction that records the outcome, so the app's rows and the
 * intent's state change together.
 */
export interface IntentKind {
  name: string;
  chain: ChainKey;
  spec: unknown;
  /** The transaction is final and succeeded. */
  onConfirmed?(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts): Promise<void>;
  /** It reverted (in simulation, or on chain once final). */
  onFailed?(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts): Promise<void>;
  /** A reorg removed its inclusion; it is being sent again. */
  onReorged?(intent: SettledIntent, client: pg.PoolClient, ports: IntentPorts): Promise<void>;
}

/** What a handler may use besides its transaction: the outbox, for the writes that follow from an outcome (in the same transaction). */
export interface IntentPorts {
  outbox: Outbox;
}

/** What a handler is told. */
export interface SettledIntent {
  id: bigint;
  idempotencyKey: string;
  kind: string;
  chain: ChainKey;
  target: string;
  functionName: string;
  args: JsonValue;
  /** The user's address when the user signed the transaction on their device; null when the platform signed it. */
  sender: string | null;
  state: IntentState;
  transactionId: string | null;
  blockNumber: bigint | null;
  /** The receipt's events decoded with the kind's ABI (e.g. the new credential id). */
  events: DecodedEvent[];
  error: IntentError | null;
}

export interface DecodedEvent {
  emitter: string;
  eventIndex: number;
  name: string;
  args: Record<string, JsonValue>;
}

/** Why an intent failed or is waiting: a decoded revert (`name` is the custom error) or an RPC problem. */
export interface IntentError {
  name: string;
  message: string;
  args?: JsonValue[];
  /** For a sequence number taken by another transaction: the head when that was first seen. */
  seenAtBlock?: string;
  /** For bytes the node keeps refusing: when it first refused them (ISO time). */
  refusedSince?: string;
}
