import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../harness/db.js';
import { insertEvents } from '../../src/indexer/store.js';
import type { StoredEvent } from '../../src/indexer/types.js';
import { inTransaction } from '../../src/db/transaction.js';

describe('raw event storage', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => (database = await createTestDatabase()));
  afterAll(() => database.drop());

  const event = (logIndex: number, metadataURI: string): StoredEvent => ({
    chainId: 31337,
    blockNumber: 7n,
    blockHash: `0x${'b'.repeat(64)}`,
    blockTimestamp: 1_700_000_000n,
    transactionHash: `0x${'c'.repeat(64)}`,
    transactionIndex: 0,
    logIndex,
    address: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
    eventName: 'CredentialIssued',
    args: { id: '1', metadataURI, big: (2n ** 255n).toString() },
    topics: [`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`],
    data: '0x00',
  });

  it('stores every field exactly, including text that COPY would otherwise misread', async () => {
    const tricky = 'tab\there, newline\nthere, backslash \\ and \\N, quote " and unicode ✓';
    await inTransaction(database.pool, (client) => insertEvents(client, [event(0, tricky), event(1, 'plain')]));
    const { rows } = await database.pool.query('select log_index, args, topics, data, block_number from indexer_events order by log_index');
    expect(rows).toEqual([
      { log_index: 0, args: { id: '1', metadataURI: tricky, big: (2n ** 255n).toString() }, topics: [`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`], data: '0x00', block_number: 7n },
      { log_index: 1, args: { id: '1', metadataURI: 'plain', big: (2n ** 255n).toString() }, topics: [`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`], data: '0x00', block_number: 7n },
    ]);
  });

  it('refuses the same log twice (chain, block hash, log index)', async () => {
    await expect(inTransaction(database.pool, (client) => insertEvents(client, [event(0, 'again')]))).rejects.toThrow(/duplicate key/);
  });
});
