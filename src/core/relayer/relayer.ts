import type pg from 'pg';
import type { ChainKey } from '../chain.js';
import type { Logger } from '../../runtime/logger.js';
import { DEFAULT_REFUSED_SIGNED_MS, type RelayerContext } from './context.js';
import { retryHandlers } from './handlers.js';
import type { TransactionLifecycle } from './lifecycle.js';
import { relayerMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import { prepareIntents, sendIntents, trackIntents } from './steps.js';
import type { IntentKind } from './types.js';
import { onIntentSubmitted } from './wakeups.js';
import { inTransaction } from '../../db/transaction.js';

export interface RelayerOptions {
  /** The chain's finality depth: an intent is `confirmed` once its block is final. */
  finalityDepth: number;
  batchSize: number;
  stuckBlocks: number;
  rebroadcastMs: number;
  /** How long the node may refuse a user-signed transaction, every time it is sent, before its intent fails (default `DEFAULT_REFUSED_SIGNED_MS`, 2 minutes). */
  refusedSignedMs?: number;
  /** How often to look for work when no notification came (new blocks need tracking). */
  pollIntervalMs: number;
  /** How often the family's housekeeping runs (EVM: compare the signer's nonces with the chain and fill gaps). */
  maintainMs: number;
  /** For handlers whose outcome leads to further writes (a deployment confirmed: record the investments); without it, such a handler fails and is retried. */
  outbox?: Outbox;
}

/** The outbox of a relayer started without one (some tests): using it is an error the handler retry reports. */
const outboxMissing: Outbox = {
  signers: () => [],
  submit: () => Promise.reject(new Error('this relayer was started without an outbox: handlers cannot submit intents')),
};

export interface RunningRelayer {
  signer: string;
  stop(): Promise<void>;
}

/**
 * The relayer of one signer on one chain, its family's lifecycle doing the
 * chain's part. Any number of them (in as many processes) can run against one
 * PostgreSQL: each step claims its intents with `FOR UPDATE SKIP LOCKED`, and
 * sequence numbers are taken under a lock in the transaction that stores the
 * signed bytes.
 */
export async function startRelayer(
  chain: ChainKey,
  pool: pg.Pool,
  lifecycle: TransactionLifecycle,
  kinds: IntentKind[],
  options: RelayerOptions,
  parentLogger: Logger,
): Promise<RunningRelayer> {
  const signer = lifecycle.signer;
  const logger = parentLogger.child({ role: 'relayer', chain, signer });
  const ctx: RelayerContext = {
    chain,
    pool,
    lifecycle,
    signer,
    kinds: new Map(kinds.filter((k) => k.chain === chain).map((k) => [k.name, k])),
    finalityDepth: BigInt(options.finalityDepth),
    batchSize: options.batchSize,
    stuckBlocks: options.stuckBlocks,
    rebroadcastMs: options.rebroadcastMs,
    refusedSignedMs: options.refusedSignedMs ?? DEFAULT_REFUSED_SIGNED_MS,
    logger,
    metrics: relayerMetrics(chain),
    ports: { outbox: options.outbox ?? outboxMissing },
  };
  await lifecycle.start();
  logger.info('relayer started');

  let stopped = false;
  const wakers = new Set<() => void>();
  const wakeAll = () => [...wakers].forEach((wake) => wake());
  const unsubscribe = await onIntentSubmitted(pool, parentLogger.child({ role: 'relayer' }), chain, wakeAll);

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  let lastFollowed = -1n;
  let lastMaintained = 0;

  // Two loops, side by side: intake (sign new intents, send what is due) runs as
  // soon as intents arrive; follow (receipts, confirmations, reorgs, replacements)
  // runs once per new block, over every intent in flight, batch after batch.
  const loops = [
    repeat('intake', async () => {
      const head = await lifecycle.head();
      const prepared = await prepareIntents(ctx);
      const sent = await sendIntents(ctx, head);
      return prepared === ctx.batchSize || sent === ctx.batchSize;
    }),
    repeat('follow', async () => {
      const head = await lifecycle.head();
      if (head === lastFollowed && Date.now() - lastMaintained < options.maintainMs) return false;
      lastFollowed = head;
      for (let after; ; ) {
        const { count, last } = await trackIntents(ctx, head, after);
        if (count < ctx.batchSize || stopped) break;
        after = last;
      }
      // App handlers that failed before, called again when due (in their own transactions).
      while ((await inTransaction(pool, (client) => retryHandlers(client, ctx))) === ctx.batchSize && !stopped);
      if (Date.now() - lastMaintained > options.maintainMs) {
        lastMaintained = Date.now();
        await lifecycle.maintain();
      }
      return false;
    }),
  ];

  /** Runs `step` until stopped: again at once when it says there is more, else after the poll interval or a wake-up. */
  async function repeat(name: string, step: () => Promise<boolean>): Promise<void> {
    let failures = 0;
    while (!stopped) {
      let more = false;
      try {
        more = await step();
        failures = 0;
      } catch (error) {
        failures++;
        logger.warn({ err: error, step: name, failures }, 'relayer step failed; retrying');
      }
      if (stopped || more) continue;
      await pause(failures > 0 ? Math.min(10_000, 200 * 2 ** failures) : options.pollIntervalMs);
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    signer,
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        wakeAll();
        await Promise.all(loops);
        await unsubscribe();
        logger.info('relayer stopped');
      })()),
  };
}
