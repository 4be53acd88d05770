import type { ChainIndexer } from './context.js';
import { AdaptiveRange, fetchHeaders, fetchLogs } from './fetch.js';
import { commitBlocks } from './commit.js';
import type { BlockHeader } from './store.js';
import type { StoredEvent } from './types.js';

interface FetchedRange {
  from: bigint;
  to: bigint;
  events: StoredEvent[];
  end: BlockHeader;
}

export interface BackfillProgress {
  block: bigint;
  events: number;
}

/**
 * Historical sync of finalized blocks [from, to]: several ranges are fetched at
 * once, and committed strictly in order, each in one transaction with its events,
 * its projection changes and the checkpoint. Finalized blocks need no journal.
 */
export async function backfill(
  ctx: ChainIndexer,
  from: bigint,
  to: bigint,
  range: AdaptiveRange,
  onCommit: (progress: BackfillProgress) => void,
  shouldStop: () => boolean,
): Promise<void> {
  let next = from;
  let checkpoint = from - 1n;
  const inflight: Promise<FetchedRange>[] = [];

  const launch = () => {
    const start = next;
    const end = start + range.size - 1n > to ? to : start + range.size - 1n;
    next = end + 1n;
    const fetched = fetchRange(ctx, start, end, range);
    // Rejections surface when this range's turn to commit comes; until then, don't report them as unhandled.
    fetched.catch(() => {});
    inflight.push(fetched);
  };

  while (inflight.length < ctx.concurrency && next <= to) launch();
  while (inflight.length > 0) {
    const fetched = await inflight.shift()!;
    if (shouldStop()) return;
    // Refill before committing so that fetching overlaps the database write.
    while (inflight.length < ctx.concurrency && next <= to) launch();
    await commitBlocks(ctx, { from: checkpoint, to: fetched.end, events: fetched.events, finalized: fetched.to, journal: false });
    checkpoint = fetched.to;
    onCommit({ block: fetched.to, events: fetched.events.length });
  }
}

async function fetchRange(ctx: ChainIndexer, from: bigint, to: bigint, range: AdaptiveRange): Promise<FetchedRange> {
  const logs = await fetchLogs(ctx.client, ctx.addresses, from, to, range);
  range.observe(logs.length);
  // Timestamps: from the logs when the node includes them, else from the blocks that have logs.
  const missing = [...new Set(logs.filter((l) => l.blockTimestamp === undefined).map((l) => l.blockNumber))];
  const headers = await fetchHeaders(ctx.batchClient, [...new Set([...missing, to])]);
  const events: StoredEvent[] = [];
  for (const log of logs) {
    const timestamp = log.blockTimestamp ?? headers.get(log.blockNumber)!.timestamp;
    const event = ctx.decode(log, ctx.chainId, timestamp);
    if (event) events.push(event);
  }
  return { from, to, events, end: headers.get(to)! };
}
