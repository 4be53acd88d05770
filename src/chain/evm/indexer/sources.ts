import { toEventSelector, type Abi, type AbiEvent, type Address, type Hex } from 'viem';
import type { Child, Source } from '../../../core/chain.js';
import { findDeployment } from '../deployments.js';
import type { LogOwner } from './decode.js';

/**
 * What an EVM source reads: a contract's events, or those of every contract a
 * factory creates; with an address set (the source's `addressSet`), only the
 * events one of whose `addressArgs` (e.g. ERC-20 Transfer's `from` and `to`)
 * is a member.
 */
export type EvmSourceSpec = { addressArgs?: string[] } & (
  | {
      abi: Abi;
      /** The contract's name in the deployments file (address and creation block come from there)… */
      contract: string;
    }
  | {
      abi: Abi;
      /** …or its address and the block to start from. */
      address: Address;
      startBlock: bigint;
    }
  | {
      abi: Abi;
      /** Every contract that `source`'s `event` announces in its `parameter` (an address), from the block that announced it. */
      factory: { source: string; event: string; parameter: string };
    }
);

/** A factory: where its announcements come from, and the child source they feed. */
export interface FactoryWatch {
  factorySource: string;
  childSource: string;
  /** topic0 of the announcing event. */
  selector: Hex;
  event: string;
  parameter: string;
  addresses: Address[];
}

export interface ResolvedSources {
  /** Each resolved source's start block. */
  starts: Map<string, bigint>;
  unresolved: string[];
  /** Address (lower case) → the source that owns its logs and that source's ABI. */
  owners: Map<string, LogOwner>;
  factories: FactoryWatch[];
  /** The ABI of each child source, for children found later. */
  childAbis: Map<string, Abi>;
}

/**
 * Resolves sources into addresses, ABIs and start blocks: deployments from the
 * file, children from what factories announced so far. A factory's children
 * start with their factory; a source whose contract is not recorded yet is
 * reported, not fatal.
 */
export function resolveSources(sources: Source[], children: Child[], deploymentsFile: string, chain: string): ResolvedSources {
  const resolved: ResolvedSources = { starts: new Map(), unresolved: [], owners: new Map(), factories: [], childAbis: new Map() };
  for (const source of sources) {
    const spec = source.spec as EvmSourceSpec;
    if ('factory' in spec) continue;
    const at = 'contract' in spec ? findDeployment(deploymentsFile, chain, spec.contract) : { address: spec.address, blockNumber: Number(spec.startBlock) };
    if (!at) {
      resolved.unresolved.push(source.name);
      continue;
    }
    resolved.starts.set(source.name, BigInt(at.blockNumber));
    resolved.owners.set(at.address.toLowerCase(), { source: source.name, abi: spec.abi });
  }
  for (const source of sources) {
    const spec = source.spec as EvmSourceSpec;
    if (!('factory' in spec)) continue;
    const factory = sources.find((s) => s.name === spec.factory.source);
    const factoryStart = resolved.starts.get(spec.factory.source);
    if (!factory || factoryStart === undefined) {
      resolved.unresolved.push(source.name);
      continue;
    }
    const event = (factory.spec as EvmSourceSpec).abi.find((item): item is AbiEvent => item.type === 'event' && item.name === spec.factory.event);
    if (!event) throw new Error(`source ${source.name}: ${spec.factory.source} has no event ${spec.factory.event} in its ABI`);
    resolved.starts.set(source.name, factoryStart);
    resolved.childAbis.set(source.name, spec.abi);
    resolved.factories.push({
      factorySource: spec.factory.source,
      childSource: source.name,
      selector: toEventSelector(event),
      event: spec.factory.event,
      parameter: spec.factory.parameter,
      addresses: [...resolved.owners].filter(([, owner]) => owner.source === spec.factory.source).map(([address]) => address as Address),
    });
    for (const child of children.filter((c) => c.source === source.name)) resolved.owners.set(child.id, { source: source.name, abi: spec.abi });
  }
  return resolved;
}
