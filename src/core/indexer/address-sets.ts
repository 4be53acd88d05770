import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../../runtime/logger.js';

/** The channel the address_sets triggers notify (drizzle/0009_address_sets.sql). */
const CHANNEL = 'ledgersync_address_sets';
/** How long a sync waits for its own notification before the listener is taken for dead. */
const SYNC_TIMEOUT_MS = 5_000;

/**
 * The address sets a chain's sources follow, in memory and kept current: each
 * set is read once, then changed by the notifications its table's triggers
 * send, never re-read on a timer.
 */
export interface AddressSets {
  /** A set's members as they are now (normalised by the chain family). */
  members(name: string): ReadonlySet<string>;
  /**
   * Resolves once every change committed before the call is in `members`: the
   * reader calls it before filtering a batch, so an address added a moment ago
   * counts from the next block or checkpoint on.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** No sets to follow (no source names one). */
export const noAddressSets: AddressSets = {
  members: (name) => {
    throw new Error(`address set ${name} is not followed by this indexer`);
  },
  sync: async () => {},
  close: async () => {},
};

/**
 * Follows the sets `names` on a connection of its own. `sync` sends a
 * notification through that same connection and waits for it to come back:
 * PostgreSQL delivers notifications in commit order, so every change committed
 * before it has been applied by then. A listener that fails or goes quiet is
 * replaced, and the sets read again (LISTEN first, then the read, then the
 * notifications that arrived meanwhile, so nothing falls between).
 */
export async function watchAddressSets(pool: pg.Pool, names: string[], normalize: (address: string) => string, logger: Logger): Promise<AddressSets> {
  if (names.length === 0) return noAddressSets;
  const sets = new Map(names.map((name) => [name, new Set<string>()]));
  const waiting = new Map<string, () => void>();
  let listener: pg.PoolClient | undefined;
  let opening: Promise<void> | undefined;
  let closed = false;

  const apply = (payload: string) => {
    if (payload === '*') {
      for (const set of sets.values()) set.clear();
      return;
    }
    const [op, name, address] = payload.split(' ');
    if (op === 'sync') return waiting.get(name!)?.();
    const set = sets.get(name!);
    if (!set || !address) return;
    if (op === '+') set.add(normalize(address));
    else if (op === '-') set.delete(normalize(address));
  };

  const drop = () => {
    listener?.release(true);
    listener = undefined;
  };

  const open = async () => {
    const client = await pool.connect();
    const early: string[] = [];
    let loading = true;
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || message.payload === undefined) return;
      if (loading && !message.payload.startsWith('sync ')) early.push(message.payload);
      else apply(message.payload);
    });
    client.on('error', (error) => {
      logger.warn({ err: error.message }, 'address set listener lost; reading the sets again');
      if (listener === client) drop();
    });
    try {
      await client.query(`listen ${CHANNEL}`);
      const { rows } = await client.query<{ name: string; address: string }>('select name, address from address_sets where name = any($1)', [names]);
      for (const set of sets.values()) set.clear();
      for (const row of rows) sets.get(row.name)?.add(normalize(row.address));
      for (const payload of early) apply(payload);
      loading = false;
      listener = client;
      logger.info({ sets: Object.fromEntries([...sets].map(([name, set]) => [name, set.size])) }, 'following address sets');
    } catch (error) {
      client.release(true);
      throw error;
    }
  };

  const ensureOpen = () => (listener ? Promise.resolve() : (opening ??= open().finally(() => (opening = undefined))));

  const sync = async (): Promise<void> => {
    if (closed) throw new Error('address sets closed');
    await ensureOpen();
    const client = listener!;
    const token = randomUUID();
    const back = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), SYNC_TIMEOUT_MS);
      waiting.set(token, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      await client.query('select pg_notify($1, $2)', [CHANNEL, `sync ${token}`]);
      if (await back) return;
      logger.warn('address set listener went quiet; reading the sets again');
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'address set listener failed; reading the sets again');
    } finally {
      waiting.delete(token);
    }
    // Read again on a new connection: what it reads is current as of now.
    if (listener === client) drop();
    await ensureOpen();
  };

  await ensureOpen();
  return {
    members(name) {
      const set = sets.get(name);
      if (!set) throw new Error(`address set ${name} is not followed by this indexer`);
      return set;
    },
    sync,
    async close() {
      closed = true;
      drop();
    },
  };
}
