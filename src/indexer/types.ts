import type { Abi, Address, Hex } from 'viem';
import type pg from 'pg';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A decoded contract event as projections see it, whether it comes live from the
 * chain or is replayed from the raw event table: integers are decimal strings and
 * bytes are lower-case hex, so both paths hand projections identical values.
 */
export interface IndexedEvent {
  chainId: number;
  blockNumber: bigint;
  blockHash: Hex;
  blockTimestamp: bigint;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
  address: Address;
  eventName: string;
  args: Record<string, JsonValue>;
}

/**
 * An event as the raw event table keeps it: also the log's topics and data, so
 * that a changed ABI can decode it again. Projections get the decoded form only,
 * which keeps a replay from reading half of each row for nothing.
 */
export interface StoredEvent extends IndexedEvent {
  topics: Hex[];
  data: Hex;
}

/** A contract whose events are indexed; its address and start block come from the deployments file. */
export interface IndexerSource {
  /** Name in the deployments file, e.g. `BlockProofCredentialVault`. */
  contract: string;
  abi: Abi;
}

/** The transaction a projection writes in: the same one that moves the checkpoint. */
export interface ProjectionStore {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Bulk insert with COPY (the same path as the raw events): the fastest way to add many rows. */
  copy(table: string, columns: string[], rows: Array<Array<string | number | bigint | boolean | null>>): Promise<void>;
}

/**
 * A table (or tables) kept equal to a fold over contract events. `apply` gets the
 * events of one or more blocks in chain order and must write them in a few
 * statements (multi-row), not one round trip per event.
 */
export interface Projection {
  /** Name used by `ledgersync reindex <name>`. */
  name: string;
  /** Tables it owns: journaled for reorgs, emptied on reindex. Each needs a primary key. */
  tables: string[];
  /** Event names it consumes; others are not passed to it. */
  events: string[];
  apply(events: IndexedEvent[], store: ProjectionStore): Promise<void>;
}
