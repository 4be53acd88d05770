import type { ChainKey, Source } from '../../core/chain.js';
import type { SuiSourceSpec } from './indexer/filter.js';

/**
 * A source of Sui transactions: those that call or emit from `packages` (or
 * `modules`, `package::module`), emit one of `eventTypes`, or are sent by or
 * change the balance of an address in `addressSet` (table address_sets, kept
 * by the app). Each kept transaction gives the source a `Transaction` event,
 * its Move events (those of the packages, modules or types followed, if any
 * are), and its `BalanceChange`s (those of the set's addresses, if it follows a
 * set). Indexing starts at `startCheckpoint`.
 */
export function suiSource(source: { name: string; chain: ChainKey; packages?: string[]; modules?: string[]; eventTypes?: string[]; addressSet?: string; startCheckpoint: bigint }): Source {
  const { name, chain, addressSet, ...spec } = source;
  if (!addressSet && !spec.packages?.length && !spec.modules?.length && !spec.eventTypes?.length) {
    throw new Error(`Sui source ${name} follows nothing: give it packages, modules, event types or an address set`);
  }
  return { name, chain, family: 'sui', spec: spec satisfies SuiSourceSpec, ...(addressSet ? { addressSet } : {}) };
}
