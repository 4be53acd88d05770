/**
 * Which stored coins the Sui relayer takes, on a real PostgreSQL: balances are
 * numbers, so a coin of 900 is smaller than one of 5,000 (ordered as the text
 * the queries read back, it would not be).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { coinsCovering, SUI_TYPE, takeCoins } from '../../src/chain/sui/relayer/objects.js';
import type { SuiRelayerContext } from '../../src/chain/sui/relayer/context.js';
import { inTransaction } from '../../src/db/transaction.js';
import { createTestDatabase } from '../harness/db.js';

const signer = normalizeSuiAddress('0x5161');
// Only what the coin queries read of a relayer's context: the chain and whose coins.
const ctx = { chain: 'sui:localnet-sim', signer } as SuiRelayerContext;
const objectId = (balance: number | bigint) => normalizeSuiAddress(`0x${balance.toString(16)}`);

describe('sui relayer: coin selection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    for (const balance of [900, 1_000, 5_000, 70]) {
      await database.pool.query(
        `insert into sui_owned_objects (chain, object_id, signer, object_type, coin_type, balance, version, digest) values ($1, $2, $3, 'coin', $4, $5, 1, 'digest')`,
        [ctx.chain, objectId(balance), signer, SUI_TYPE, balance],
      );
    }
  });
  afterAll(() => database.drop());

  // takeCoins holds its rows for the transaction only (lockFor stores a lock): every call sees all four coins.
  const take = (need: bigint) => inTransaction(database.pool, async (client) => (await takeCoins(client, ctx, SUI_TYPE, need))?.map((c) => c.balance) ?? null);

  it('takes the smallest single coin that covers the need, else the largest coins until they do', async () => {
    expect(await take(800n)).toEqual([900n]);
    expect(await take(950n)).toEqual([1_000n]);
    expect(await take(5_500n)).toEqual([5_000n, 1_000n]);
    expect(await take(6_000n)).toEqual([5_000n, 1_000n]);
    expect(await take(6_900n)).toEqual([5_000n, 1_000n, 900n]);
    expect(await take(10_000n)).toBeNull();
  });

  it('lists the coins covering a dry run largest first, and what the signer holds', async () => {
    expect(await coinsCovering(database.pool, ctx, SUI_TYPE, 5_800n)).toEqual({
      coins: [5_000n, 1_000n].map((balance) => ({ objectId: objectId(balance), version: 1n, digest: 'digest', balance })),
      held: 6_970n,
    });
  });
});
