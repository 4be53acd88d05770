import { Transaction, type TransactionObjectArgument } from '@mysten/sui/transactions';
import type { ObjectRef, SuiRelayerContext } from './context.js';
import type { SuiArgument, SuiCall } from './call.js';
import { SUI_TYPE } from './objects.js';

/** Everything a call's transaction consumes, as object references: nothing is left for the SDK to look up. */
export interface CallInputs {
  gas: ObjectRef[];
  /** Coins of each non-SUI type the call spends: merged into the first, the amounts split off it. */
  funds: Map<string, ObjectRef[]>;
  /** Objects the call names by id. */
  objects: Map<string, ObjectRef>;
}

const ref = (r: ObjectRef) => ({ objectId: r.objectId, version: r.version.toString(), digest: r.digest });

/**
 * The transaction of a call, offline: sender, gas payment (object id, version,
 * digest), gas price and budget all given, so building needs no RPC and the same
 * inputs always give the same bytes. SUI amounts are split off the gas coin.
 */
export async function buildCall(ctx: SuiRelayerContext, call: SuiCall, target: string, inputs: CallInputs, price: bigint, budget: bigint): Promise<Uint8Array> {
  const tx = new Transaction();
  tx.setSender(ctx.signer);
  tx.setGasPayment(inputs.gas.map(ref));
  tx.setGasPrice(price);
  tx.setGasBudget(budget);
  const sources = new Map<string, TransactionObjectArgument>();
  const source = (type: string): TransactionObjectArgument => {
    if (type === SUI_TYPE) return tx.gas;
    const known = sources.get(type);
    if (known) return known;
    const [first, ...rest] = inputs.funds.get(type) ?? [];
    if (!first) throw new Error(`no coins of ${type} were given for the transaction`);
    const primary = tx.objectRef(ref(first));
    if (rest.length > 0) tx.mergeCoins(primary, rest.map((r) => tx.objectRef(ref(r))));
    sources.set(type, primary);
    return primary;
  };
  const split = (type: string, amount: string) => tx.splitCoins(source(type), [tx.pure.u64(amount)])[0]!;

  if ('transfer' in call) {
    const { coinType, amount, recipient } = call.transfer;
    tx.transferObjects([split(coinType, amount)], tx.pure.address(recipient));
  } else {
    const { module, function: fn, typeArguments, arguments: args } = call.moveCall;
    const argument = (a: SuiArgument) => {
      if ('coin' in a) return split(a.coin.type, a.coin.amount);
      if ('object' in a) return tx.objectRef(ref(inputs.objects.get(a.object)!));
      if ('address' in a) return tx.pure.address(a.address);
      if ('string' in a) return tx.pure.string(a.string);
      if ('bool' in a) return tx.pure.bool(a.bool);
      const [type, value] = Object.entries(a)[0] as ['u8' | 'u16' | 'u32' | 'u64' | 'u128' | 'u256', string];
      return type === 'u8' || type === 'u16' || type === 'u32' ? tx.pure[type](Number(value)) : tx.pure[type](BigInt(value));
    };
    tx.moveCall({ target: `${target}::${module}::${fn}`, typeArguments, arguments: args.map(argument) });
  }
  return tx.build();
}
