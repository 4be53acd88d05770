import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../../../engine/index.js';

/** The channel the `payments` projection NOTIFYs on, once per record whose recipient is one of our accounts, when its block commits. */
export const RECEIVED_CHANNEL = 'payments_received';

/** What the projection sends (JSON). */
export interface ReceivedNotice {
  accountId: string;
  userId: string;
  chain: string;
  transactionId: string;
  eventIndex: number;
  kind: string;
  token: string;
  amount: string;
  sender: string | null;
  reference: string | null;
  blockNumber: string;
}

/** The in-process topic of one user's payments: a subscriber hears only its own user's. */
export const receivedTopic = (userId: string) => `payments.received.${userId}`;

const HEARTBEAT = 'payments-feed-heartbeat:';

/** A notice as the projection sent it, or undefined for anything else on the channel (heartbeats, a malformed payload). */
export function parseNotice(payload: string | undefined): ReceivedNotice | undefined {
  if (!payload || payload.startsWith(HEARTBEAT)) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined);
  const accountId = text(value.accountId);
  const userId = text(value.userId);
  if (!accountId || !userId || typeof value.transactionId !== 'string') return undefined;
  return {
    accountId,
    userId,
    chain: String(value.chain),
    transactionId: value.transactionId,
    eventIndex: Number(value.eventIndex),
    kind: String(value.kind),
    token: String(value.token),
    amount: text(value.amount) ?? '0',
    sender: typeof value.sender === 'string' ? value.sender : null,
    reference: typeof value.reference === 'string' ? value.reference : null,
    blockNumber: text(value.blockNumber) ?? '0',
  };
}

/**
 * One LISTEN connection per API process on `payments_received`, handing each
 * notice to `publish` (the GraphQL pubsub, topic per user). A LISTEN
 * connection can die loudly (an error, PostgreSQL restarted) or silently (a
 * NAT's idle timeout): the feed NOTIFYs itself a heartbeat every
 * `heartbeatMs` through the pool and, when one has not come back for three
 * intervals, or on an error, LISTENs again on a new connection. Notices sent
 * while it was deaf are lost (clients read their history again when they
 * reconnect, as the schema says); each outage is logged once.
 */
export class ReceivedFeed {
  private listener: pg.PoolClient | undefined;
  private connecting = false;
  private lastHeard = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private warned = false;
  private readonly heartbeat = `${HEARTBEAT}${randomUUID()}`;

  constructor(
    private readonly pool: pg.Pool,
    private readonly publish: (notice: ReceivedNotice) => void,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly heartbeatMs = 5_000,
  ) {}

  async start(): Promise<void> {
    this.timer ??= setInterval(() => void this.beat(), this.heartbeatMs).unref();
    await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    // Ending the session ends the LISTEN; an UNLISTEN could wait forever on a dead connection.
    listener?.release(true);
  }

  /** True while the current connection has LISTENed and its heartbeat has come back. */
  get listening(): boolean {
    return this.listener !== undefined && Date.now() - this.lastHeard <= 3 * this.heartbeatMs;
  }

  private async listen(): Promise<void> {
    if (this.connecting || this.listener || this.closed) return;
    this.connecting = true;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.outage({ err: error }, `payments feed: cannot LISTEN on ${RECEIVED_CHANNEL}; retrying every ${this.heartbeatMs} ms`);
      return;
    } finally {
      this.connecting = false;
    }
    if (this.closed) return client.release();
    this.listener = client;
    this.lastHeard = Date.now();
    client.on('notification', ({ channel, payload }) => this.notified(client, channel, payload));
    client.on('error', () => this.drop(client, 'payments feed: lost its LISTEN connection'));
    client.on('end', () => this.drop(client, 'payments feed: lost its LISTEN connection'));
    try {
      await client.query(`listen ${RECEIVED_CHANNEL}`);
      await this.sendHeartbeat();
    } catch {
      this.drop(client, 'payments feed: lost its LISTEN connection');
    }
  }

  private async beat(): Promise<void> {
    const listener = this.listener;
    if (listener && Date.now() - this.lastHeard > 3 * this.heartbeatMs) {
      this.drop(listener, `payments feed: no heartbeat came back through LISTEN within ${3 * this.heartbeatMs} ms; listening again on a new connection`);
    }
    if (!this.listener) return this.listen();
    await this.sendHeartbeat();
  }

  private async sendHeartbeat(): Promise<void> {
    await this.pool.query('select pg_notify($1, $2)', [RECEIVED_CHANNEL, this.heartbeat]).catch(() => {
      // PostgreSQL unreachable: no heartbeat comes back and the listener is replaced, as it should be.
    });
  }

  private notified(client: pg.PoolClient, channel: string, payload: string | undefined): void {
    if (client !== this.listener || channel !== RECEIVED_CHANNEL) return;
    if (payload === this.heartbeat) {
      this.lastHeard = Date.now();
      if (this.warned) this.logger.info({ channel }, 'payments feed: listening again');
      this.warned = false;
      return;
    }
    const notice = parseNotice(payload);
    if (notice) this.publish(notice);
  }

  private drop(client: pg.PoolClient, reason: string): void {
    if (client !== this.listener) return;
    this.listener = undefined;
    client.release(true);
    if (!this.closed) {
      this.outage({ channel: RECEIVED_CHANNEL }, reason);
      // Listen again soon rather than a heartbeat from now (the goal is delivery within a second of the block),
      // but not at once: a LISTEN that keeps failing must not spin.
      setTimeout(() => void this.listen(), 250).unref();
    }
  }

  private outage(fields: object, message: string): void {
    if (!this.warned) this.logger.warn(fields, message);
    this.warned = true;
  }
}
