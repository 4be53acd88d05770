import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** What a listener says when it goes deaf and when it hears again (logged once per outage). */
export interface ListenerMessages {
  /** The pool gave no connection to LISTEN on (`{heartbeatMs}` is replaced). */
  unavailable: string;
  /** The LISTEN connection errored or ended. */
  lost: string;
  /** No heartbeat came back within three intervals (`{ms}` is replaced). */
  deaf: string;
  /** A heartbeat made the round trip again after an outage. */
  back: string;
}

export interface ChannelListenerOptions {
  /** How often it NOTIFYs itself a heartbeat; it is deaf after three intervals without one back. */
  heartbeatMs: number;
  /** Prefix of heartbeat payloads: every listener's heartbeats on the channel are skipped, not only its own. */
  heartbeatPrefix: string;
  messages: ListenerMessages;
  /** Every payload on the channel that is no heartbeat. */
  onPayload(payload: string | undefined): void;
  /** Its own heartbeat came back through the current connection. */
  onHeard?(): void;
  /** The current connection was given up: notifications sent from now until the next `onHeard` are missed. */
  onLost?(): void;
  /** After losing its connection, LISTEN again this soon (default: at the next heartbeat). */
  relistenAfterMs?: number;
}

const MISSED_HEARTBEATS = 3;

/**
 * A LISTEN on one channel that knows when it is deaf. A LISTEN connection can
 * stop delivering without anyone being told: dropped by a NAT or firewall idle
 * timeout, or never working at all behind a pooler in transaction mode. So the
 * listener NOTIFYs itself a heartbeat every `heartbeatMs` through an ordinary
 * pool connection (proving it hears what other sessions commit); when none has
 * come back for three intervals, or on an error, it gives the connection up
 * and LISTENs again on a new one. Each outage is logged once.
 */
export class ChannelListener {
  private listener: pg.PoolClient | undefined;
  private connecting = false;
  /** When the current connection last delivered our heartbeat (or was opened: a LISTEN that hangs counts as deaf too). */
  private lastHeard = 0;
  private warned = false;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<unknown> | undefined;
  private closed = false;
  private readonly heartbeat: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly logger: { warn(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void },
    private readonly options: ChannelListenerOptions,
  ) {
    this.heartbeat = `${options.heartbeatPrefix}${randomUUID()}`;
  }

  async start(): Promise<void> {
    if (this.closed) return;
    // The same beat reconnects a listener that was lost or went deaf.
    this.timer ??= setInterval(() => void this.beat(), this.options.heartbeatMs).unref();
    await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
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
      this.outage({ err: error }, this.options.messages.unavailable.replace('{heartbeatMs}', String(this.options.heartbeatMs)));
      return;
    } finally {
      this.connecting = false;
    }
    if (this.closed) return client.release();
    this.listener = client;
    this.lastHeard = Date.now();
    client.on('notification', ({ channel, payload }) => this.notified(client, channel, payload));
    client.on('error', () => this.drop(client, this.options.messages.lost));
    client.on('end', () => this.drop(client, this.options.messages.lost));
    try {
      await client.query(`listen ${this.channel}`);
      // Heard as soon as it works, not an interval from now.
      await this.sendHeartbeat();
    } catch {
      this.drop(client, this.options.messages.lost);
    }
  }

  private async beat(): Promise<void> {
    const listener = this.listener;
    const limit = MISSED_HEARTBEATS * this.options.heartbeatMs;
    if (listener && Date.now() - this.lastHeard > limit) this.drop(listener, this.options.messages.deaf.replace('{ms}', String(limit)));
    if (!this.listener) return this.listen();
    await this.sendHeartbeat();
  }

  /** Through an ordinary pool connection; one at a time. */
  private async sendHeartbeat(): Promise<void> {
    this.beating ??= this.pool
      .query('select pg_notify($1, $2)', [this.channel, this.heartbeat])
      .catch(() => {
        // PostgreSQL unreachable: no heartbeat comes back and the connection is given up, as it should be.
      })
      .finally(() => (this.beating = undefined));
    await this.beating;
  }

  private notified(client: pg.PoolClient, channel: string, payload: string | undefined): void {
    if (client !== this.listener || channel !== this.channel) return;
    if (payload === this.heartbeat) {
      this.lastHeard = Date.now();
      this.options.onHeard?.();
      if (this.warned) this.logger.info({ channel: this.channel }, this.options.messages.back);
      this.warned = false;
      return;
    }
    // Another process's heartbeat says nothing.
    if (payload?.startsWith(this.options.heartbeatPrefix)) return;
    this.options.onPayload(payload);
  }

  private drop(client: pg.PoolClient, reason: string): void {
    if (client !== this.listener) return;
    this.listener = undefined;
    this.options.onLost?.();
    client.release(true);
    if (this.closed) return;
    this.outage({ channel: this.channel }, reason);
    // Sooner than the next heartbeat where delivery time matters, but never at once: a LISTEN that keeps failing must not spin.
    if (this.options.relistenAfterMs !== undefined) setTimeout(() => void this.listen(), this.options.relistenAfterMs).unref();
  }

  /** Logged once per outage, however many reconnections it takes. */
  private outage(fields: object, message: string): void {
    if (!this.warned) this.logger.warn(fields, message);
    this.warned = true;
  }
}
