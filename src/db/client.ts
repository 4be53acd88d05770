import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  /** For libraries that open their own connections (graphile-worker). Holds the password: never log it. */
  url: string;
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

// int8 (bigint) columns come back as strings by default; block numbers need BigInt. Set on our
// pools only, not globally: graphile-worker, in the same process, expects its ids as strings.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function connectDatabase(url: string, options: { max?: number; applicationName?: string } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'ledgersync',
    connectionTimeoutMillis: 10_000,
    types,
  });
  // A client losing its connection (e.g. Postgres restarting) must not crash the process;
  // the query that was using it fails and is handled by its caller.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema });
  return { url, pool, db, close: () => pool.end() };
}
