import type pg from 'pg';
import type { Logger } from '../../runtime/logger.js';
import { ChannelListener } from '../../db/channel-listener.js';
import { INTENTS_CHANNEL } from './outbox.js';

/** A process's wake-up calls for its relayers: one LISTEN per pool, however many chains and signers. */
interface Wakeups {
  listener: ChannelListener;
  started: Promise<void>;
  /** Per chain key, the relayers to wake when an intent of that chain is submitted. */
  byChain: Map<string, Set<() => void>>;
}

const byPool = new WeakMap<pg.Pool, Wakeups>();

/**
 * Wakes `wake` whenever an intent of `chain` is submitted (the outbox NOTIFYs its
 * chain key at commit). Every relayer on one pool shares one LISTEN connection,
 * so a worker with many signers does not hold one pool connection each; the
 * listener reconnects when its connection is lost or goes deaf, and meanwhile a
 * relayer still finds its work at its poll interval. Returns the unsubscribe;
 * the last one closes the listener.
 */
export async function onIntentSubmitted(pool: pg.Pool, logger: Pick<Logger, 'warn' | 'info'>, chain: string, wake: () => void): Promise<() => Promise<void>> {
  let wakeups = byPool.get(pool);
  if (!wakeups) {
    const byChain = new Map<string, Set<() => void>>();
    const listener = new ChannelListener(pool, INTENTS_CHANNEL, logger, {
      heartbeatMs: 5_000,
      heartbeatPrefix: 'heartbeat:',
      messages: {
        unavailable: 'relayers: cannot LISTEN for new intents; finding them by polling, and retrying every {heartbeatMs} ms',
        lost: 'relayers: lost the connection that hears of new intents; finding them by polling until it is back',
        deaf: 'relayers: no heartbeat came back through LISTEN within {ms} ms; finding new intents by polling until one does',
        back: 'relayers: hearing of new intents again',
      },
      onPayload: (payload) => byChain.get(payload ?? '')?.forEach((w) => w()),
      relistenAfterMs: 1_000,
    });
    wakeups = { listener, started: listener.start(), byChain };
    byPool.set(pool, wakeups);
  }
  const { byChain, listener } = wakeups;
  if (!byChain.has(chain)) byChain.set(chain, new Set());
  byChain.get(chain)!.add(wake);
  await wakeups.started;
  return async () => {
    byChain.get(chain)?.delete(wake);
    if (byChain.get(chain)?.size === 0) byChain.delete(chain);
    if (byChain.size === 0 && byPool.get(pool) === wakeups) {
      byPool.delete(pool);
      await listener.close();
    }
  };
}
