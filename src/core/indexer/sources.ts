import type pg from 'pg';
import type { ChainKey } from '../chain.js';

export type SourceState = 'live' | 'catching-up' | 'fetched';

export interface SourceProgress {
  name: string;
  startBlock: bigint;
  state: SourceState;
  /** While catching up: its events are stored up to here. */
  syncedTo: bigint | null;
}

export async function sourceProgress(db: pg.Pool | pg.PoolClient, chain: ChainKey): Promise<Map<string, SourceProgress>> {
  const { rows } = await db.query<{ name: string; start_block: bigint; state: SourceState; synced_to: bigint | null }>(
    'select name, start_block, state, synced_to from indexer_sources where chain = $1',
    [chain],
  );
  return new Map(rows.map((r) => [r.name, { name: r.name, startBlock: r.start_block, state: r.state, syncedTo: r.synced_to }]));
}

/**
 * Records sources seen for the first time. Before the chain has a checkpoint, or
 * when a source starts above it, it simply goes along (`live`); otherwise the
 * chain is past its start and it must fetch its own history first (`catching-up`).
 */
export async function registerSources(db: pg.Pool, chain: ChainKey, starts: ReadonlyMap<string, bigint>, checkpoint: bigint | undefined): Promise<void> {
  for (const [name, start] of starts) {
    const catching = checkpoint !== undefined && start <= checkpoint;
    await db.query(
      `insert into indexer_sources (chain, name, start_block, state, synced_to) values ($1, $2, $3, $4, $5) on conflict (chain, name) do nothing`,
      [chain, name, start, catching ? 'catching-up' : 'live', catching ? start - 1n : null],
    );
  }
}

export async function advanceSources(client: pg.PoolClient, chain: ChainKey, names: string[], to: bigint): Promise<void> {
  await client.query('update indexer_sources set synced_to = $3 where chain = $1 and name = any($2)', [chain, names, to]);
}

export async function setSourceState(db: pg.Pool | pg.PoolClient, chain: ChainKey, names: string[], state: SourceState): Promise<void> {
  await db.query(`update indexer_sources set state = $3, synced_to = case when $3 = 'live' then null else synced_to end where chain = $1 and name = any($2)`, [
    chain,
    names,
    state,
  ]);
}
