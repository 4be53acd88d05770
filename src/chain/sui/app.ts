import type { ChainKey, Source } from '../../core/chain.js';
import type { IntentKind } from '../../core/relayer/types.js';
import type { SuiSourceSpec } from './indexer/filter.js';
import { moveType, suiAddress, type SuiFunction, type SuiIntentSpec } from './relayer/call.js';

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

/**
 * A kind of write on a Sui chain: either transfers of one coin type
 * (`coinType`; intents call `transfer` with `[recipient, amount]`), or calls to the
 * functions of one Move `module` (of `package`, unless each intent names its
 * package as its target), each declared with its parameters as an ABI declares
 * them: pure `u8`…`u256`, `bool`, `address`, `string`; `object` (an object the
 * signer owns, by id); `{ coin: i }` (a coin of the i-th type argument: the intent
 * gives an amount, split off the signer's coins when the transaction is built).
 * An intent gives a function's type arguments first, then its arguments:
 *
 *   suiIntent({ name: 'pay', chain, package, module: 'payments', functions: { pay: { typeParameters: 1, parameters: [{ coin: 0 }, 'address', 'string'] } } })
 *   outbox.submit(tx, { idempotencyKey, kind: 'pay', functionName: 'pay', args: [cusdType, 5_000_000n, recipient, 'invoice 42'] })
 */
export function suiIntent(
  kind: { name: string; chain: ChainKey } & ({ coinType: string } | { package?: string; module: string; functions: Record<string, SuiFunction> }) &
    Pick<IntentKind, 'onConfirmed' | 'onFailed' | 'onReorged'>,
): IntentKind {
  const { name, chain, onConfirmed, onFailed, onReorged } = kind;
  // Checked here, when the app is defined: a typo in a type or package fails at start, not at the first submit.
  const spec: SuiIntentSpec =
    'coinType' in kind
      ? { transfer: { coinType: moveType(kind.coinType, `${name}: coinType`) } }
      : { ...(kind.package ? { package: suiAddress(kind.package, `${name}: package`) } : {}), module: kind.module, functions: kind.functions };
  return { name, chain, spec, ...(onConfirmed ? { onConfirmed } : {}), ...(onFailed ? { onFailed } : {}), ...(onReorged ? { onReorged } : {}) };
}
