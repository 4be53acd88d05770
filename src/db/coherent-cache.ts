import type pg from 'pg';
import { ChannelListener } from './channel-listener.js';

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
  private closed = false;
  private readonly maxEntries: number;
  private readonly listener: ChannelListener;

  constructor(pool: pg.Pool, channel: string, logger: { warn(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void }, options: CoherentCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    const relevant = options.relevant ?? (() => true);
    this.listener = new ChannelListener(pool, channel, logger, {
      heartbeatMs: options.heartbeatMs ?? 5_000,
      heartbeatPrefix: HEARTBEAT_PREFIX,
      messages: {
        unavailable: 'cache invalidation unavailable; reading from PostgreSQL and retrying every {heartbeatMs} ms',
        lost: 'lost the cache invalidation connection',
        deaf:
          'no cache heartbeat came back through LISTEN within {ms} ms: the connection was dropped silently (idle timeout, NAT), ' +
          'or notifications never arrive (a pooler in transaction mode such as PgBouncer with pool_mode=transaction); reading from PostgreSQL until one does',
        back: 'cache invalidation is back; serving from memory again',
      },
      // A change to what the rows come from empties the cache.
      onPayload: (payload) => {
        if (payload !== undefined && relevant(payload)) this.invalidate();
      },
      // Notifications sent before the LISTEN took effect were missed: nothing loaded until now is kept.
      onHeard: () => {
        if (this.serving) return;
        this.invalidate();
        this.serving = true;
      },
      onLost: () => this.stopServing(),
    });
  }

  /** Starts listening; until its first heartbeat is back, every read goes to PostgreSQL. */
  async start(): Promise<void> {
    if (this.closed || this.maxEntries === 0) return;
    await this.listener.start();
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
    this.stopServing();
    await this.listener.close();
  }

  private stopServing(): void {
    this.serving = false;
    this.invalidate();
  }

  private invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}
