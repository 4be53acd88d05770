import { describe, expect, it, onTestFinished } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { authenticate } from '../../src/http/api-keys.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { ledgerTestApp } from '../app/index.js';
import { scratchDir } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';
import { runIndexer } from '../harness/credentials-indexer.js';
import { vaultWorld } from '../harness/vault-world.js';

/**
 * `ledgersync migrate` (src/db/migrate.ts): the engine's migrations (drizzle/),
 * then each app's, each app with its own record of what was applied; and the
 * upgrade of a database made by the engine before v2 (drizzle/0008_engine_v2.sql).
 */

const CHAIN = 'evm:31337';
const credentials = credentialsApp({ chain: CHAIN });
const ledger = ledgerTestApp({ chain: CHAIN });

/** A fresh, empty database, connected; dropped when the test ends. */
async function emptyDatabase(): Promise<Database & { drop(): Promise<void> }> {
  const empty = await createEmptyDatabase();
  const database = connectDatabase(empty.url);
  const drop = async () => {
    await database.close();
    await empty.drop();
  };
  onTestFinished(drop);
  return { ...database, drop };
}

const tables = async (database: Database, schema = 'public') =>
  (await database.pool.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by 1', [schema])).rows.map((r) => r.table_name);

/** Each migrations table (drizzle's schema) and the migrations it records. */
async function migrationRecords(database: Database): Promise<Record<string, Array<{ hash: string; created_at: string }>>> {
  const records: Record<string, Array<{ hash: string; created_at: string }>> = {};
  for (const table of await tables(database, 'drizzle')) {
    records[table] = (await database.pool.query(`select hash, created_at::text from drizzle."${table}" order by id`)).rows;
  }
  return records;
}

/** The migrations listed in a drizzle-kit folder's journal. */
const journal = (folder: string): Array<{ idx: number; tag: string; when: number }> => JSON.parse(readFileSync(join(packageRoot, folder, 'meta', '_journal.json'), 'utf8')).entries;

/** A drizzle-kit migrations folder of these SQL files, in order. */
function migrationsFolder(files: Array<{ tag: string; sql: string }>, dir = scratchDir()): string {
  mkdirSync(join(dir, 'meta'), { recursive: true });
  for (const file of files) writeFileSync(join(dir, `${file.tag}.sql`), file.sql);
  const entries = files.map((file, idx) => ({ idx, version: '7', when: 1_800_000_000_000 + idx, tag: file.tag, breakpoints: true }));
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }));
  return dir;
}

describe('ledgersync migrate', () => {
  it("applies the engine's migrations, then each app's, with one migrations table per app; a second run changes nothing", async () => {
    const database = await emptyDatabase();
    await migrateDatabase(database, [credentials, ledger]);

    expect(await tables(database)).toEqual(
      expect.arrayContaining(['indexer_checkpoints', 'indexer_events', 'relayer_intents', 'relayer_transactions', 'evm_nonces', 'api_keys', 'credentials', 'institutions', 'ledger_entries', 'ledger_children']),
    );
    const records = await migrationRecords(database);
    expect(Object.keys(records)).toEqual(['__drizzle_migrations', '__drizzle_migrations_credentials', '__drizzle_migrations_ledger']);
    // Every migration of each folder, recorded in its own table, in order.
    expect(records.__drizzle_migrations!.map((r) => Number(r.created_at))).toEqual(journal('drizzle').map((e) => e.when));
    expect(records.__drizzle_migrations_credentials!.map((r) => Number(r.created_at))).toEqual(journal(credentials.migrations!).map((e) => e.when));
    expect(records.__drizzle_migrations_ledger!.map((r) => Number(r.created_at))).toEqual(journal(ledger.migrations!).map((e) => e.when));

    // Data written in between survives a second run, which applies nothing.
    await database.pool.query(`insert into ledger_entries (chain, key, value, writer, block, transaction, writes) values ($1, 'k', 7, '0xw', 1, '0xt', 1)`, [CHAIN]);
    await database.pool.query(`insert into institutions (chain, address, name, metadata_uri, active, updated_at, updated_block) values ($1, '0xi', 'Uni', 'ipfs://u', true, 1, 1)`, [CHAIN]);
    const columns = async () => (await database.pool.query(`select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by 1, 2`)).rows;
    const before = await columns();
    await migrateDatabase(database, [credentials, ledger]);
    expect(await migrationRecords(database)).toEqual(records);
    expect(await columns()).toEqual(before);
    expect((await database.pool.query('select key, value::text from ledger_entries')).rows).toEqual([{ key: 'k', value: '7' }]);
    expect((await database.pool.query('select name from institutions')).rows).toEqual([{ name: 'Uni' }]);
  });

  it("stops at an app whose migration fails, naming the app and the failure, with the engine's and earlier apps' migrations applied; the next run, once repaired, goes on", async () => {
    const database = await emptyDatabase();
    const folder = migrationsFolder([
      { tag: '0000_first', sql: 'CREATE TABLE "broken_first" ("id" integer PRIMARY KEY);' },
      { tag: '0001_second', sql: 'CREATE TABLE "broken_second" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO "no_such_table" VALUES (1);' },
    ]);
    const broken = { name: 'broken', migrations: folder };

    const failure = await migrateDatabase(database, [credentials, broken, ledger]).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    // One line (the CLI prints the first): whose migrations, PostgreSQL's reason, the statement.
    expect(failure?.message).toBe(`migrations of app broken (${folder}) failed; none of its pending migrations was applied: relation "no_such_table" does not exist, in: INSERT INTO "no_such_table" VALUES (1);`);

    const records = await migrationRecords(database);
    expect(records.__drizzle_migrations).toHaveLength(journal('drizzle').length);
    expect(records.__drizzle_migrations_credentials).toHaveLength(journal(credentials.migrations!).length);
    // The failing app's pending migrations went together, and the apps after it were not reached.
    expect(records.__drizzle_migrations_broken).toEqual([]);
    expect(records.__drizzle_migrations_ledger).toBeUndefined();
    const present = await tables(database);
    expect(present).toEqual(expect.arrayContaining(['relayer_intents', 'credentials', 'institutions']));
    expect(present.filter((t) => t.startsWith('broken_') || t.startsWith('ledger_'))).toEqual([]);

    // Repaired, the next run applies the rest.
    migrationsFolder(
      [
        { tag: '0000_first', sql: 'CREATE TABLE "broken_first" ("id" integer PRIMARY KEY);' },
        { tag: '0001_second', sql: 'CREATE TABLE "broken_second" ("id" integer PRIMARY KEY);' },
      ],
      folder,
    );
    await migrateDatabase(database, [credentials, broken, ledger]);
    expect(await tables(database)).toEqual(expect.arrayContaining(['broken_first', 'broken_second', 'ledger_entries', 'ledger_children']));
    expect((await migrationRecords(database)).__drizzle_migrations_broken).toHaveLength(2);
  });
});

/** The credentials tables as the engine's first migration made them before v2 (keyed by a numeric chain id). */
const OLD_CREDENTIALS_TABLES = `CREATE TABLE "credentials" (
	"chain_id" bigint NOT NULL,
	"credential_id" numeric(78, 0) NOT NULL,
	"institution" text NOT NULL,
	"student" text NOT NULL,
	"fingerprint" text NOT NULL,
	"metadata_uri" text NOT NULL,
	"issued_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"issued_block" bigint NOT NULL,
	"issued_transaction" text NOT NULL,
	"revoked" boolean DEFAULT false NOT NULL,
	"revoked_at" bigint,
	"revocation_reason" text,
	"revoked_transaction" text,
	CONSTRAINT "credentials_chain_id_credential_id_pk" PRIMARY KEY("chain_id","credential_id")
);
--> statement-breakpoint
CREATE TABLE "institutions" (
	"chain_id" bigint NOT NULL,
	"address" text NOT NULL,
	"name" text NOT NULL,
	"metadata_uri" text NOT NULL,
	"active" boolean NOT NULL,
	"updated_at" bigint NOT NULL,
	"updated_block" bigint NOT NULL,
	CONSTRAINT "institutions_chain_id_address_pk" PRIMARY KEY("chain_id","address")
);
--> statement-breakpoint
CREATE INDEX "credentials_student" ON "credentials" USING btree ("student");--> statement-breakpoint
CREATE INDEX "credentials_fingerprint" ON "credentials" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "credentials_institution" ON "credentials" USING btree ("institution");`;

/**
 * A database as the engine left it before v2: graphile-worker's schema and the
 * engine's migrations 0000–0007 (0000 with the credentials tables it made then),
 * applied by drizzle's migrator from a copy of drizzle/ cut at 0007, and the
 * journal triggers the old indexer put on its projection tables.
 */
async function preV2Database() {
  const database = await emptyDatabase();
  const dir = scratchDir();
  mkdirSync(join(dir, 'meta'));
  const entries = journal('drizzle').filter((e) => e.idx <= 7);
  expect(entries.map((e) => e.tag).at(-1)).toBe('0007_final_is_the_chain_finality');
  for (const entry of entries) copyFileSync(join(packageRoot, 'drizzle', `${entry.tag}.sql`), join(dir, `${entry.tag}.sql`));
  writeFileSync(join(dir, '0000_init.sql'), `${readFileSync(join(dir, '0000_init.sql'), 'utf8')}--> statement-breakpoint\n${OLD_CREDENTIALS_TABLES}`);
  const { entries: _, ...meta } = JSON.parse(readFileSync(join(packageRoot, 'drizzle', 'meta', '_journal.json'), 'utf8'));
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...meta, entries }));
  await runWorkerMigrations({ pgPool: database.pool });
  await migrate(database.db, { migrationsFolder: dir });
  for (const table of ['credentials', 'institutions']) {
    await database.pool.query(`create trigger ledgersync_journal after insert or update or delete on ${table}
      for each row when (coalesce(current_setting('ledgersync.block_number', true), '') <> '') execute function ledgersync_journal()`);
  }
  return database;
}

describe('upgrading a database of the engine before v2 (drizzle/0008_engine_v2.sql)', () => {
  it('converts the relayer rows, signers and API keys, empties the indexer and the apps’ projections, and leaves them usable', async () => {
    const database = await preV2Database();
    const { pool } = database;
    const signer = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
    const eip1559Raw = `0x02f8b1827a69${'ab'.repeat(40)}`;
    const legacyRaw = `0xf86c0a85${'cd'.repeat(30)}`;
    const institutionKey = `lsk_0123456789ab_${'I'.repeat(43)}`;
    const adminKey = `lsk_ba9876543210_${'A'.repeat(43)}`;
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

    // What the old engine held: an intent and its two transactions (EIP-1559, then a legacy replacement), a signer's next nonce, API keys…
    await pool.query(
      `insert into relayer_intents (idempotency_key, kind, chain_id, signer, contract, to_address, function_name, args, data, value, state, nonce, gas_limit,
         transaction_hash, block_number, block_hash, submitted_by)
       values ('diploma-1', 'credentials.issue', 31337, $1, 'BlockProofCredentialVault', '0x5fbdb2315678afecb367f032d93f642f64180aa3', 'issueCredential',
         '["0xabc"]', '0xdeadbeef', 0, 'confirmed', 4, 210000, $2, 12, $3, 'key:0123456789ab')`,
      [signer, `0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`],
    );
    await pool.query(
      `insert into relayer_transactions (hash, intent_id, chain_id, signer, nonce, raw, max_fee_per_gas, max_priority_fee_per_gas, gas_price, status, signed_by)
       values ($1, 1, 31337, $2, 4, $3, 30000000000, 1500000000, null, 'replaced', 'relayer'),
              ($4, 1, 31337, $2, 4, $5, null, null, 45000000000, 'included', 'relayer')`,
      [`0x${'33'.repeat(32)}`, signer, eip1559Raw, `0x${'11'.repeat(32)}`, legacyRaw],
    );
    await pool.query(`insert into relayer_signers (chain_id, address, next_nonce) values (31337, $1, 5)`, [signer]);
    await pool.query(
      `insert into api_keys (id, key_hash, institution, admin, name) values
         ('0123456789ab', $1, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', false, 'Universidad'),
         ('ba9876543210', $2, null, true, 'operator')`,
      [sha256(institutionKey), sha256(adminKey)],
    );
    // …and what its indexer had built from the chain, journal included.
    await pool.query(`insert into indexer_checkpoints (chain_id, block_number, block_hash) values (31337, 12, $1)`, [`0x${'22'.repeat(32)}`]);
    await pool.query(`insert into indexer_blocks (chain_id, number, hash, parent_hash, timestamp) values (31337, 12, $1, $2, 1700000000)`, [`0x${'22'.repeat(32)}`, `0x${'44'.repeat(32)}`]);
    await pool.query(
      `insert into indexer_events (chain_id, block_number, block_hash, block_timestamp, transaction_hash, transaction_index, log_index, address, event_name, args, topics, data)
       values (31337, 12, $1, 1700000000, $2, 0, 0, '0x5fbdb2315678afecb367f032d93f642f64180aa3', 'CredentialIssued', '{}', '{}', '0x')`,
      [`0x${'22'.repeat(32)}`, `0x${'11'.repeat(32)}`],
    );
    await pool.query(`insert into indexer_journal (chain_id, block_number, table_name, op, new_row) values (31337, 12, 'credentials', 'I', '{}')`);
    await pool.query(
      `insert into credentials (chain_id, credential_id, institution, student, fingerprint, metadata_uri, issued_at, expires_at, issued_block, issued_transaction)
       values (31337, 1, '0xf39f', '0x3c44', '0xfp', 'ipfs://d', 1700000000, 0, 12, $1)`,
      [`0x${'11'.repeat(32)}`],
    );

    await migrateDatabase(database, [credentials]);

    // Intents: chain keys, and the chain-neutral names of their columns.
    expect((await pool.query('select chain, signer, contract, target, payload, sequence, fee_limit::text, transaction_id, state, submitted_by from relayer_intents')).rows).toEqual([
      {
        chain: CHAIN,
        signer,
        contract: 'BlockProofCredentialVault',
        target: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
        payload: '0xdeadbeef',
        sequence: 4n,
        fee_limit: '210000',
        transaction_id: `0x${'11'.repeat(32)}`,
        state: 'confirmed',
        submitted_by: 'key:0123456789ab',
      },
    ]);
    // Transactions: the signed bytes as bytes, the fees as the family's JSON.
    const { rows: transactions } = await pool.query('select id, chain, sequence, raw, fees, status from relayer_transactions order by status desc');
    expect(transactions).toEqual([
      { id: `0x${'33'.repeat(32)}`, chain: CHAIN, sequence: 4n, raw: Buffer.from(eip1559Raw.slice(2), 'hex'), fees: { maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1500000000' }, status: 'replaced' },
      { id: `0x${'11'.repeat(32)}`, chain: CHAIN, sequence: 4n, raw: Buffer.from(legacyRaw.slice(2), 'hex'), fees: { gasPrice: '45000000000' }, status: 'included' },
    ]);
    // Nonces: the EVM family's own table.
    expect((await pool.query('select chain, signer, next_nonce from evm_nonces')).rows).toEqual([{ chain: CHAIN, signer, next_nonce: 5n }]);
    expect(await tables(database)).not.toContain('relayer_signers');
    // API keys: roles and scope, and the keys still work.
    expect(await authenticate(pool, institutionKey)).toEqual({ keyId: '0123456789ab', roles: ['credentials.institution'], scope: { institution: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266' }, admin: false });
    expect(await authenticate(pool, adminKey)).toEqual({ keyId: 'ba9876543210', roles: ['admin'], scope: {}, admin: true });

    // The indexer's tables and the app's projections start empty, in their new shape…
    for (const table of ['indexer_checkpoints', 'indexer_blocks', 'indexer_events', 'indexer_journal', 'indexer_sources', 'indexer_children', 'credentials', 'institutions']) {
      expect((await pool.query(`select count(*)::int as n from ${table}`)).rows[0], table).toEqual({ n: 0 });
    }
    expect((await migrationRecords(database)).__drizzle_migrations).toHaveLength(journal('drizzle').length);

    // …and an indexer fills them from the chain.
    const world = await vaultWorld();
    const issued = await world.issueBatch(2);
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 1, database });
    await live.indexer.waitForBlock(issued);
    expect((await pool.query('select chain, credential_id::text from credentials order by credential_id')).rows).toEqual([
      { chain: CHAIN, credential_id: '1' },
      { chain: CHAIN, credential_id: '2' },
    ]);
    expect((await pool.query('select chain, block_number from indexer_checkpoints')).rows).toEqual([{ chain: CHAIN, block_number: issued }]);
  });
});
