import type { Address, Block, Hex, PublicClient } from 'viem';
import type { AddressSets } from '../../../core/indexer/address-sets.js';
import { NodeBehindError, type Child, type ChainReader, type FetchedBatch, type OpenedReader, type Source, type StoredEvent } from '../../../core/chain.js';
import { bloomMayContainAny } from './bloom.js';
import { createDecoder, type RawLog } from './decode.js';
import { AdaptiveRange, fetchHeaders, fetchLogs, getLogs, lower, toHeader } from './fetch.js';
import { resolveSources, type EvmSourceSpec, type FactoryWatch } from './sources.js';

export interface EvmReaderOptions {
  chain: string;
  client: PublicClient;
  /** The same node, batching concurrent calls (for block headers). */
  batchClient: PublicClient;
  deploymentsFile: string;
  /** eth_getLogs ranges in flight at once during a backfill. */
  concurrency: number;
  maxBlockRange: bigint;
}

/**
 * The EVM reading side: logs of the sources' addresses, decoded with their ABIs.
 * Backfill asks eth_getLogs for adaptive block ranges, several at once; realtime
 * fetches one block, skips its logs when the bloom rules our addresses out, and
 * asks for them by block hash otherwise. Factories are read first in each range
 * (or block), so that their children's events are fetched from the block that
 * created them, in the same batch.
 */
export function openEvmReader(options: EvmReaderOptions, sources: Source[], children: Child[], addressSets: AddressSets): OpenedReader {
  const { client, chain } = options;
  const followsSet = addressSetFilter(sources, addressSets);
  const resolved = resolveSources(sources, children, options.deploymentsFile, chain);
  const childBlocks = new Map(children.map((c) => [c.id, c.blockNumber]));
  let decode = createDecoder(resolved.owners);
  const addresses = () => [...resolved.owners.keys()] as Address[];
  // The first span tried is 1,000 blocks, or less where the configuration caps the span lower.
  const range = new AdaptiveRange(options.maxBlockRange < 1_000n ? options.maxBlockRange : 1_000n, options.maxBlockRange);

  /**
   * The children that factory logs announce, added to what we read from here on.
   * Every announcement is reported, also of a child already known here: a batch
   * fetched before (whose commit failed) may have taught us the child, and the
   * batch that is committed must still record it.
   */
  const adopt = (logs: RawLog[], timestampOf: (log: RawLog) => bigint): Child[] => {
    const found: Child[] = [];
    for (const log of logs) {
      const watch = resolved.factories.find((f) => f.selector === log.topics[0] && f.addresses.includes(lower(log.address)));
      const event = watch && decode(log, chain, timestampOf(log));
      const id = event && String(event.args[watch.parameter]).toLowerCase();
      if (!watch || !id) continue;
      found.push({ source: watch.childSource, id, blockNumber: log.blockNumber });
      if (resolved.owners.has(id)) continue;
      const owner = { source: watch.childSource, abi: resolved.childAbis.get(watch.childSource)! };
      resolved.owners.set(id, owner);
      decode.add(id, owner);
      childBlocks.set(id, log.blockNumber);
    }
    return found;
  };
  const factoryFilter = (watches: FactoryWatch[]) => ({ addresses: [...new Set(watches.flatMap((w) => w.addresses))], topics: [[...new Set(watches.map((w) => w.selector))]] });

  const fetchRange = async (from: bigint, to: bigint, found: Child[]): Promise<FetchedBatch> => {
    const logs = await fetchLogs(client, addresses(), from, to, range);
    range.observe(logs.length);
    // Timestamps: from the logs when the node includes them, else from the blocks that have logs.
    const missing = [...new Set(logs.filter((l) => l.blockTimestamp === undefined).map((l) => l.blockNumber))];
    const headers = await fetchHeaders(options.batchClient, [...new Set([...missing, to])]);
    const events: StoredEvent[] = [];
    for (const log of logs) {
      const event = decode(log, chain, log.blockTimestamp ?? headers.get(log.blockNumber)!.timestamp);
      if (event) events.push(event);
    }
    return { from, to: headers.get(to)!, events, children: found };
  };

  /** The children announced in [from, to]: read before that range's logs, in chain order. */
  const discover = async (from: bigint, to: bigint): Promise<Child[]> => {
    if (resolved.factories.length === 0) return [];
    const { addresses: factories, topics } = factoryFilter(resolved.factories);
    const logs = await fetchLogs(client, factories, from, to, range, topics);
    return adopt(logs, (log) => log.blockTimestamp ?? 0n);
  };

  const reader: ChainReader = {
    starts: resolved.starts,
    head: () => client.getBlockNumber({ cacheTime: 0 }),
    block: async (height) => toHeader(await blockAt(client, height)),
    async *ranges(from, to, shouldStop) {
      let next = from;
      const inflight: Promise<FetchedBatch>[] = [];
      const launch = async () => {
        const start = next;
        const end = start + range.size - 1n > to ? to : start + range.size - 1n;
        next = end + 1n;
        const found = await discover(start, end);
        const fetched = fetchRange(start, end, found);
        // Rejections surface when this range's turn comes; until then, don't report them as unhandled.
        fetched.catch(() => {});
        inflight.push(fetched);
      };
      while (inflight.length < options.concurrency && next <= to) await launch();
      while (inflight.length > 0) {
        const batch = await inflight.shift()!;
        if (shouldStop()) return;
        // Launch the next fetches before handing this batch over, so fetching overlaps its commit.
        while (inflight.length < options.concurrency && next <= to) await launch();
        yield { ...batch, events: await followsSet(batch.events) };
      }
    },
    async next(height) {
      const block = await blockAt(client, height);
      const header = toHeader(block);
      const onlyThisBlock = (logs: RawLog[]) => logs.filter((log) => lower(log.blockHash) === header.hash);
      let found: Child[] = [];
      if (resolved.factories.length > 0 && bloomMayContainAny(block.logsBloom, factoryFilter(resolved.factories).addresses)) {
        const { addresses: factories, topics } = factoryFilter(resolved.factories);
        found = adopt(onlyThisBlock(await getLogs(client, { address: factories, topics, blockHash: header.hash as Hex })), () => header.timestamp);
      }
      let events: StoredEvent[] = [];
      if (found.length > 0 || bloomMayContainAny(block.logsBloom, addresses())) {
        // A node answering for a block hash it has since dropped may return nothing or stale data; the hash check guards it.
        const logs = onlyThisBlock(await getLogs(client, { address: addresses(), blockHash: header.hash as Hex }));
        events = await followsSet(logs.map((log) => decode(log, chain, header.timestamp)).filter((e): e is StoredEvent => e !== undefined));
      }
      return { from: height, to: header, events, children: found };
    },
    forgetAbove(height) {
      let forgot = false;
      for (const [id, block] of childBlocks) {
        if (block <= height) continue;
        childBlocks.delete(id);
        resolved.owners.delete(id);
        forgot = true;
      }
      if (forgot) decode = createDecoder(resolved.owners);
    },
  };
  return { reader, unresolved: resolved.unresolved };
}

/**
 * Drops the events of address-set sources that name no member in their
 * address arguments. The sets are synced first (by the time a batch is handed
 * over), so an address added a moment ago counts from this batch on.
 */
function addressSetFilter(sources: Source[], addressSets: AddressSets) {
  const bySource = new Map(sources.flatMap((s) => (s.addressSet ? [[s.name, { set: s.addressSet, args: (s.spec as EvmSourceSpec).addressArgs ?? [] }] as const] : [])));
  return async (events: StoredEvent[]): Promise<StoredEvent[]> => {
    if (bySource.size === 0) return events;
    await addressSets.sync();
    return events.filter((event) => {
      const follows = bySource.get(event.source);
      if (!follows) return true;
      const members = addressSets.members(follows.set);
      return follows.args.some((arg) => typeof event.args[arg] === 'string' && members.has((event.args[arg] as string).toLowerCase()));
    });
  };
}

/** The block at a height; NodeBehindError when the node has none there yet. */
async function blockAt(client: PublicClient, height: bigint): Promise<Block> {
  try {
    return await client.getBlock({ blockNumber: height });
  } catch (error) {
    if ((error as Error).name === 'BlockNotFoundError') throw new NodeBehindError(`the node has no block ${height} yet; waiting for it to catch up`);
    throw error;
  }
}
