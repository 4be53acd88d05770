import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

// int8 (bigint) columns come back as strings by default; block numbers need BigInt.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => BigInt(value));

export function connectDatabase(url: string, options: { max?: number; applicationName?: string } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'ledgersync',
    connectionTimeoutMillis: 10_000,
  });
  // A client losing its connection (e.g. Postgres restarting) must not crash the process;
  // the query that was using it fails and is handled by its caller.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema });
  return { pool, db, close: () => pool.end() };
}
