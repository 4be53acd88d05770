import type pg from 'pg';
import type { Logger } from '../../runtime/logger.js';
import type { ConnectedChain, Source } from '../chain.js';
import { NodeBehindError } from '../chain.js';
import { finalizedBlock } from '../finality.js';
import { inTransaction } from '../../db/transaction.js';
import { backfill } from './backfill.js';
import { catchUpSources } from './catch-up.js';
import type { ChainIndexer } from './context.js';
import { haltReason } from './errors.js';
import { indexerMetrics } from './metrics.js';
import { reportProgress } from './progress.js';
import { installJournalTriggers } from './projections.js';
import { indexNextBlock } from './realtime.js';
import { verifyCheckpoint } from './reorg.js';
import { noAddressSets, watchAddressSets, type AddressSets } from './address-sets.js';
import { registerSources, sourceProgress } from './sources.js';
import { haltChain, initCheckpoint, readCheckpoint, recordHead, storedChildren } from './store.js';
import type { Projection } from './types.js';

export interface IndexerOptions {
  pollIntervalMs: number;
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
/** On a chain without reorgs, a backfill shorter than this is the indexer following the head. */
const FOLLOWING_BLOCKS = 100n;
const silentProgress = { update: () => {}, stop: () => {} };

/**
 * The indexer of one chain: its sources (from every app on it) into the raw
 * event table and its projections. One process holds a PostgreSQL advisory lock
 * per chain and indexes; any other waits as a standby and takes over when the
 * holder's connection closes (it stopped or died).
 */
export async function startIndexer(
  chain: ConnectedChain,
  pool: pg.Pool,
  sources: Source[],
  projections: Projection[],
  options: IndexerOptions,
  parentLogger: Logger,
): Promise<RunningIndexer> {
  const logger = parentLogger.child({ role: 'indexer', chain: chain.key });
  const metrics = indexerMetrics(chain.key);
  let stopped = false;
  let lock: pg.PoolClient | undefined;

  const heads = chain.watchHeads(options.pollIntervalMs);
  let addressSets: AddressSets = noAddressSets;
  const setNames = [...new Set(sources.flatMap((s) => (s.addressSet ? [s.addressSet] : [])))];
  const indexedListeners = new Set<(block: bigint) => void>();
  let indexedBlock = -1n;

  const acquireLock = async (): Promise<boolean> => {
    const client = await pool.connect();
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock(hashtextextended('ledgersync:indexer:' || $1::text, 0)) as locked", [chain.key]);
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
    let ready = false;
    try {
      await installJournalTriggers(pool, projections);
      addressSets = await watchAddressSets(pool, setNames, chain.normalizeAddress, logger);
      ready = true;
    } catch (error) {
      // PostgreSQL went away between the lock and the set-up: stand by again, and retry.
      logger.warn({ err: (error as Error).message }, 'could not prepare indexing; retrying');
    }
    if (ready) {
      try {
        await index(() => stopped || lockLost);
      } finally {
        await addressSets.close();
      }
    }
    releaseLock();
    metrics.leader(false);
    if (!ready && !stopped) await sleep(STANDBY_RETRY_MS, () => stopped);
    if ((lockLost || !ready) && !stopped) await lead();
  };

  /**
   * The reader of the sources indexed together (`live`), those that cannot be
   * resolved yet left out (logged), and new ones registered to catch up.
   */
  const openLive = async (): Promise<ChainIndexer> => {
    const opened = chain.openReader(sources, [], addressSets);
    if (opened.unresolved.length > 0) logger.warn({ sources: opened.unresolved }, 'sources not resolvable yet (no deployment recorded?); indexing the others');
    const checkpoint = await readCheckpoint(pool, chain.key);
    await registerSources(pool, chain.key, opened.reader.starts, checkpoint?.blockNumber);
    const progress = await sourceProgress(pool, chain.key);
    const live = sources.filter((s) => opened.reader.starts.has(s.name) && progress.get(s.name)?.state === 'live');
    const children = (await storedChildren(pool, chain.key)).filter((c) => live.some((s) => s.name === c.source));
    const { reader } = chain.openReader(live, children, addressSets);
    const starts = [...reader.starts.values()];
    return {
      chain: chain.key,
      reader,
      addressSets,
      pool,
      startBlock: starts.reduce((low, s) => (s < low ? s : low), starts[0] ?? 0n),
      projections,
      finalityDepth: chain.finalityDepth,
      logger,
      metrics,
    };
  };

  const index = async (shouldStop: () => boolean) => {
    let ctx: ChainIndexer | undefined;
    let backoff = MIN_BACKOFF_MS;
    // Where indexing stood at the last failure.
    let failedAt: bigint | undefined;
    // What we hold is checked against the chain once on taking the lead (the chain may have
    // reorganised while no indexer ran), then before every backfill, before every try of sources
    // catching up, and whenever the head drops.
    let verified = false;
    let haltLogged: string | undefined;
    let haltLoggedAt = 0;
    while (!shouldStop()) {
      try {
        if (!ctx || chain.sourcesMayHaveChanged()) ctx = await openLive();
        if (ctx.reader.starts.size === 0) {
          // Nothing resolvable to index yet (contracts not deployed or recorded): look again later.
          ctx = undefined;
          await sleep(STANDBY_RETRY_MS, shouldStop);
          continue;
        }
        let checkpoint = await readCheckpoint(pool, chain.key);
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
        const head = await ctx.reader.head();
        metrics.head(head);
        await recordHead(pool, chain.key, head);
        const finalized = finalizedBlock(head, ctx.finalityDepth);

        const joining = [...(await sourceProgress(pool, chain.key)).values()].filter((p) => p.state !== 'live' && sources.some((s) => s.name === p.name));
        // Sources catching up compare the unfinalized blocks they read with the headers we hold, and
        // stop at one that differs: the reorg is settled here, before each try, not waited out until final.
        if (!verified || joining.length > 0 || checkpoint.blockNumber < finalized || checkpoint.blockNumber > head) {
          const checked = await verifyCheckpoint(ctx, checkpoint, head);
          verified = true;
          if (checked.blockNumber !== checkpoint.blockNumber) continue;
        }
        if (joining.length > 0) {
          await catchUpSources(ctx, chain, sources, joining, checkpoint, head, shouldStop);
          ctx = undefined;
          continue;
        }
        if (checkpoint.blockNumber < finalized) {
          const from = checkpoint.blockNumber + 1n;
          // A chain without reorgs follows its head through here too: a few blocks behind it is following, not long work to report.
          const following = ctx.finalityDepth === 0n && finalized - from < FOLLOWING_BLOCKS;
          const progress = following ? silentProgress : reportProgress(logger, { label: 'backfill', total: Number(finalized - from + 1n), unit: 'blocks' });
          try {
            // The lag in seconds moves with every commit: a chain without reorgs is followed through here.
            await backfill(ctx, from, finalized, ({ block, timestamp, events }) => {
              progress.update(Number(block - from + 1n), events);
              reportIndexed(block, timestamp);
            }, shouldStop);
          } finally {
            progress.stop();
          }
        } else if (checkpoint.blockNumber < head) {
          while (checkpoint.blockNumber < head && !shouldStop()) {
            const before = checkpoint.blockNumber;
            checkpoint = await indexNextBlock(ctx, checkpoint, head);
            // A rollback: children found above the ancestor are gone, and the reader forgot them.
            if (checkpoint.blockNumber < before) break;
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
          await haltChain(pool, chain.key, reason).catch(() => {});
          haltLogged = reason;
          haltLoggedAt = Date.now();
          continue;
        }
        // Retries slow down while a step keeps failing where it failed before; one that got somewhere
        // first (a backfill that committed ranges before an RPC error) is retried quickly again.
        if (indexedBlock !== failedAt) backoff = MIN_BACKOFF_MS;
        failedAt = indexedBlock;
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
        ? await ctx.reader.block(ctx.startBlock - 1n)
        : { number: -1n, hash: (await ctx.reader.block(0n)).parentHash, parentHash: '', timestamp: 0n };
    await inTransaction(pool, (client) => initCheckpoint(client, chain.key, below));
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
