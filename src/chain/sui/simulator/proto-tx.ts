/**
 * A transaction's BCS TransactionData (as the SDK's own `bcs.TransactionData` parses it) in the
 * shape of the RPC's `sui.rpc.v2.Transaction` message. The SDK has the converse converter but
 * does not export it; this one covers what a programmable transaction can hold.
 */
import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes } from '@mysten/sui/grpc';
import { fromBase64 } from '@mysten/sui/utils';
import { timestampOf } from './util.js';

export type TransactionData = typeof bcs.TransactionData.$inferType;
export type TransactionDataV1 = NonNullable<TransactionData['V1']>;
export type ParsedCommand = TransactionDataV1['kind'] extends infer K ? (K extends { ProgrammableTransaction: infer P } ? (P extends { commands: (infer C)[] } ? C : never) : never) : never;
export type ParsedArgument = typeof bcs.Argument.$inferType;
export type ParsedCallArg = typeof bcs.CallArg.$inferType;

const { Input_InputKind: InputKind, Argument_ArgumentKind: ArgumentKind, TransactionKind_Kind: Kind, TransactionExpiration_TransactionExpirationKind: ExpirationKind } = GrpcTypes;

export function protoArgument(arg: ParsedArgument): GrpcTypes.Argument {
  if (arg.$kind === 'GasCoin') return { kind: ArgumentKind.GAS };
  if (arg.$kind === 'Input') return { kind: ArgumentKind.INPUT, input: arg.Input };
  if (arg.$kind === 'Result') return { kind: ArgumentKind.RESULT, result: arg.Result };
  return { kind: ArgumentKind.RESULT, result: arg.NestedResult[0], subresult: arg.NestedResult[1] };
}

function protoInput(input: ParsedCallArg): GrpcTypes.Input {
  switch (input.$kind) {
    case 'Pure':
      return { kind: InputKind.PURE, pure: fromBase64(input.Pure.bytes) };
    case 'Object': {
      const object = input.Object;
      if (object.$kind === 'SharedObject') {
        const shared = object.SharedObject;
        return { kind: InputKind.SHARED, objectId: shared.objectId, version: BigInt(shared.initialSharedVersion), mutable: shared.mutable };
      }
      const ref = object.$kind === 'ImmOrOwnedObject' ? object.ImmOrOwnedObject : object.Receiving;
      return { kind: object.$kind === 'ImmOrOwnedObject' ? InputKind.IMMUTABLE_OR_OWNED : InputKind.RECEIVING, objectId: ref.objectId, version: BigInt(ref.version), digest: ref.digest };
    }
    case 'FundsWithdrawal': {
      const withdrawal = input.FundsWithdrawal;
      return {
        kind: InputKind.FUNDS_WITHDRAWAL,
        fundsWithdrawal: { amount: BigInt(withdrawal.reservation.MaxAmountU64), coinType: withdrawal.typeArg.Balance, source: withdrawal.withdrawFrom.$kind === 'Sponsor' ? 2 : 1 },
      };
    }
  }
}

export function protoCommand(command: ParsedCommand): GrpcTypes.Command {
  switch (command.$kind) {
    case 'MoveCall': {
      const call = command.MoveCall;
      return { command: { oneofKind: 'moveCall', moveCall: { package: call.package, module: call.module, function: call.function, typeArguments: call.typeArguments, arguments: call.arguments.map(protoArgument) } } };
    }
    case 'TransferObjects':
      return { command: { oneofKind: 'transferObjects', transferObjects: { objects: command.TransferObjects.objects.map(protoArgument), address: protoArgument(command.TransferObjects.address) } } };
    case 'SplitCoins':
      return { command: { oneofKind: 'splitCoins', splitCoins: { coin: protoArgument(command.SplitCoins.coin), amounts: command.SplitCoins.amounts.map(protoArgument) } } };
    case 'MergeCoins':
      return { command: { oneofKind: 'mergeCoins', mergeCoins: { coin: protoArgument(command.MergeCoins.destination), coinsToMerge: command.MergeCoins.sources.map(protoArgument) } } };
    case 'MakeMoveVec':
      return { command: { oneofKind: 'makeMoveVector', makeMoveVector: { elementType: command.MakeMoveVec.type ?? undefined, elements: command.MakeMoveVec.elements.map(protoArgument) } } };
    case 'Publish':
      return { command: { oneofKind: 'publish', publish: { modules: command.Publish.modules.map((m) => fromBase64(m)), dependencies: command.Publish.dependencies } } };
    case 'Upgrade':
      return {
        command: {
          oneofKind: 'upgrade',
          upgrade: { modules: command.Upgrade.modules.map((m) => fromBase64(m)), dependencies: command.Upgrade.dependencies, package: command.Upgrade.package, ticket: protoArgument(command.Upgrade.ticket) },
        },
      };
  }
}

function protoExpiration(expiration: TransactionDataV1['expiration']): GrpcTypes.TransactionExpiration {
  switch (expiration.$kind) {
    case 'None':
      return { kind: ExpirationKind.NONE };
    case 'Epoch':
      return { kind: ExpirationKind.EPOCH, epoch: BigInt(expiration.Epoch) };
    default: {
      const window = expiration.$kind === 'ValidDuring' ? expiration.ValidDuring : expiration.Validity;
      return {
        kind: expiration.$kind === 'ValidDuring' ? ExpirationKind.VALID_DURING : ExpirationKind.VALIDITY,
        minEpoch: window.minEpoch == null ? undefined : BigInt(window.minEpoch),
        epoch: window.maxEpoch == null ? undefined : BigInt(window.maxEpoch),
        minTimestamp: window.minTimestamp == null ? undefined : timestampOf(Number(window.minTimestamp)),
        maxTimestamp: window.maxTimestamp == null ? undefined : timestampOf(Number(window.maxTimestamp)),
        chain: window.chain,
        nonce: window.nonce,
      };
    }
  }
}

/** The proto message for a parsed programmable TransactionData (without `bcs` and `digest`). */
export function protoTransaction(data: TransactionDataV1): GrpcTypes.Transaction {
  const kind = data.kind;
  if (kind.$kind !== 'ProgrammableTransaction') throw new Error(`only programmable transactions are simulated, not ${kind.$kind}`);
  return {
    version: 1,
    kind: {
      kind: Kind.PROGRAMMABLE_TRANSACTION,
      data: { oneofKind: 'programmableTransaction', programmableTransaction: { inputs: kind.ProgrammableTransaction.inputs.map(protoInput), commands: kind.ProgrammableTransaction.commands.map(protoCommand) } },
    },
    sender: data.sender,
    gasPayment: {
      objects: data.gasData.payment.map((ref) => ({ objectId: ref.objectId, version: BigInt(ref.version), digest: ref.digest })),
      owner: data.gasData.owner,
      price: BigInt(data.gasData.price),
      budget: BigInt(data.gasData.budget),
    },
    expiration: protoExpiration(data.expiration),
  };
}
