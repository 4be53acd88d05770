import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../harness/db.js';
import { insertEvents } from '../../src/core/indexer/store.js';
import type { StoredEvent } from '../../src/core/indexer/types.js';
import { inTransaction } from '../../src/db/transaction.js';
import { fromRawPayload, rawPayload } from '../../src/chain/evm/indexer/decode.js';

describe('raw event storage', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => (database = await createTestDatabase()));
  afterAll(() => database.drop());

  const topics = [`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`] as const;
  const event = (eventIndex: number, metadataURI: string): StoredEvent => ({
    chain: 'evm:31337',
    source: 'vault',
    blockNumber: 7n,
    blockHash: `0x${'b'.repeat(64)}`,
    blockTimestamp: 1_700_000_000n,
    transactionId: `0x${'c'.repeat(64)}`,
    transactionIndex: 0,
    eventIndex,
    emitter: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
    name: 'CredentialIssued',
    args: { id: '1', metadataURI, big: (2n ** 255n).toString() },
    raw: rawPayload({ topics: [...topics], data: '0x00' }),
  });

  it('stores every field exactly, including text that COPY would otherwise misread, and the raw payload as bytes', async () => {
    const tricky = 'tab\there, newline\nthere, backslash \\ and \\N, quote " and unicode ✓';
    await inTransaction(database.pool, (client) => insertEvents(client, [event(0, tricky), event(1, 'plain')]));
    const { rows } = await database.pool.query('select event_index, source, args, raw, block_number from indexer_events order by event_index');
    expect(rows.map((r) => ({ ...r, raw: fromRawPayload(r.raw) }))).toEqual([
      { event_index: 0, source: 'vault', args: { id: '1', metadataURI: tricky, big: (2n ** 255n).toString() }, raw: { topics, data: '0x00' }, block_number: 7n },
      { event_index: 1, source: 'vault', args: { id: '1', metadataURI: 'plain', big: (2n ** 255n).toString() }, raw: { topics, data: '0x00' }, block_number: 7n },
    ]);
    // One byte of count, two 32-byte topics, one byte of data.
    expect((rows[0].raw as Buffer).length).toBe(1 + 64 + 1);
  });

  it('refuses the same event twice (chain, block hash, event index)', async () => {
    await expect(inTransaction(database.pool, (client) => insertEvents(client, [event(0, 'again')]))).rejects.toThrow(/duplicate key/);
  });
});
