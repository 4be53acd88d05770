/**
 * The seam between the chain-neutral core (indexer and relayer) and a chain
 * family (src/chain/<family>/). The core speaks of chains by key, of blocks by
 * height, id and parent id, and of events by position; everything a family
 * means by those (logs and receipts on EVM, checkpoints and digests on Sui)
 * stays behind these interfaces.
 */

import type { AddressSets } from './indexer/address-sets.js';

/** A chain's stable name: `<family>:<id>`, e.g. `evm:31337`, `evm:100`, `sui:testnet`. What the database stores. */
export type ChainKey = string;

/** A block (a checkpoint on Sui) as the core keeps it: a cursor with the link to its parent. */
export interface BlockRef {
  number: bigint;
  hash: string;
  parentHash: string;
  /** Unix seconds. */
  timestamp: bigint;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A decoded event as projections see it, whether it comes live from the chain or
 * is replayed from the raw event table: integers are decimal strings and bytes
 * lower-case hex, so both paths hand projections identical values.
 */
export interface ChainEvent {
  chain: ChainKey;
  /** The source (of the app's configuration) whose filter it matched. */
  source: string;
  blockNumber: bigint;
  blockHash: string;
  blockTimestamp: bigint;
  transactionId: string;
  transactionIndex: number;
  /** Its position in the block: unique per block, increasing in chain order. */
  eventIndex: number;
  /** Who emitted it: a contract address, a Move package and module. */
  emitter: string;
  name: string;
  args: Record<string, JsonValue>;
}

/** An event as the raw event table keeps it: also the family's raw payload, so that a changed ABI can decode it again. */
export interface StoredEvent extends ChainEvent {
  raw: Uint8Array;
}

/** What the indexer reads: a named filter on one chain, in the family's terms (`spec`). */
export interface Source {
  name: string;
  chain: ChainKey;
  family: string;
  spec: unknown;
  /** Another source this one is read through (a factory's children, through the factory's announcements). */
  readThrough?: string;
  /** The address set (table address_sets) whose members this source follows, if it follows one. */
  addressSet?: string;
}

/** A contract (or object) found at run time by a factory source, indexed from the block that created it. */
export interface Child {
  source: string;
  id: string;
  blockNumber: bigint;
}

/** A batch of history in chain order: the events of blocks `from`..`to.number` and the header of the last one. */
export interface FetchedBatch {
  from: bigint;
  to: BlockRef;
  events: StoredEvent[];
  /** Children created in these blocks (their events from creation on are in `events`). */
  children: Child[];
}

/** Wakes the indexer when a head arrives (a subscription where there is one, else polling). */
export interface HeadWatcher {
  next(shouldStop: () => boolean): Promise<void>;
  close(): void;
}

/**
 * The reading side of one chain for a set of sources. Only what the chain
 * positively says counts: a height the node has not reached is a NodeBehindError.
 */
export interface ChainReader {
  /** Where each source starts (its contract's creation block): indexing of it begins there. */
  readonly starts: ReadonlyMap<string, bigint>;
  head(): Promise<bigint>;
  block(height: bigint): Promise<BlockRef>;
  /** Final history [from, to], batch after batch, in order (fetched ahead as the family sees fit). */
  ranges(from: bigint, to: bigint, shouldStop: () => boolean): AsyncIterable<FetchedBatch>;
  /** One block above finality with its events; the core checks its parent before keeping it. */
  next(height: bigint): Promise<FetchedBatch>;
  /** Forgets children created above `height` (their creation was rolled back). */
  forgetAbove(height: bigint): void;
}

/** The node has not reached a height we asked about (a provider behind a load balancer). Not a reorg: wait. */
export class NodeBehindError extends Error {
  override name = 'NodeBehindError';
}

/** A reader for some sources, and the sources it could not resolve yet (a contract not deployed or not recorded). */
export interface OpenedReader {
  reader: ChainReader;
  unresolved: string[];
}

/**
 * A connected chain, whatever its family: what the wiring hands the indexer and
 * the relayer. Reading is opened per set of sources; writing per signer.
 */
export interface ConnectedChain {
  key: ChainKey;
  family: string;
  /** Blocks on top of a block before it is final (see finality.ts). */
  finalityDepth: bigint;
  head(): Promise<bigint>;
  /** Opens the reading side for these sources, with the children their factories created so far and the address sets they follow. */
  openReader(sources: Source[], children: Child[], addressSets: AddressSets): OpenedReader;
  /** An address in the one form this family compares (lower-case hex on EVM, the long form on Sui). */
  normalizeAddress(address: string): string;
  /** Wakes a waiting indexer at each new head: a subscription where there is one, else polling. */
  watchHeads(pollIntervalMs: number): HeadWatcher;
  /** Something changed that may resolve sources which could not be (a deployments file written meanwhile). */
  sourcesMayHaveChanged(): boolean;
  close(): Promise<void>;
}
