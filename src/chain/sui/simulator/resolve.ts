/**
 * Transaction resolution, as `Transaction.build({ client })` asks for it: the SDK sends its
 * unfinished transaction as a proto `Transaction` (objects by id only, maybe no gas payment or
 * budget) to SimulateTransaction and takes back the resolved one. Here objects get their
 * current reference, gas coins are picked from the owner's largest SUI coins, and a missing
 * budget becomes the cost of a dry run; the result is encoded with the SDK's BCS and dry-run
 * like any other transaction.
 */
import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { MAX_GAS_BUDGET, MIN_BUDGET_UNITS, parseTransaction } from './admission.js';
import { invalid, unimplemented } from './errors.js';
import type { SuiLedger } from './ledger.js';
import type { TransactionDataV1 } from './proto-tx.js';
import { SUI_TYPE } from './util.js';

type DataInput = typeof bcs.TransactionData.$inferInput;
type V1Input = Extract<DataInput, { V1: unknown }>['V1'];
type ArgInput = typeof bcs.Argument.$inferInput;
type CommandInput = typeof bcs.Command.$inferInput;

const { Input_InputKind: InputKind, Argument_ArgumentKind: ArgKind, TransactionExpiration_TransactionExpirationKind: Expiration } = GrpcTypes;

function argument(arg: GrpcTypes.Argument | undefined): ArgInput {
  switch (arg?.kind) {
    case ArgKind.GAS:
      return { GasCoin: true };
    case ArgKind.INPUT:
      return { Input: arg.input ?? 0 };
    case ArgKind.RESULT:
      return arg.subresult === undefined ? { Result: arg.result ?? 0 } : { NestedResult: [arg.result ?? 0, arg.subresult] };
    default:
      throw invalid(`unknown argument ${JSON.stringify(arg)}`);
  }
}

function command({ command: c }: GrpcTypes.Command): CommandInput {
  switch (c.oneofKind) {
    case 'moveCall':
      return { MoveCall: { package: c.moveCall.package ?? '', module: c.moveCall.module ?? '', function: c.moveCall.function ?? '', typeArguments: c.moveCall.typeArguments, arguments: c.moveCall.arguments.map(argument) } };
    case 'transferObjects':
      return { TransferObjects: { objects: c.transferObjects.objects.map(argument), address: argument(c.transferObjects.address) } };
    case 'splitCoins':
      return { SplitCoins: { coin: argument(c.splitCoins.coin), amounts: c.splitCoins.amounts.map(argument) } };
    case 'mergeCoins':
      return { MergeCoins: { destination: argument(c.mergeCoins.coin), sources: c.mergeCoins.coinsToMerge.map(argument) } };
    default:
      throw unimplemented(`${c.oneofKind ?? 'empty'} commands are not simulated`);
  }
}

function expiration(value: GrpcTypes.TransactionExpiration | undefined): V1Input['expiration'] {
  if (!value || value.kind === Expiration.NONE) return { None: true };
  if (value.kind === Expiration.EPOCH) return { Epoch: String(value.epoch ?? 0n) };
  if (value.kind === Expiration.VALID_DURING) {
    const ms = (t?: { seconds: bigint; nanos: number }) => (t ? String(t.seconds * 1000n + BigInt(Math.floor(t.nanos / 1e6))) : null);
    return { ValidDuring: { minEpoch: value.minEpoch?.toString() ?? null, maxEpoch: value.epoch?.toString() ?? null, minTimestamp: ms(value.minTimestamp), maxTimestamp: ms(value.maxTimestamp), chain: value.chain ?? '', nonce: value.nonce ?? 0 } };
  }
  throw unimplemented('this expiration kind is not simulated');
}

export interface Resolved {
  bytes: Uint8Array;
  digest: string;
  data: TransactionDataV1;
}

/** Resolves the SDK's unfinished transaction into TransactionData bytes (gas picked and budgeted when asked). */
export async function resolveTransaction(ledger: SuiLedger, proto: GrpcTypes.Transaction, doGasSelection: boolean): Promise<Resolved> {
  const data = proto.kind?.data;
  if (data?.oneofKind !== 'programmableTransaction') throw invalid('only programmable transactions can be resolved');
  const sender = normalizeSuiAddress(proto.sender ?? '0x0');
  const used = new Set<string>();
  const inputs = data.programmableTransaction.inputs.map((input) => {
    if (input.kind === InputKind.PURE || (input.kind === undefined && input.pure)) return { Pure: { bytes: input.pure ?? new Uint8Array() } };
    if (input.kind !== undefined && input.kind !== InputKind.IMMUTABLE_OR_OWNED && input.kind !== InputKind.INPUT_KIND_UNKNOWN) throw unimplemented(`input kind ${InputKind[input.kind]} is not simulated`);
    const objectId = normalizeSuiAddress(input.objectId ?? '');
    const coin = ledger.objects.get(objectId);
    if (!coin) throw invalid(`Object ${objectId} not found`);
    used.add(objectId);
    // A full reference stays as given (a stale one must fail as it would on submission).
    const version = input.version !== undefined && input.digest ? input.version : coin.version;
    return { Object: { ImmOrOwnedObject: { objectId, version: String(version), digest: input.digest ?? coin.digest } } };
  });
  const gas = proto.gasPayment;
  const owner = normalizeSuiAddress(gas?.owner ?? sender);
  const price = gas?.price ?? ledger.referenceGasPrice;
  let payment = (gas?.objects ?? []).map((ref) => ({ objectId: ref.objectId ?? '', version: String(ref.version ?? 0n), digest: ref.digest ?? '' }));
  if (payment.length === 0 && doGasSelection) {
    const coins = ledger.objects.owned(owner, (c) => c.coinType === SUI_TYPE && !used.has(c.objectId)).sort((a, b) => (b.balance > a.balance ? 1 : b.balance < a.balance ? -1 : 0));
    if (coins.length === 0) throw invalid(`No valid gas coins found for the transaction: ${owner} holds no SUI coins`);
    const target = gas?.budget ?? MAX_GAS_BUDGET;
    let sum = 0n;
    payment = [];
    for (const coin of coins) {
      payment.push({ objectId: coin.objectId, version: String(coin.version), digest: coin.digest });
      sum += coin.balance;
      if (sum >= target) break;
    }
  }
  const encode = (budget: bigint): Resolved => {
    const bytes = bcs.TransactionData.serialize({
      V1: {
        kind: { ProgrammableTransaction: { inputs, commands: data.programmableTransaction.commands.map(command) } },
        sender,
        gasData: { payment, owner, price: String(price), budget: String(budget) },
        expiration: expiration(proto.expiration),
      },
    }).toBytes();
    return { bytes, ...parseTransaction(bytes) };
  };
  if (gas?.budget !== undefined || payment.length === 0) return encode(gas?.budget ?? 0n);
  // No budget: dry-run with all the gas selected, then ask for what that run cost.
  const balance = payment.reduce((sum, ref) => sum + (ledger.objects.get(ref.objectId)?.balance ?? 0n), 0n);
  const probe = encode(balance < MAX_GAS_BUDGET ? balance : MAX_GAS_BUDGET);
  const dry = await ledger.simulate(probe.bytes, false);
  const floor = MIN_BUDGET_UNITS * price;
  const cost = dry.gas.computation + dry.gas.storage;
  return encode(cost > floor ? cost : floor);
}
