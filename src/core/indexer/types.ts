import type pg from 'pg';
import type { ChainEvent } from '../chain.js';

export type { ChainEvent, StoredEvent, JsonValue } from '../chain.js';

/** The transaction a projection writes in: the same one that moves the checkpoint. */
export interface ProjectionStore {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Bulk insert with COPY (the same path as the raw events): the fastest way to add many rows. */
  copy(table: string, columns: string[], rows: Array<Array<string | number | bigint | boolean | null>>): Promise<void>;
  /**
   * True while `ledgersync reindex` folds stored events again: the chain did nothing
   * new, so what is meant for news (a live notice to connected clients) is left out.
   */
  readonly replaying: boolean;
}

/**
 * A table (or tables) kept equal to a fold over events. `apply` gets the events
 * of one or more blocks in chain order and must write them in a few statements
 * (multi-row), not one round trip per event.
 */
export interface Projection {
  /** Name used by `ledgersync reindex <name>` and in change notifications. */
  name: string;
  /** Tables it owns: journaled for reorgs, emptied on reindex. Each needs a primary key. */
  tables: string[];
  /** The events it folds, as `<source>.<EventName>` (e.g. `vault.CredentialIssued`); others are not passed to it. */
  events: string[];
  apply(events: ChainEvent[], store: ProjectionStore): Promise<void>;
}

/** `<source>.<name>`: how projections name the events they fold. */
export function eventKey(event: Pick<ChainEvent, 'source' | 'name'>): string {
  return `${event.source}.${event.name}`;
}
