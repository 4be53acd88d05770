import { inject } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase, type AppMigrations } from '../../src/db/migrate.js';

/** A fresh, empty database on the run's PostgreSQL (for tests that start ledgersync themselves). */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('databaseUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** A fresh database with the engine's migrations (and these apps') applied, for this test file alone. */
export async function createTestDatabase(apps: AppMigrations[] = []): Promise<Database & { url: string; drop(): Promise<void> }> {
  const empty = await createEmptyDatabase();
  const database = connectDatabase(empty.url);
  await migrateDatabase(database, apps);
  return {
    ...database,
    url: empty.url,
    async drop() {
      await database.close();
      await empty.drop();
    },
  };
}
