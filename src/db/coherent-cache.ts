import { randomUUID } from 'node:crypto';
import type pg from 'pg';

export interface CoherentCacheOptions {
  /** Entries kept at most, the oldest going first (insertion order); 0 turns the cache off. */
  maxEntries?: number;
  /** How often the cache sends itself a heartbeat through the channel; it goes deaf after three intervals without one back. */
  heartbeatMs?: number;
  /** Which notifications empty it (default: any but heartbeats), e.g. only those of the projections its rows come from. */
  relevant?: (payload: string) => boolean;
}

/** Payload of heartbeats; any other payload on the channel says rows changed. */
const HEARTBEAT_PREFIX = 'ledgersync-cache-heartbeat:';
const MISSED_HEARTBEATS = 3;

/**
 * An in-process cache of rows that PostgreSQL owns, emptied whenever a NOTIFY
 * on `channel` says they changed (the indexer sends one with each commit that
 * touches projections).
 *
 * A LISTEN connection can stop delivering without anyone being told: dropped by
 * a NAT or firewall idle timeout, or never working at all behind a pooler in
 * transaction mode. So the cache NOTIFYs itself every `heartbeatMs` through an
 * ordinary pool connection, and serves from memory only while those heartbeats
 * come back: when none has for three intervals it empties itself, reads go to
 * PostgreSQL, and it LISTENs again on a new connection, serving again once a
 * heartbeat has made the round trip there. Staleness is bounded by about four
 * intervals.
 */
export class CoherentCache<V> {
  private readonly entries = new Map<string, V>();
  /** Bumped at every invalidation: a load that straddles one must not be cached. */
  private generation = 0;
  /** Our heartbeat came back through the current listener recently: memory is as fresh as the notifications. */
  private serving = false;
  private listener: pg.PoolClient | undefined;
  private connecting = false;
  /** When the current listener last delivered our heartbeat (or was opened). */
  private lastHeard = 0;
  /** An outage was logged; cleared, with a line saying so, when the cache serves again. */
  private warned = false;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<unknown> | undefined;
  private closed = false;
  private readonly heartbeat = `${HEARTBEAT_PREFIX}${randomUUID()}`;
  private readonly maxEntries: number;
  private readonly heartbeatMs: number;
  private readonly relevant: (payload: string) => boolean;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly logger: { warn(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void },
    options: CoherentCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.relevant = options.relevant ?? (() => true);
  }

  /** Starts listening; until its first heartbeat is back, every read goes to PostgreSQL. */
  async start(): Promise<void> {
    if (this.closed || this.maxEntries === 0) return;
    // The same beat reconnects a listener that was lost or went deaf.
    this.timer ??= setInterval(() => void this.beat(), this.heartbeatMs).unref();
    await this.listen();
  }

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.serving) {
      const hit = this.entries.get(key);
      if (hit !== undefined) return hit;
    }
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && this.serving && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, value);
    }
    return value;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const listener = this.listener;
    this.stopServing();
    // Ending the session ends its LISTEN; an UNLISTEN could wait forever on a dead connection.
    listener?.release(true);
  }

  private async listen(): Promise<void> {
    if (this.connecting || this.listener || this.closed) return;
    this.connecting = true;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.outage({ err: error }, `cache invalidation unavailable; reading from PostgreSQL and retrying every ${this.heartbeatMs} ms`);
      return;
    } finally {
      this.connecting = false;
    }
    if (this.closed) return client.release();
    this.listener = client;
    // A LISTEN that hangs counts as deaf too.
    this.lastHeard = Date.now();
    client.on('notification', ({ payload }) => this.notified(client, payload));
    client.on('error', () => this.drop(client, 'lost the cache invalidation connection'));
    client.on('end', () => this.drop(client, 'lost the cache invalidation connection'));
    try {
      await client.query(`listen ${this.channel}`);
      // Serve as soon as it is back, not an interval from now.
      await this.sendHeartbeat();
    } catch {
      this.drop(client, 'lost the cache invalidation connection');
    }
  }

  private async beat(): Promise<void> {
    const listener = this.listener;
    if (listener && Date.now() - this.lastHeard > MISSED_HEARTBEATS * this.heartbeatMs) {
      this.drop(
        listener,
        `no cache heartbeat came back through LISTEN within ${MISSED_HEARTBEATS * this.heartbeatMs} ms: the connection was dropped silently (idle timeout, NAT), ` +
          'or notifications never arrive (a pooler in transaction mode such as PgBouncer with pool_mode=transaction); reading from PostgreSQL until one does',
      );
    }
    if (!this.listener) return this.listen();
    await this.sendHeartbeat();
  }

  /** Through an ordinary pool connection: it proves the listener hears what other sessions commit. */
  private async sendHeartbeat(): Promise<void> {
    this.beating ??= this.pool
      .query('select pg_notify($1, $2)', [this.channel, this.heartbeat])
      .catch(() => {
        // PostgreSQL unreachable: no heartbeat comes back, and the cache goes deaf, as it should.
      })
      .finally(() => (this.beating = undefined));
    await this.beating;
  }

  private notified(client: pg.PoolClient, payload: string | undefined): void {
    if (client !== this.listener) return;
    if (payload === this.heartbeat) {
      this.lastHeard = Date.now();
      if (!this.serving) this.startServing();
    } else if (payload !== undefined && !payload.startsWith(HEARTBEAT_PREFIX) && this.relevant(payload)) {
      // Another process's heartbeat says nothing about rows; a change to what the rows come from does.
      this.invalidate();
    }
  }

  private startServing(): void {
    // Notifications sent before the LISTEN took effect were missed: nothing loaded until now is kept.
    this.invalidate();
    this.serving = true;
    if (this.warned) this.logger.info({ channel: this.channel }, 'cache invalidation is back; serving from memory again');
    this.warned = false;
  }

  private stopServing(): void {
    this.serving = false;
    this.listener = undefined;
    this.invalidate();
  }

  private drop(client: pg.PoolClient, reason: string): void {
    if (client !== this.listener) return;
    this.stopServing();
    client.release(true);
    if (!this.closed) this.outage({ channel: this.channel }, reason);
  }

  /** Logged once per outage, however many reconnections it takes. */
  private outage(fields: object, message: string): void {
    if (!this.warned) this.logger.warn(fields, message);
    this.warned = true;
  }

  private invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}
