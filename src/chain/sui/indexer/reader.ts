import type { GrpcTypes, SuiGrpcClient } from '@mysten/sui/grpc';
import type { ChainReader, FetchedBatch, OpenedReader, Source, StoredEvent } from '../../../core/chain.js';
import type { AddressSets } from '../../../core/indexer/address-sets.js';
import { getCheckpoint, latestCheckpoint, listCheckpoints } from './checkpoints.js';
import { checkpointRef, decodeCheckpoint } from './decode.js';
import { suiFilter, type SuiSourceSpec } from './filter.js';
import type { RecentCheckpoints } from '../heads.js';

export interface SuiReaderOptions {
  chain: string;
  client: SuiGrpcClient;
  /** Checkpoints the live subscription delivered, read from memory instead of asked for again. */
  recent: RecentCheckpoints;
  /** The most checkpoints in one batch (one commit). */
  batchCheckpoints: number;
  /** The most transactions in one batch (a batch also ends at a checkpoint boundary). */
  batchTransactions: number;
}

/**
 * The Sui reading side. Checkpoints are final when the node has them (there
 * are no reorgs), so the core only ever asks for final ranges: they come from
 * the live subscription's memory where it has them, and from ListCheckpoints
 * streams otherwise (the gaps a dropped subscription leaves, and backfills).
 * Filters run here on every transaction, with the address sets synced before
 * each batch is decoded.
 */
export function openSuiReader(options: SuiReaderOptions, sources: Source[], addressSets: AddressSets): OpenedReader {
  const { client, chain } = options;
  const starts = new Map(sources.map((s) => [s.name, (s.spec as SuiSourceSpec).startCheckpoint]));

  const decodeBatch = async (checkpoints: GrpcTypes.Checkpoint[]): Promise<StoredEvent[]> => {
    await addressSets.sync();
    const filters = sources.map((s) => suiFilter(s, s.addressSet ? addressSets.members(s.addressSet) : undefined));
    return checkpoints.flatMap((c) => decodeCheckpoint(chain, c, filters));
  };

  /** [from, to] in order: from memory while it has them, then one stream for the rest. */
  async function* checkpointsIn(from: bigint, to: bigint, shouldStop: () => boolean): AsyncGenerator<GrpcTypes.Checkpoint> {
    let next = from;
    while (next <= to && !shouldStop()) {
      const remembered = options.recent.get(next);
      if (remembered) {
        yield remembered;
        next += 1n;
        continue;
      }
      for await (const checkpoint of listCheckpoints(client, next, to, shouldStop)) {
        yield checkpoint;
        next = (checkpoint.sequenceNumber ?? next) + 1n;
      }
    }
  }

  const reader: ChainReader = {
    starts,
    head: () => latestCheckpoint(client),
    block: async (height) => checkpointRef(options.recent.get(height) ?? (await getCheckpoint(client, height, ['sequence_number', 'digest', 'summary.previous_digest', 'summary.timestamp']))),
    async *ranges(from, to, shouldStop) {
      let pending: GrpcTypes.Checkpoint[] = [];
      let transactions = 0;
      const flush = async (): Promise<FetchedBatch> => {
        const batch = { from: pending[0]!.sequenceNumber!, to: checkpointRef(pending.at(-1)!), events: await decodeBatch(pending), children: [] };
        pending = [];
        transactions = 0;
        return batch;
      };
      for await (const checkpoint of checkpointsIn(from, to, shouldStop)) {
        pending.push(checkpoint);
        transactions += checkpoint.transactions.length;
        if (pending.length >= options.batchCheckpoints || transactions >= options.batchTransactions) yield await flush();
        if (shouldStop()) return;
      }
      if (pending.length > 0 && !shouldStop()) yield await flush();
    },
    // No checkpoint is ever above finality: the core does not ask for one block at a time.
    async next(height) {
      const checkpoint = options.recent.get(height) ?? (await getCheckpoint(client, height));
      return { from: height, to: checkpointRef(checkpoint), events: await decodeBatch([checkpoint]), children: [] };
    },
    forgetAbove() {},
  };
  return { reader, unresolved: [] };
}
