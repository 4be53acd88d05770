import { normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import type { Source } from '../../../core/chain.js';
import type { TransactionFacts } from './decode.js';

/**
 * What a Sui source follows, in the family's terms. A transaction is kept when
 * it touches any of these: it calls or emits from one of `packages` (or
 * `modules`, `package::module`), emits one of `eventTypes`, or its sender or
 * one of its balance changes is an address of the source's address set.
 */
export interface SuiSourceSpec {
  packages?: string[];
  modules?: string[];
  eventTypes?: string[];
  /** The checkpoint indexing starts at (a package's publication, a product's launch). */
  startCheckpoint: bigint;
}

/** A source's filter, evaluated on each transaction of each checkpoint (filters run here, not on the node). */
export interface SuiFilter {
  source: string;
  /** Undefined: not kept. Kept: which of its events and balance changes the source gets. */
  keep(tx: TransactionFacts): Kept | undefined;
}

export interface Kept {
  event(event: TransactionFacts['events'][number]): boolean;
  balanceChange(change: TransactionFacts['balanceChanges'][number]): boolean;
}

/**
 * The filter of one source. What a kept transaction gives the source: with a
 * package, module or event-type filter, the events that match it (else every
 * event); with an address set, the balance changes of the set's addresses
 * (else every balance change). `members` is the address set as it is now: an
 * address added a moment ago counts from the next checkpoint decoded.
 */
export function suiFilter(source: Source, members: ReadonlySet<string> | undefined): SuiFilter {
  const spec = source.spec as SuiSourceSpec;
  const packages = new Set((spec.packages ?? []).map((p) => normalizeSuiAddress(p)));
  const modules = new Set((spec.modules ?? []).map(normalizeModule));
  const eventTypes = new Set((spec.eventTypes ?? []).map((t) => normalizeStructTag(t)));
  const byCode = packages.size + modules.size + eventTypes.size > 0;

  const eventMatches = (e: TransactionFacts['events'][number]) => packages.has(e.package) || packages.has(typeAddress(e.type)) || modules.has(e.module) || eventTypes.has(e.type);
  const callMatches = (call: string) => packages.has(call.slice(0, call.indexOf('::'))) || modules.has(call.slice(0, call.lastIndexOf('::')));
  const kept: Kept = {
    event: byCode ? eventMatches : () => true,
    balanceChange: members ? (b) => members.has(b.address) : () => true,
  };

  return {
    source: source.name,
    keep(tx) {
      const byAddress = members !== undefined && (members.has(tx.sender) || tx.balanceChanges.some((b) => members.has(b.address)));
      const byPackage = byCode && (tx.calls.some(callMatches) || tx.events.some(eventMatches));
      return byAddress || byPackage ? kept : undefined;
    },
  };
}

/** `0x2::coin` in its long form. */
function normalizeModule(module: string): string {
  const [pkg, name] = module.split('::');
  return `${normalizeSuiAddress(pkg ?? '0x0')}::${name ?? ''}`;
}

function typeAddress(type: string): string {
  return type.slice(0, type.indexOf('::'));
}
