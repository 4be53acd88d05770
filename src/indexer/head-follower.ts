import { Gauge } from 'prom-client';
import type pg from 'pg';
import { sql } from 'drizzle-orm';
import type { Block } from 'viem';
import { chains } from '../db/schema.js';
import type { Stack } from '../runtime/stack.js';
import { metrics } from '../runtime/metrics.js';

const headBlock = new Gauge({
  name: 'ledgersync_chain_head_block',
  help: 'Latest block number seen on the chain',
  labelNames: ['chain'] as const,
  registers: [metrics],
});
const leader = new Gauge({
  name: 'ledgersync_indexer_leader',
  help: '1 while this process holds the indexer lock for the chain, 0 on standby',
  labelNames: ['chain'] as const,
  registers: [metrics],
});

const STANDBY_RETRY_MS = 2_000;

/**
 * The indexer role: one process per chain holds a PostgreSQL advisory lock and
 * follows the head; any other waits as a standby and takes over when the lock
 * is released (the holder's connection closes when it dies).
 */
export async function startIndexer(stack: Stack): Promise<{ stop(): Promise<void> }> {
  const { chain, database } = stack;
  const log = stack.logger.child({ role: 'indexer', chainId: chain.chainId });
  const label = { chain: String(chain.chainId) };
  let stopped = false;
  let unwatch: (() => void) | undefined;
  let lockClient: pg.PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;

  const recordHead = async (block: Block) => {
    if (block.number === null) return;
    headBlock.set(label, Number(block.number));
    await database.db
      .insert(chains)
      .values({ chainId: chain.chainId, headNumber: block.number, headHash: block.hash, headSeenAt: new Date() })
      .onConflictDoUpdate({
        target: chains.chainId,
        set: { headNumber: block.number, headHash: block.hash, headSeenAt: sql`now()` },
      });
  };

  const tryLead = async () => {
    if (stopped) return;
    try {
      lockClient = await database.pool.connect();
      const { rows } = await lockClient.query<{ locked: boolean }>(
        "select pg_try_advisory_lock(hashtextextended('ledgersync:indexer:' || $1::text, 0)) as locked",
        [chain.chainId],
      );
      if (!rows[0]?.locked) {
        lockClient.release();
        lockClient = undefined;
        leader.set(label, 0);
        log.info('another indexer holds this chain; waiting as standby');
        retry = setTimeout(() => void tryLead(), STANDBY_RETRY_MS);
        return;
      }
      // Losing the lock's connection means losing leadership: stop and stand by again.
      lockClient.once('error', (error) => {
        log.error({ err: error }, 'lost the indexer lock connection');
        unwatch?.();
        lockClient = undefined;
        leader.set(label, 0);
        retry = setTimeout(() => void tryLead(), STANDBY_RETRY_MS);
      });
      leader.set(label, 1);
      log.info('following the chain head');
      unwatch = chain.publicClient.watchBlocks({
        pollingInterval: 1_000,
        emitOnBegin: true,
        onBlock: (block) => recordHead(block).catch((error) => log.error({ err: error }, 'could not record head')),
        onError: (error) => log.warn({ err: error.message.split('\n')[0] }, 'head polling failed; retrying'),
      });
    } catch (error) {
      log.error({ err: error }, 'indexer could not start; retrying');
      lockClient?.release();
      lockClient = undefined;
      retry = setTimeout(() => void tryLead(), STANDBY_RETRY_MS);
    }
  };

  await tryLead();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      unwatch?.();
      if (lockClient) {
        await lockClient.query("select pg_advisory_unlock_all()").catch(() => {});
        lockClient.release();
      }
      leader.set(label, 0);
    },
  };
}
