import type pg from 'pg';
import { bcs } from '@mysten/sui/bcs';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { fromBase64, normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { verifyTransactionSignature } from '@mysten/sui/verify';
import type { ChainKey, JsonValue } from '../../../core/chain.js';
import { IntentRejectedError, type AcceptedSigned, type SignedSubmission } from '../../../core/relayer/outbox.js';
import type { IntentKind } from '../../../core/relayer/types.js';
import { moveType, type SuiIntentSpec, type SuiParameter } from './call.js';
import { seal } from './envelope.js';

type TransactionDataV1 = NonNullable<ReturnType<typeof bcs.TransactionData.parse>['V1']>;
type Ptb = NonNullable<TransactionDataV1['kind']['ProgrammableTransaction']>;
type Command = Ptb['commands'][number];
type Argument = Extract<Command, { $kind: 'SplitCoins' }>['SplitCoins']['coin'];

/** The TransactionData of a user-signed transaction (V1, programmable), or why it is not one. */
export function parseTransactionData(bytes: Uint8Array): TransactionDataV1 {
  let data;
  try {
    data = bcs.TransactionData.parse(bytes).V1;
  } catch (error) {
    throw new IntentRejectedError(`signed.transaction is not Sui TransactionData BCS: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!data) throw new IntentRejectedError('signed.transaction is not TransactionData V1');
  if (!data.kind.ProgrammableTransaction) throw new IntentRejectedError(`only programmable transactions are taken, not ${data.kind.$kind}`);
  return data;
}

/** Whether any command uses the gas coin: a sponsored transaction must not (it would spend the sponsor's SUI). */
export function usesGasCoin(ptb: Ptb): boolean {
  const walk = (value: unknown): boolean =>
    Array.isArray(value) ? value.some(walk) : typeof value === 'object' && value !== null ? (value as { $kind?: string }).$kind === 'GasCoin' || Object.values(value).some(walk) : false;
  return ptb.commands.some(walk);
}

/**
 * A transaction the user signed on their device, as the outbox takes it: its BCS
 * TransactionData and the sender's signature (base64, Sui's serialized form). The
 * sender's signature is verified; the commands must be what the kind does (a
 * transfer kind: only splitting, merging and transferring coins; a Move module
 * kind: calls to that module of the target package, of functions it declares);
 * gas is the user's own, or, sponsored, paid by a platform signer, never spent by
 * the commands. Its digest (over the TransactionData alone: signatures do not
 * change it) is the intent's transaction: it can execute once.
 */
export async function acceptSignedSui(kind: IntentKind, signed: SignedSubmission, target: string): Promise<AcceptedSigned> {
  if (typeof signed.transaction !== 'string') throw new IntentRejectedError('signed.transaction must be base64 TransactionData BCS');
  if (!Array.isArray(signed.signatures) || signed.signatures.length !== 1 || typeof signed.signatures[0] !== 'string') {
    throw new IntentRejectedError("signed.signatures must hold the sender's signature (base64), and only it: a sponsor's is added when the transaction is sent");
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(signed.transaction);
  } catch {
    throw new IntentRejectedError('signed.transaction is not base64');
  }
  const data = parseTransactionData(bytes);
  const ptb = data.kind.ProgrammableTransaction!;
  const sender = normalizeSuiAddress(data.sender);
  const gasOwner = normalizeSuiAddress(data.gasData.owner);
  const signature = signed.signatures[0];
  try {
    await verifyTransactionSignature(bytes, signature, { address: sender });
  } catch (error) {
    throw new IntentRejectedError(`the signature is not the sender ${sender}'s over this transaction: ${(error as Error).message.split('\n')[0]}`);
  }
  if (gasOwner !== sender && usesGasCoin(ptb)) throw new IntentRejectedError(`the transaction's gas is paid by ${gasOwner}; its commands may not use the gas coin`);
  if (data.gasData.payment.length === 0) throw new IntentRejectedError('the transaction names no gas payment coins');
  const call = describeCall(kind.spec as SuiIntentSpec, kind.name, target, ptb);
  return {
    sender,
    ...(gasOwner !== sender ? { sponsor: gasOwner } : {}),
    transactionId: TransactionDataBuilder.getDigestFromBytes(bytes),
    sequence: null,
    raw: seal(bytes, [signature]),
    payload: signed.transaction,
    functionName: call.functionName,
    args: call.args,
    value: 0n,
    feeLimit: BigInt(data.gasData.budget),
    fees: { gasPrice: String(data.gasData.price), gasBudget: String(data.gasData.budget) },
  };
}

/**
 * In the submitting transaction: a sponsored transaction takes over the gas coins
 * reserved for it by `sponsorTransaction` (still reserved, not expired), which then
 * belong to its intent until its effects free them. Without a live reservation the
 * sponsor never signs it: refused.
 */
export async function bindSponsorship(client: pg.ClientBase, chain: ChainKey, accepted: AcceptedSigned, intentId: bigint): Promise<void> {
  if (accepted.sponsor === undefined) return;
  const data = parseTransactionData(fromBase64(accepted.payload));
  const coins = data.gasData.payment.map((p) => normalizeSuiAddress(p.objectId));
  const { rows } = await client.query<{ object_id: string }>(
    `update sui_owned_objects set locked_by_intent = $3, reserved_until = null, updated_at = now()
     where chain = $1 and locked_by_transaction = $2 and signer = $4 and locked_by_intent is null and locked_as = 'gas' and reserved_until > now()
     returning object_id`,
    [chain, accepted.transactionId, intentId, accepted.sponsor],
  );
  if (rows.length !== coins.length || !coins.every((c) => rows.some((r) => r.object_id === c))) {
    throw new IntentRejectedError(`transaction ${accepted.transactionId} is not sponsored by ${accepted.sponsor} now: its gas reservation expired, or it was not prepared by sponsorTransaction`);
  }
}

/** The call the transaction makes, checked against the kind: its function name and arguments as an intent of the kind records them. */
function describeCall(spec: SuiIntentSpec, kindName: string, target: string, ptb: Ptb): { functionName: string; args: JsonValue } {
  const pure = (argument: Argument | undefined): Uint8Array | undefined => {
    const input = argument?.$kind === 'Input' ? ptb.inputs[argument.Input] : undefined;
    return input?.$kind === 'Pure' ? fromBase64(input.Pure.bytes) : undefined;
  };
  // A coin argument made by SplitCoins from pure amounts: the amount split off.
  const splitAmount = (argument: Argument | undefined): string | null => {
    const index = argument?.$kind === 'NestedResult' ? argument.NestedResult[0] : argument?.$kind === 'Result' ? argument.Result : undefined;
    const which = argument?.$kind === 'NestedResult' ? argument.NestedResult[1] : 0;
    const command = index === undefined ? undefined : ptb.commands[index];
    const amount = command?.$kind === 'SplitCoins' ? pure(command.SplitCoins.amounts[which]) : undefined;
    return amount ? bcs.u64().parse(amount) : null;
  };
  const moveCalls = ptb.commands.flatMap((c) => (c.$kind === 'MoveCall' ? [c.MoveCall] : []));
  const others = ptb.commands.filter((c) => c.$kind !== 'MoveCall' && c.$kind !== 'SplitCoins' && c.$kind !== 'MergeCoins' && c.$kind !== 'TransferObjects');
  if (others.length > 0) throw new IntentRejectedError(`${kindName} takes no ${others[0]!.$kind} command`);

  if ('transfer' in spec) {
    if (moveCalls.length > 0) throw new IntentRejectedError(`${kindName} transfers coins: the transaction may call no Move function`);
    const transfers = ptb.commands.flatMap((c) => (c.$kind === 'TransferObjects' ? [c.TransferObjects] : []));
    if (transfers.length !== 1) return { functionName: 'transfer', args: [] };
    const recipient = pure(transfers[0]!.address);
    const amounts = transfers[0]!.objects.map(splitAmount);
    return {
      functionName: 'transfer',
      args: [recipient ? normalizeSuiAddress(bcs.Address.parse(recipient)) : null, amounts.includes(null) ? null : amounts.reduce((s, a) => s + BigInt(a!), 0n).toString()],
    };
  }
  if (moveCalls.length === 0) throw new IntentRejectedError(`the transaction calls no function of ${kindName} (${spec.module})`);
  for (const call of moveCalls) {
    const where = `${normalizeSuiAddress(call.package)}::${call.module}::${call.function}`;
    if (normalizeSuiAddress(call.package) !== target || call.module !== spec.module || !Object.hasOwn(spec.functions, call.function)) {
      throw new IntentRejectedError(`the transaction calls ${where}, not a function of ${kindName} (${target}::${spec.module})`);
    }
  }
  const last = moveCalls.at(-1)!;
  const parameters = spec.functions[last.function]!.parameters;
  const typeArguments = last.typeArguments.map((t) => {
    try {
      return moveType(t, 'type argument');
    } catch {
      return normalizeStructTag(t);
    }
  });
  const args = last.arguments.map((argument, i) => decodeArgument(parameters[i], argument, pure, splitAmount, ptb));
  return { functionName: last.function, args: [...typeArguments, ...args] };
}

function decodeArgument(
  parameter: SuiParameter | undefined,
  argument: Argument,
  pure: (a: Argument) => Uint8Array | undefined,
  splitAmount: (a: Argument) => string | null,
  ptb: Ptb,
): JsonValue {
  if (parameter !== undefined && typeof parameter === 'object') return splitAmount(argument);
  if (parameter === 'object') {
    const input = argument.$kind === 'Input' ? ptb.inputs[argument.Input] : undefined;
    return input?.$kind === 'Object' && input.Object.ImmOrOwnedObject ? normalizeSuiAddress(input.Object.ImmOrOwnedObject.objectId) : null;
  }
  const bytes = pure(argument);
  if (!bytes || parameter === undefined) return null;
  try {
    switch (parameter) {
      case 'bool':
        return bcs.bool().parse(bytes);
      case 'address':
        return normalizeSuiAddress(bcs.Address.parse(bytes));
      case 'string':
        return bcs.string().parse(bytes);
      default:
        return String(bcs[parameter]().parse(bytes));
    }
  } catch {
    return null;
  }
}
