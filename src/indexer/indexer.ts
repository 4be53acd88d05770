import type pg from 'pg';
import { createPublicClient, zeroHash, type Hex } from 'viem';
import type { ChainConnection } from '../chain/evm/client.js';
import { meteredWebSocket } from '../chain/evm/client.js';
import type { LedgersyncApp } from '../apps/types.js';
import type { Logger } from '../runtime/logger.js';
import { backfill } from './backfill.js';
import type { ChainIndexer } from './context.js';
import { createDecoder } from './decode.js';
import { AdaptiveRange, toHeader } from './fetch.js';
import { indexerMetrics } from './metrics.js';
import { reportProgress } from './progress.js';
import { installJournalTriggers } from './projections.js';
import { indexNextBlock } from './realtime.js';
import { NodeBehindError, verifyCheckpoint } from './reorg.js';
import { haltReason } from './errors.js';
import { finalizedBlock } from '../chain/finality.js';
import { inTransaction } from '../db/transaction.js';
import { resolveSources } from './sources.js';
import { haltChain, initCheckpoint, readCheckpoint, recordHead } from './store.js';

export interface IndexerOptions {
  finalityDepth: number;
  pollIntervalMs: number;
  concurrency: number;
  maxBlockRange: number;
  deploymentsFile: string;
}

export interface RunningIndexer {
  stop(): Promise<void>;
  /** Resolves when the indexer has caught up with `block` (for tests and benchmarks). */
  waitForBlock(block: bigint, timeoutMs?: number): Promise<void>;
}

const STANDBY_RETRY_MS = 2_000;
// Retries of a failed step: quick at first (most RPC faults are momentary), never slower than this.
const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;
const HALT_REMINDER_MS = 5 * 60_000;

/**
 * The indexer of one chain. One process holds a PostgreSQL advisory lock and
 * indexes; any other waits as a standby and takes over when the holder's
 * connection closes (it stopped or died).
 */
export async function startIndexer(
  chain: ChainConnection,
  pool: pg.Pool,
  apps: LedgersyncApp[],
  options: IndexerOptions,
  parentLogger: Logger,
): Promise<RunningIndexer> {
  const logger = parentLogger.child({ role: 'indexer', chainId: chain.chainId });
  const metrics = indexerMetrics(chain.chainId);
  let stopped = false;
  let lock: pg.PoolClient | undefined;

  const heads = headNotifier(chain, options.pollIntervalMs);
  const indexedListeners = new Set<(block: bigint) => void>();
  let indexedBlock = -1n;

  const acquireLock = async (): Promise<boolean> => {
    const client = await pool.connect();
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtextextended('ledgersync:indexer:' || $1::text, 0)) as locked", [
        chain.chainId,
      ]);
      locked = rows[0]?.locked === true;
    } finally {
      // Not holding the lock (or not knowing, when the query failed): the connection goes back, or away if broken.
      if (!locked) client.release();
    }
    if (locked) lock = client;
    return locked;
  };

  const onLockError = () => {
    // The lock died with its connection; the fence on the checkpoint keeps a second writer out until we notice.
    logger.error('lost the indexer lock connection; stopping to stand by again');
    lockLost = true;
  };
  let lockLost = false;
  // Destroying the connection (not returning it to the pool) is what releases a session advisory lock.
  const releaseLock = () => {
    lock?.off('error', onLockError);
    lock?.release(true);
    lock = undefined;
  };

  const lead = async () => {
    while (!stopped) {
      try {
        if (await acquireLock()) break;
        metrics.leader(false);
        logger.info('another indexer holds this chain; waiting as standby');
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'could not reach PostgreSQL for the indexer lock; retrying');
      }
      await sleep(STANDBY_RETRY_MS, () => stopped);
    }
    if (stopped) return;
    metrics.leader(true);
    lockLost = false;
    lock!.on('error', onLockError);
    const ctx = await buildContext();
    await index(ctx, () => stopped || lockLost);
    releaseLock();
    metrics.leader(false);
    if (lockLost && !stopped) await lead();
  };

  const buildContext = async (): Promise<ChainIndexer> => {
    // Sources come from the deployments file, which may be written after we start (ledgersync deploy).
    for (let attempt = 0; ; attempt++) {
      try {
        const sources = resolveSources(apps, options.deploymentsFile, chain.chainId);
        await installJournalTriggers(pool, sources.projections);
        return {
          chainId: chain.chainId,
          client: chain.publicClient,
          batchClient: chain.batchClient,
          pool,
          addresses: sources.addresses,
          startBlock: sources.startBlock,
          decode: createDecoder(sources.abiByAddress),
          projections: sources.projections,
          finalityDepth: BigInt(options.finalityDepth),
          concurrency: options.concurrency,
          maxBlockRange: BigInt(options.maxBlockRange),
          logger,
          metrics,
        };
      } catch (error) {
        if (attempt % 30 === 0) logger.error({ err: (error as Error).message }, 'indexer cannot start yet; retrying');
        await sleep(STANDBY_RETRY_MS, () => stopped);
        if (stopped) throw error;
      }
    }
  };

  const index = async (ctx: ChainIndexer, shouldStop: () => boolean) => {
    const range = new AdaptiveRange(1_000n, ctx.maxBlockRange);
    let backoff = MIN_BACKOFF_MS;
    // What we hold is checked against the chain once on taking the lead (the chain may have
    // reorganised while no indexer ran), then before every backfill and whenever the head drops.
    let verified = false;
    let haltLogged: string | undefined;
    let haltLoggedAt = 0;
    while (!shouldStop()) {
      try {
        let checkpoint = await readCheckpoint(pool, chain.chainId);
        if (!checkpoint) {
          await startCheckpoint(ctx);
          continue;
        }
        if (checkpoint.haltedReason) {
          metrics.halted(true);
          // Said once per halt (and every few minutes), checked often: clearing the reason resumes at once.
          if (haltLogged !== checkpoint.haltedReason || Date.now() - haltLoggedAt > HALT_REMINDER_MS) {
            logger.error({ reason: checkpoint.haltedReason }, 'indexing of this chain is halted; clear indexer_checkpoints.halted_reason after repairing to resume');
            haltLogged = checkpoint.haltedReason;
            haltLoggedAt = Date.now();
          }
          await sleep(STANDBY_RETRY_MS, shouldStop);
          continue;
        }
        if (haltLogged) {
          logger.info('halt cleared; indexing resumes');
          haltLogged = undefined;
          verified = false;
        }
        metrics.halted(false);
        const head = await ctx.client.getBlockNumber({ cacheTime: 0 });
        metrics.head(head);
        await recordHead(pool, chain.chainId, head);
        const finalized = finalizedBlock(head, ctx.finalityDepth);

        if (!verified || checkpoint.blockNumber < finalized || checkpoint.blockNumber > head) {
          const checked = await verifyCheckpoint(ctx, checkpoint, head);
          verified = true;
          if (checked.blockNumber !== checkpoint.blockNumber) continue;
        }
        if (checkpoint.blockNumber < finalized) {
          const from = checkpoint.blockNumber + 1n;
          const progress = reportProgress(logger, { label: 'backfill', total: Number(finalized - from + 1n), unit: 'blocks' });
          try {
            await backfill(ctx, from, finalized, range, ({ block, events }) => {
              progress.update(Number(block - from + 1n), events);
              reportIndexed(block, null);
            }, shouldStop);
          } finally {
            progress.stop();
          }
        } else if (checkpoint.blockNumber < head) {
          while (checkpoint.blockNumber < head && !shouldStop()) {
            checkpoint = await indexNextBlock(ctx, checkpoint, head);
            reportIndexed(checkpoint.blockNumber, checkpoint.blockTimestamp);
          }
        } else {
          reportIndexed(checkpoint.blockNumber, checkpoint.blockTimestamp);
          await heads.next(shouldStop);
        }
        backoff = MIN_BACKOFF_MS;
      } catch (error) {
        if (error instanceof NodeBehindError) {
          // Normal behind a load balancer: ask again at the next head, without alarm.
          logger.debug({ reason: error.message }, 'the node is behind; waiting');
          await heads.next(shouldStop);
          continue;
        }
        const reason = haltReason(error);
        if (reason) {
          metrics.halted(true);
          logger.fatal({ reason }, 'indexing of this chain halted: retrying cannot cure this');
          await haltChain(pool, chain.chainId, reason).catch(() => {});
          haltLogged = reason;
          haltLoggedAt = Date.now();
          continue;
        }
        logger.warn({ err: (error as Error).message.split('\n')[0], details: (error as { details?: string }).details, retryInMs: backoff }, 'indexing step failed; retrying');
        await sleep(backoff, shouldStop);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  };

  /** The first checkpoint: the block below the first one to index, header kept (a reorg of the first block rolls back to it). */
  const startCheckpoint = async (ctx: ChainIndexer) => {
    const below =
      ctx.startBlock > 0n
        ? toHeader(await ctx.client.getBlock({ blockNumber: ctx.startBlock - 1n }))
        : { number: -1n, hash: (await ctx.client.getBlock({ blockNumber: 0n })).parentHash.toLowerCase() as Hex, parentHash: zeroHash, timestamp: 0n };
    await inTransaction(pool, (client) => initCheckpoint(client, chain.chainId, below));
  };

  const reportIndexed = (block: bigint, timestamp: bigint | null) => {
    indexedBlock = block;
    metrics.indexed(block, timestamp);
    for (const listener of indexedListeners) listener(block);
  };

  const loop = lead().catch((error) => logger.error({ err: error }, 'indexer stopped unexpectedly'));

  return {
    async stop() {
      stopped = true;
      heads.close();
      await loop;
      releaseLock();
      metrics.leader(false);
    },
    waitForBlock(block, timeoutMs = 60_000) {
      if (indexedBlock >= block) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          indexedListeners.delete(listener);
          reject(new Error(`indexer did not reach block ${block} within ${timeoutMs} ms (at ${indexedBlock})`));
        }, timeoutMs);
        const listener = (b: bigint) => {
          if (b < block) return;
          clearTimeout(timer);
          indexedListeners.delete(listener);
          resolve();
        };
        indexedListeners.add(listener);
      });
    },
  };
}

/**
 * Wakes the indexer when a new head arrives: at once through a WebSocket
 * `newHeads` subscription when the chain has one, else by polling.
 */
function headNotifier(chain: ChainConnection, pollIntervalMs: number) {
  let wake: (() => void) | undefined;
  // A head that arrives while the indexer is busy is remembered, so the next wait returns at once.
  let missed = false;
  const onHead = () => {
    if (wake) wake();
    else missed = true;
  };
  let unwatch: (() => void) | undefined;
  let closeSocket: (() => void) | undefined;
  const ws = meteredWebSocket(chain);
  if (ws) {
    const client = createPublicClient({ chain: chain.chain, transport: ws });
    // viem keeps the socket open (and reconnecting) after unsubscribing; close it with the indexer.
    closeSocket = () => void client.transport.getRpcClient().then((socket) => socket.close()).catch(() => {});
    // Over a WebSocket transport viem subscribes to newHeads (no polling).
    unwatch = client.watchBlockNumber({ onBlockNumber: onHead, onError: () => {} });
  }
  return {
    /** Resolves on the next head, or after the poll interval (the fallback if the subscription stalls). */
    next(shouldStop: () => boolean): Promise<void> {
      if (missed) {
        missed = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const timer = setTimeout(done, ws ? Math.max(pollIntervalMs, 2_000) : pollIntervalMs);
        const check = setInterval(() => shouldStop() && done(), 100);
        wake = done;
        function done() {
          clearTimeout(timer);
          clearInterval(check);
          wake = undefined;
          resolve();
        }
      });
    },
    close() {
      unwatch?.();
      closeSocket?.();
      wake?.();
    },
  };
}

function sleep(ms: number, shouldStop: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const tick = setInterval(() => {
      if (shouldStop() || Date.now() - started >= ms) {
        clearInterval(tick);
        resolve();
      }
    }, Math.min(ms, 100));
  });
}
