/**
 * `journalAgainstBlock`, the engine's way for an app to write projection tables
 * outside the indexer's batch (the payments app's handler retry): changes made
 * for an unfinalized block of the indexer's branch are journaled against it, so
 * a reorg undoes them with the block; a block the indexer does not hold as
 * unfinalized (final, or another branch's hash) is not journaled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installJournalTriggers, journalAgainstBlock } from '../../src/core/indexer/projections.js';
import type { Projection } from '../../src/core/indexer/types.js';
import { inTransaction } from '../../src/db/transaction.js';
import { createTestDatabase } from '../harness/db.js';

const CHAIN = 'evm:4242';

describe('journalAgainstBlock', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query('create table retried_records (id integer primary key, note text not null)');
    await installJournalTriggers(database.pool, [{ name: 'retried', tables: ['retried_records'] } as unknown as Projection]);
    await database.pool.query(`insert into indexer_blocks (chain, number, hash, parent_hash, timestamp) values ($1, 10, '0xb10', '0xb09', 1700000000)`, [CHAIN]);
  });
  afterAll(() => database.drop());

  const write = (block: { number: bigint; hash: string }, id: number) =>
    inTransaction(database.pool, async (client) => {
      const journaled = await journalAgainstBlock(client, CHAIN, block);
      await client.query('insert into retried_records (id, note) values ($1, $2)', [id, `for ${block.hash}`]);
      return journaled;
    });
  const journal = async () => (await database.pool.query<{ block_number: string }>('select block_number::text from indexer_journal where chain = $1', [CHAIN])).rows;

  it('journals writes for an unfinalized block of the branch, and a reorg undoes them', async () => {
    expect(await write({ number: 10n, hash: '0xb10' }, 1)).toBe(true);
    expect(await journal()).toEqual([{ block_number: '10' }]);
    // Another branch's block 10, and block 9 (final: no header kept): not journaled.
    expect(await write({ number: 10n, hash: '0xother' }, 2)).toBe(false);
    expect(await write({ number: 9n, hash: '0xb09' }, 3)).toBe(false);
    expect(await journal()).toHaveLength(1);

    // The reorg back to block 9 undoes the journaled write only.
    await inTransaction(database.pool, (client) => client.query('select ledgersync_undo($1, 9)', [CHAIN]));
    expect((await database.pool.query('select id from retried_records order by id')).rows).toEqual([{ id: 2 }, { id: 3 }]);
  });
});
