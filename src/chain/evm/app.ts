import type { Abi, Address } from 'viem';
import type { ChainKey, Source } from '../../core/chain.js';
import type { IntentKind } from '../../core/relayer/types.js';
import type { EvmSourceSpec } from './indexer/sources.js';
import type { EvmIntentSpec } from './relayer/context.js';

/**
 * A source of contract events on an EVM chain: a contract recorded in the
 * deployments file, or one at a known address. With `addressSet`, only the
 * events whose `args` name a member of that set (table address_sets), e.g. a
 * token's Transfers from or to an app's users: `{ name: 'users', args: ['from', 'to'] }`.
 */
export function evmSource(
  source: { name: string; chain: ChainKey; abi: Abi; addressSet?: { name: string; args: string[] } } & ({ contract: string } | { address: Address; startBlock: bigint }),
): Source {
  const { name, chain, addressSet, ...spec } = source;
  return { name, chain, family: 'evm', spec: { ...spec, ...(addressSet ? { addressArgs: addressSet.args } : {}) } as EvmSourceSpec, ...(addressSet ? { addressSet: addressSet.name } : {}) };
}

/** Every contract a factory creates: its event `event` (of source `factory`) names each child in `parameter`. */
export function evmFactorySource(source: { name: string; chain: ChainKey; abi: Abi; factory: { source: string; event: string; parameter: string } }): Source {
  const { name, chain, abi, factory } = source;
  return { name, chain, family: 'evm', spec: { abi, factory } satisfies EvmSourceSpec, readThrough: factory.source };
}

/** A kind of contract call on an EVM chain; `contract` (a deployments file name) is the target when intents name none. */
export function evmIntent(kind: { name: string; chain: ChainKey; abi: Abi; contract?: string } & Pick<IntentKind, 'onConfirmed' | 'onFailed' | 'onReorged'>): IntentKind {
  const { name, chain, abi, contract, ...handlers } = kind;
  return { name, chain, spec: { abi, contract } satisfies EvmIntentSpec, ...handlers };
}
