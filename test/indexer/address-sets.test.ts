import { describe, expect, it, onTestFinished } from 'vitest';
import { createWalletClient, http, type Address } from 'viem';
import { foundry } from 'viem/chains';
import { mnemonicToAccount } from 'viem/accounts';
import { evmSource } from '../../src/engine/index.js';
import { startIndexer } from '../../src/core/indexer/indexer.js';
import { createLogger } from '../../src/runtime/logger.js';
import { testTokenAbi, testTokenBytecode } from '../../contracts/artifacts/TestToken.js';
import { createTestDatabase } from '../harness/db.js';
import { connectTestChain } from '../harness/evm.js';
import { ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';
import { until } from '../harness/until.js';

/** The writers whose writes the indexer kept, in chain order. */
async function keptWriters(pool: import('pg').Pool): Promise<string[]> {
  const { rows } = await pool.query<{ writer: string }>("select args->>'writer' as writer from indexer_events where name = 'Written' order by block_number, event_index");
  return rows.map((r) => r.writer);
}

/**
 * An address-set source (the test ledger's Written events, kept when their
 * writer is in set `writers`): the set is read once and then followed by
 * notification, so a member added a moment ago counts from the next block.
 */
describe('address sets on an EVM source', () => {
  it('keeps only members’ events; an address added or removed counts from the next block on', async () => {
    const world = await ledgerWorld();
    const [alice, bob] = [world.devAccount(1), world.devAccount(2)];
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, app: { withoutFactory: true, writersSet: 'writers' } });
    const { pool } = live.database;
    await pool.query("insert into address_sets (name, address) values ('writers', $1)", [alice]);
    await world.writeAs(1, 'a-1', 1n);
    await world.writeAs(2, 'b-1', 1n);
    await world.writeAs(1, 'a-2', 2n);
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    expect(await keptWriters(pool)).toEqual([alice, alice]);

    // Bob joins: his very next write is kept, however soon after it comes.
    await pool.query("insert into address_sets (name, address) values ('writers', $1)", [bob.toUpperCase().replace('0X', '0x')]);
    await world.writeAs(2, 'b-2', 2n);
    // Alice leaves.
    await pool.query("delete from address_sets where name = 'writers' and address = $1", [alice]);
    await world.writeAs(1, 'a-3', 3n);
    await world.writeAs(2, 'b-3', 3n);
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    expect(await keptWriters(pool)).toEqual([alice, alice, bob, bob]);
    const { rows } = await pool.query("select key, writer from ledger_entries order by block");
    expect(rows.map((r) => r.writer)).toEqual([alice, alice, bob, bob]);
  });

  it('reads the set again when its listening connection is lost, missing no change', async () => {
    const world = await ledgerWorld();
    const alice = world.devAccount(1);
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 2, app: { withoutFactory: true, writersSet: 'writers' } });
    const { pool } = live.database;
    await world.writeAs(1, 'a-0', 1n);
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    expect(await keptWriters(pool)).toEqual([]);

    // The listener's connection dies; Alice joins while nobody listens.
    const listeners = async () => (await pool.query("select pid from pg_stat_activity where query like 'listen %' or query like 'select pg_notify($1, $2)'")).rows;
    await until(async () => (await listeners()).length > 0, 'the address set listener');
    await pool.query("select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and (query like 'listen %' or query like 'select pg_notify($1, $2)')");
    await pool.query("insert into address_sets (name, address) values ('writers', $1)", [alice]);
    await world.writeAs(1, 'a-1', 2n);
    await live.indexer.waitForBlock(await world.publicClient.getBlockNumber());
    expect(await keptWriters(pool)).toEqual([alice]);
  });

  it('follows an ERC-20 token’s Transfers to or from any member (mints included), and no others', async () => {
    const world = await ledgerWorld();
    const account = (i: number) => mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i });
    const wallet = (i: number) => createWalletClient({ account: account(i), chain: foundry, transport: http(world.rpcUrl) });
    const mined = async (hash: `0x${string}`) => world.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    const deployed = await mined(await wallet(0).deployContract({ abi: testTokenAbi, bytecode: testTokenBytecode }));
    const token = deployed.contractAddress!;
    const address = (i: number) => account(i).address.toLowerCase() as Address;
    const [alice, bob, carol, dave] = [address(1), address(2), address(3), address(4)];

    const database = await createTestDatabase();
    onTestFinished(() => database.drop());
    await database.pool.query("insert into address_sets (name, address) values ('wallets', $1), ('wallets', $2)", [alice, bob]);
    const source = evmSource({ name: 'token', chain: world.chain, abi: testTokenAbi, address: token, startBlock: deployed.blockNumber, addressSet: { name: 'wallets', args: ['from', 'to'] } });
    const chain = await connectTestChain(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 2 });
    const indexer = await startIndexer(chain, database.pool, [source], [], { pollIntervalMs: 100 }, createLogger('silent'));
    onTestFinished(() => indexer.stop());

    const transfer = async (from: number, to: Address, amount: bigint) => mined(await wallet(from).writeContract({ address: token, abi: testTokenAbi, functionName: 'transfer', args: [to, amount] }));
    for (const to of [alice, carol, dave]) await mined(await wallet(0).writeContract({ address: token, abi: testTokenAbi, functionName: 'mint', args: [to, 100n] }));
    await transfer(1, carol, 1n); // from a member
    await transfer(3, bob, 2n); // to a member
    await transfer(3, dave, 3n); // between outsiders
    await transfer(1, bob, 4n); // between members
    const last = await transfer(4, carol, 5n); // between outsiders
    await indexer.waitForBlock(last.blockNumber);

    const { rows } = await database.pool.query<{ from: string; to: string; value: string }>(
      "select args->>'from' as from, args->>'to' as to, args->>'value' as value from indexer_events where source = 'token' and name = 'Transfer' order by block_number, event_index",
    );
    const zero = '0x0000000000000000000000000000000000000000';
    expect(rows).toEqual([
      { from: zero, to: alice, value: '100' },
      { from: alice, to: carol, value: '1' },
      { from: carol, to: bob, value: '2' },
      { from: alice, to: bob, value: '4' },
    ]);
  });

  it('refuses names and addresses that would be ambiguous in notifications', async () => {
    const world = await ledgerWorld();
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, app: { withoutFactory: true } });
    await expect(live.database.pool.query("insert into address_sets (name, address) values ('my users', '0x1')")).rejects.toThrow(/address_sets_no_spaces/);
    await expect(live.database.pool.query("insert into address_sets (name, address) values ('users', '')")).rejects.toThrow(/address_sets_no_spaces/);
  });
});
