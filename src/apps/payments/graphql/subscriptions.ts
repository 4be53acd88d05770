import type pg from 'pg';
import { ChannelListener, type Logger } from '../../../engine/index.js';

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

/** A notice as the projection sent it, or undefined for anything else on the channel (a malformed payload). */
export function parseNotice(payload: string | undefined): ReceivedNotice | undefined {
  if (!payload) return undefined;
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
 * NAT's idle timeout): the engine's ChannelListener NOTIFYs itself a heartbeat
 * every `heartbeatMs` through the pool and, when one has not come back for
 * three intervals, or on an error, LISTENs again on a new connection. Notices sent
 * while it was deaf are lost (clients read their history again when they
 * reconnect, as the schema says); each outage is logged once.
 */
export class ReceivedFeed {
  private readonly listener: ChannelListener;

  constructor(pool: pg.Pool, publish: (notice: ReceivedNotice) => void, logger: Pick<Logger, 'warn' | 'info'>, heartbeatMs = 5_000) {
    this.listener = new ChannelListener(pool, RECEIVED_CHANNEL, logger, {
      heartbeatMs,
      heartbeatPrefix: HEARTBEAT,
      messages: {
        unavailable: `payments feed: cannot LISTEN on ${RECEIVED_CHANNEL}; retrying every {heartbeatMs} ms`,
        lost: 'payments feed: lost its LISTEN connection',
        deaf: 'payments feed: no heartbeat came back through LISTEN within {ms} ms; listening again on a new connection',
        back: 'payments feed: listening again',
      },
      onPayload: (payload) => {
        const notice = parseNotice(payload);
        if (notice) publish(notice);
      },
      // Listen again soon rather than a heartbeat from now: the goal is delivery within a second of the block.
      relistenAfterMs: 250,
    });
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}
