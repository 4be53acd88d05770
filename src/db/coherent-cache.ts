import type pg from 'pg';

/**
 * An in-process cache of rows that PostgreSQL owns, emptied whenever a NOTIFY
 * on `channel` says they changed (the indexer sends one with each commit that
 * touches projections). While the LISTEN connection is down, nothing is served
 * from memory: a notification could have been missed.
 */
export class CoherentCache<V> {
  private readonly entries = new Map<string, V>();
  /** Bumped at every invalidation: a load that straddles one must not be cached. */
  private generation = 0;
  private listening = false;
  private client: pg.PoolClient | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly logger: { warn(obj: unknown, msg?: string): void },
    /** Entries kept at most, the oldest going first (insertion order); 0 turns the cache off. */
    private readonly maxEntries = 100_000,
  ) {}

  /** Starts listening; until it does, every read goes to PostgreSQL. */
  async start(): Promise<void> {
    if (this.closed || this.maxEntries === 0) return;
    try {
      const client = await this.pool.connect();
      client.on('notification', () => this.invalidate());
      client.on('error', () => this.lost(client));
      client.on('end', () => this.lost(client));
      await client.query(`listen ${this.channel}`);
      this.client = client;
      // Anything cached before the LISTEN took effect may be stale.
      this.invalidate();
      this.listening = true;
    } catch (error) {
      this.logger.warn({ err: error }, 'cache invalidation unavailable; reading from PostgreSQL and retrying in 5 s');
      setTimeout(() => void this.start(), 5_000).unref();
    }
  }

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.listening) {
      const hit = this.entries.get(key);
      if (hit !== undefined) return hit;
    }
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && this.listening && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, value);
    }
    return value;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    this.invalidate();
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.query(`unlisten ${this.channel}`).catch(() => {});
      client.release();
    }
  }

  private invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  private lost(client: pg.PoolClient): void {
    if (this.client !== client) return;
    this.listening = false;
    this.invalidate();
    this.client = undefined;
    client.release(true);
    if (!this.closed) {
      this.logger.warn({ channel: this.channel }, 'lost the cache invalidation connection; reading from PostgreSQL until it is back');
      setTimeout(() => void this.start(), 1_000).unref();
    }
  }
}
