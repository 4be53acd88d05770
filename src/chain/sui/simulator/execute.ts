/**
 * Executes an admitted programmable transaction over coin objects: SplitCoins, MergeCoins,
 * TransferObjects and the simulated `payments` Move functions. Like Sui, a failure (a Move
 * abort, a bad argument, running out of gas) reverts everything but the gas charge, and still
 * bumps the version of every owned input; the gas budget is reserved from the gas coin while
 * the commands run.
 */
import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import type { Admitted } from './admission.js';
import { E_ZERO_AMOUNT, PAYMENTS_MODULE, paymentEvent } from './move.js';
import { objectDigest, type Coin } from './objects.js';
import { protoTransaction, type ParsedArgument, type ParsedCommand } from './proto-tx.js';
import { balanceChanges, type ChangedObjectRecord, type EventRecord, type GasCost, type Status, type TxRecord } from './records.js';
import { address, coinObjectType, normalizeType } from './util.js';

/** Gas schedule: flat, not Sui's metering, but of the same order (about 0.001 SUI a command at 1000 MIST). */
export const UNITS_PER_COMMAND = 1_000n;
export const STORAGE_PER_OBJECT = 988_000n;
export const REBATE_PER_OBJECT = 978_120n;
export const NON_REFUNDABLE_PER_OBJECT = 9_880n;

const { ExecutionError_ExecutionErrorKind: ErrorKind, CommandArgumentError_CommandArgumentErrorKind: ArgError } = GrpcTypes;

export interface Outcome {
  record: TxRecord;
  writes: Coin[];
  deletes: { objectId: string; version: bigint }[];
  /** The owned object versions this transaction used: validators lock them to it for the epoch. */
  used: { objectId: string; version: bigint }[];
}

class Failure extends Error {
  constructor(readonly error: GrpcTypes.ExecutionError) {
    super(error.description);
  }
}

interface Working {
  objectId: string;
  coinType: string;
  balance: bigint;
  /** Undefined for a coin created here and not yet given away. */
  owner?: string;
  input?: Coin;
  deleted: boolean;
  moved: boolean;
  isGas: boolean;
  createdBy?: [number, number];
}

type Value = { kind: 'coin'; coin: Working } | { kind: 'pure'; bytes: Uint8Array };

function argumentError(command: number, argument: number, kind: GrpcTypes.CommandArgumentError_CommandArgumentErrorKind, what: string): Failure {
  return new Failure({
    kind: ErrorKind.COMMAND_ARGUMENT_ERROR,
    description: `CommandArgumentError { arg_idx: ${argument}, kind: ${ArgError[kind]} } in command ${command}: ${what}`,
    command: BigInt(command),
    errorDetails: { oneofKind: 'commandArgumentError', commandArgumentError: { argument, kind } },
  });
}

function moveAbort(command: number, pkg: string, module: string, functionName: string, code: bigint): Failure {
  return new Failure({
    kind: ErrorKind.MOVE_ABORT,
    description: `MoveAbort(MoveLocation { module: ModuleId { address: ${pkg.slice(2)}, name: Identifier("${module}") }, function_name: Some("${functionName}") }, ${code}) in command ${command}`,
    command: BigInt(command),
    errorDetails: { oneofKind: 'abort', abort: { abortCode: code, location: { package: pkg, module, function: 0, instruction: 0, functionName } } },
  });
}

function plainError(kind: GrpcTypes.ExecutionError_ExecutionErrorKind, description: string, command?: number): Failure {
  return new Failure({ kind, description, command: command === undefined ? undefined : BigInt(command), errorDetails: { oneofKind: undefined } });
}

/** One run of the commands over working copies of the coins. */
class Session {
  readonly coins = new Map<string, Working>();
  readonly results: Value[][] = [];
  readonly events: EventRecord[] = [];
  readonly gas: Working;
  #created = 0;

  constructor(
    private readonly tx: Admitted,
  ) {
    const [primary, ...others] = tx.gas;
    for (const coin of tx.gas) this.#track(coin, true);
    for (const coin of tx.objects.values()) this.#track(coin, false);
    this.gas = this.coins.get(primary!.objectId)!;
    // The extra gas coins are merged into the first before execution, whatever its outcome.
    for (const coin of others) {
      const working = this.coins.get(coin.objectId)!;
      this.gas.balance += working.balance;
      working.balance = 0n;
      working.deleted = true;
    }
  }

  #track(coin: Coin, isGas: boolean) {
    this.coins.set(coin.objectId, { objectId: coin.objectId, coinType: coin.coinType, balance: coin.balance, owner: coin.owner, input: coin, deleted: false, moved: false, isGas });
  }

  #resolve(arg: ParsedArgument, command: number, position: number): Value {
    switch (arg.$kind) {
      case 'GasCoin':
        return { kind: 'coin', coin: this.gas };
      case 'Input': {
        const input = this.tx.data.kind.ProgrammableTransaction!.inputs[arg.Input];
        if (!input) throw argumentError(command, position, ArgError.INDEX_OUT_OF_BOUNDS, `input ${arg.Input} does not exist`);
        if (input.$kind === 'Pure') return { kind: 'pure', bytes: Buffer.from(input.Pure.bytes, 'base64') };
        return { kind: 'coin', coin: this.coins.get(this.tx.objects.get(arg.Input)!.objectId)! };
      }
      case 'Result': {
        const values = this.results[arg.Result];
        if (!values) throw argumentError(command, position, ArgError.INDEX_OUT_OF_BOUNDS, `result ${arg.Result} does not exist`);
        if (values.length !== 1) throw argumentError(command, position, ArgError.INVALID_RESULT_ARITY, `result ${arg.Result} has ${values.length} values`);
        return values[0]!;
      }
      case 'NestedResult': {
        const [index, sub] = arg.NestedResult;
        const values = this.results[index];
        if (!values) throw argumentError(command, position, ArgError.INDEX_OUT_OF_BOUNDS, `result ${index} does not exist`);
        const value = values[sub];
        if (!value) throw argumentError(command, position, ArgError.SECONDARY_INDEX_OUT_OF_BOUNDS, `result ${index} has no value ${sub}`);
        return value;
      }
    }
  }

  #coin(arg: ParsedArgument, command: number, position: number, byValue: boolean, gasByValue = false): Working {
    const value = this.#resolve(arg, command, position);
    if (value.kind !== 'coin') throw argumentError(command, position, ArgError.TYPE_MISMATCH, 'expected a coin, got a pure value');
    const coin = value.coin;
    if (coin.moved || coin.deleted) throw argumentError(command, position, ArgError.ARGUMENT_WITHOUT_VALUE, `${coin.objectId} was already moved`);
    if (byValue && coin.isGas && !gasByValue) throw argumentError(command, position, ArgError.INVALID_GAS_COIN_USAGE, 'the gas coin can only be transferred');
    if (byValue) coin.moved = true;
    return coin;
  }

  #pure(arg: ParsedArgument, command: number, position: number, length?: number): Uint8Array {
    const value = this.#resolve(arg, command, position);
    if (value.kind !== 'pure') throw argumentError(command, position, ArgError.TYPE_MISMATCH, 'expected a pure value, got an object');
    if (length !== undefined && value.bytes.length !== length) throw argumentError(command, position, ArgError.INVALID_BCS_BYTES, `expected ${length} bytes`);
    return value.bytes;
  }

  #u64(arg: ParsedArgument, command: number, position: number): bigint {
    return BigInt(bcs.u64().parse(this.#pure(arg, command, position, 8)));
  }

  #address(arg: ParsedArgument, command: number, position: number): string {
    return normalizeSuiAddress(bcs.Address.parse(this.#pure(arg, command, position, 32)));
  }

  #string(arg: ParsedArgument, command: number, position: number): string {
    try {
      return bcs.string().parse(this.#pure(arg, command, position));
    } catch {
      throw argumentError(command, position, ArgError.INVALID_BCS_BYTES, 'expected a UTF-8 string');
    }
  }

  #newCoin(coinType: string, balance: bigint, createdBy: [number, number]): Working {
    const objectId = address('object', this.tx.digest, this.#created++);
    const coin: Working = { objectId, coinType, balance, deleted: false, moved: false, isGas: false, createdBy };
    this.coins.set(objectId, coin);
    return coin;
  }

  run(command: ParsedCommand, i: number): Value[] {
    switch (command.$kind) {
      case 'SplitCoins': {
        const coin = this.#coin(command.SplitCoins.coin, i, 0, false);
        return command.SplitCoins.amounts.map((amountArg, j) => {
          const amount = this.#u64(amountArg, i, j + 1);
          if (coin.balance < amount) throw moveAbort(i, normalizeSuiAddress('0x2'), 'balance', 'split', 2n);
          coin.balance -= amount;
          return { kind: 'coin', coin: this.#newCoin(coin.coinType, amount, [i, j]) };
        });
      }
      case 'MergeCoins': {
        const target = this.#coin(command.MergeCoins.destination, i, 0, false);
        command.MergeCoins.sources.forEach((sourceArg, j) => {
          const source = this.#coin(sourceArg, i, j + 1, true);
          if (source === target) throw argumentError(i, j + 1, ArgError.INVALID_VALUE_USAGE, 'a coin cannot be merged into itself');
          if (source.coinType !== target.coinType) throw argumentError(i, j + 1, ArgError.TYPE_MISMATCH, `${source.coinType} into ${target.coinType}`);
          target.balance += source.balance;
          source.balance = 0n;
          source.deleted = true;
        });
        return [];
      }
      case 'TransferObjects': {
        const { objects, address: to } = command.TransferObjects;
        const recipient = this.#address(to, i, objects.length);
        objects.forEach((objectArg, j) => {
          this.#coin(objectArg, i, j, true, true).owner = recipient;
        });
        return [];
      }
      case 'MoveCall':
        return this.#moveCall(command.MoveCall, i);
      default:
        throw plainError(ErrorKind.FEATURE_NOT_YET_SUPPORTED, `${command.$kind} is not simulated`, i);
    }
  }

  #moveCall(call: NonNullable<ParsedCommand['MoveCall']>, i: number): Value[] {
    const pkg = normalizeSuiAddress(call.package);
    const target = `${pkg}::${call.module}::${call.function}`;
    const arity = (n: number) => {
      if (call.arguments.length !== n) throw plainError(ErrorKind.ARITY_MISMATCH, `${target} takes ${n} arguments, got ${call.arguments.length}`, i);
    };
    if (call.module === PAYMENTS_MODULE && call.function === 'pay') {
      if (call.typeArguments.length !== 1) throw plainError(ErrorKind.TYPE_ARITY_MISMATCH, `${target} takes 1 type argument`, i);
      arity(3);
      const coin = this.#coin(call.arguments[0]!, i, 0, true);
      if (coin.coinType !== normalizeType(call.typeArguments[0]!)) throw argumentError(i, 0, ArgError.TYPE_MISMATCH, `Coin<${coin.coinType}> for Coin<${call.typeArguments[0]}>`);
      const recipient = this.#address(call.arguments[1]!, i, 1);
      const memo = this.#string(call.arguments[2]!, i, 2);
      if (coin.balance === 0n) throw moveAbort(i, pkg, PAYMENTS_MODULE, 'pay', E_ZERO_AMOUNT);
      coin.owner = recipient;
      this.events.push(paymentEvent(pkg, { payer: this.tx.data.sender, recipient, amount: coin.balance, coinType: coin.coinType, memo }));
      return [];
    }
    if (call.module === PAYMENTS_MODULE && call.function === 'abort_with') {
      arity(1);
      throw moveAbort(i, pkg, PAYMENTS_MODULE, 'abort_with', this.#u64(call.arguments[0]!, i, 0));
    }
    throw plainError(ErrorKind.FUNCTION_NOT_FOUND, `Could not resolve function '${call.function}' in module ${pkg}::${call.module}`, i);
  }

  /** Coins made here and never given away: Coin has no `drop`, so Move refuses to end. */
  checkUnused(): void {
    for (const coin of this.coins.values()) {
      if (coin.createdBy && !coin.deleted && coin.owner === undefined) {
        throw plainError(ErrorKind.UNUSED_VALUE_WITHOUT_DROP, `UnusedValueWithoutDrop { result_idx: ${coin.createdBy[0]}, secondary_idx: ${coin.createdBy[1]} }`);
      }
    }
  }
}

function gasCost(price: bigint, commands: number, written: number, inputs: number): GasCost {
  return {
    computation: price * UNITS_PER_COMMAND * BigInt(Math.max(1, commands)),
    storage: STORAGE_PER_OBJECT * BigInt(written),
    rebate: REBATE_PER_OBJECT * BigInt(inputs),
    nonRefundable: NON_REFUNDABLE_PER_OBJECT * BigInt(inputs),
  };
}

const net = (gas: GasCost) => gas.computation + gas.storage - gas.rebate;

export function execute(tx: Admitted, epoch: number): Outcome {
  const { data } = tx;
  const commands = data.kind.ProgrammableTransaction!.commands;
  const price = BigInt(data.gasData.price);
  const budget = BigInt(data.gasData.budget);
  const inputCount = tx.gas.length + tx.objects.size;

  let session = new Session(tx);
  // The budget is reserved from the gas coin while commands run; what is not charged comes back.
  session.gas.balance -= budget;
  let status: Status = { success: true };
  let gas: GasCost;
  let ran = commands.length;
  try {
    commands.forEach((command, i) => {
      ran = i + 1;
      session.results[i] = session.run(command, i);
    });
    session.checkUnused();
    const written = [...session.coins.values()].filter((c) => !c.deleted).length;
    gas = gasCost(price, commands.length, written, inputCount);
    if (gas.computation + gas.storage > budget) throw plainError(ErrorKind.INSUFFICIENT_GAS, 'InsufficientGas');
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    status = { success: false, error: error.error };
    // Revert: only the gas smashing and the version bumps of owned inputs remain.
    session = new Session(tx);
    session.gas.balance -= budget;
    const written = tx.objects.size + 1;
    gas = gasCost(price, ran, written, inputCount);
    if (error.error.kind === ErrorKind.INSUFFICIENT_GAS) gas.computation = budget - gas.storage + gas.rebate;
  }
  session.gas.balance += budget - net(gas);

  const lamport = [...tx.gas, ...tx.objects.values()].reduce((max, c) => (c.version > max ? c.version : max), 0n) + 1n;
  const changedObjects: ChangedObjectRecord[] = [];
  const writes: Coin[] = [];
  const deletes: Outcome['deletes'] = [];
  const deltas = balanceChanges();
  for (const coin of session.coins.values()) {
    const input = coin.input && { version: coin.input.version, digest: coin.input.digest, owner: coin.input.owner };
    if (coin.input) deltas.add(coin.input.owner, coin.coinType, -coin.input.balance);
    if (coin.deleted) {
      if (input) {
        changedObjects.push({ objectId: coin.objectId, objectType: coinObjectType(coin.coinType), input, operation: 'deleted' });
        deletes.push({ objectId: coin.objectId, version: lamport });
      }
      continue;
    }
    const owner = coin.owner!;
    deltas.add(owner, coin.coinType, coin.balance);
    const written: Coin = { objectId: coin.objectId, coinType: coin.coinType, balance: coin.balance, owner, version: lamport, digest: objectDigest(coin.objectId, lamport, owner, coin.balance), previousTransaction: tx.digest };
    writes.push(written);
    changedObjects.push({ objectId: coin.objectId, objectType: coinObjectType(coin.coinType), input, output: { version: lamport, digest: written.digest, owner }, operation: input ? 'none' : 'created' });
  }
  const changes = deltas.changes();
  const inputs = [...tx.gas, ...tx.objects.values()];
  const record: TxRecord = {
    digest: tx.digest,
    kind: 'programmable',
    sender: data.sender,
    transaction: () => protoTransaction(data),
    bcs: tx.bytes,
    signatures: tx.signatures,
    status,
    gas: gas!,
    gasObjectId: session.gas.objectId,
    changedObjects: () => changedObjects,
    dependencies: [...new Set(inputs.map((c) => c.previousTransaction))],
    lamport,
    events: status.success ? session.events : [],
    balanceChanges: changes,
    moveCalls: commands.flatMap((c) => (c.$kind === 'MoveCall' ? [`${normalizeSuiAddress(c.MoveCall.package)}::${c.MoveCall.module}::${c.MoveCall.function}`] : [])),
    epoch,
  };
  return { record, writes, deletes, used: inputs.map((c) => ({ objectId: c.objectId, version: c.version })) };
}
