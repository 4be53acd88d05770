import { bcs } from '@mysten/sui/bcs';
import type { SuiGrpcClient } from '@mysten/sui/grpc';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { fromBase64, normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { decodeFunctionData, keccak256, parseTransaction, recoverTransactionAddress, type Address, type Hex, type TransactionSerialized } from 'viem';
import type { SignedSubmission } from '../../../engine/index.js';
import { cusdAbi } from '../contracts.js';
import { ChainUnavailableError } from '../balances/chain.js';
import { InvalidSendError } from './send.js';

/** What a transaction the user signed sends, read from its bytes before anything is reserved for it. */
export interface DecodedTransfer {
  /** Who signed it (the chain's stored address form). */
  sender: string;
  to: string;
  amount: bigint;
  /** Its hash (EVM) or digest (Sui): fixed by the bytes. */
  transactionId: string;
  /** Sui: the coins it splits and merges, which must be cUSD coins (requireCusdCoins: the bytes name them by id alone). */
  coins?: string[];
}

/** The signed bytes do not hold a cUSD transfer the app can reserve for. */
export class InvalidSignedTransactionError extends InvalidSendError {
  override name = 'InvalidSignedTransactionError';
}

function refuse(message: string): never {
  throw new InvalidSignedTransactionError(message);
}

/**
 * An EVM transaction the user signed: a call of CUSD's `transfer(to, amount)` on
 * this chain, its sender recovered from the signature. The outbox checks the
 * same bytes again when they are submitted (chain, contract, ABI); the app reads
 * them first because the amount must be reserved before the intent exists.
 */
export async function decodeEvmTransfer(signed: SignedSubmission, cusd: Address, chainId: number): Promise<DecodedTransfer> {
  const serialized = signed.transaction;
  if (typeof serialized !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(serialized)) return refuse('the transaction must be a serialized signed EVM transaction (0x-hex)');
  if (signed.signatures !== undefined && signed.signatures !== null && signed.signatures.length > 0) return refuse('an EVM transaction carries its own signature: give no signatures');
  let parsed;
  try {
    parsed = parseTransaction(serialized as TransactionSerialized);
  } catch (error) {
    return refuse(`the bytes are not an EVM transaction: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed.r === undefined || parsed.s === undefined) return refuse('the transaction is not signed');
  if (parsed.chainId !== chainId) return refuse(`the transaction is signed for chain ${parsed.chainId ?? '(none: not EIP-155)'}, not ${chainId}`);
  if (!parsed.to || parsed.to.toLowerCase() !== cusd.toLowerCase()) return refuse(`the transaction calls ${parsed.to ?? 'nothing'}, not the cUSD contract ${cusd.toLowerCase()}`);
  if ((parsed.value ?? 0n) !== 0n) return refuse('a cUSD transfer carries no ether (value must be 0)');
  let call;
  try {
    call = decodeFunctionData({ abi: cusdAbi, data: parsed.data ?? '0x' });
  } catch {
    return refuse(`the transaction's call (selector ${(parsed.data ?? '0x').slice(0, 10)}) is not a function of cUSD`);
  }
  if (call.functionName !== 'transfer') return refuse(`the transaction calls cUSD.${call.functionName}, not transfer(to, amount)`);
  const [to, amount] = call.args as readonly [Address, bigint];
  let sender: string;
  try {
    sender = (await recoverTransactionAddress({ serializedTransaction: serialized as TransactionSerialized })).toLowerCase();
  } catch (error) {
    return refuse(`the signature does not recover a sender: ${(error as Error).message.split('\n')[0]}`);
  }
  return { sender, to: to.toLowerCase(), amount, transactionId: keccak256(serialized as Hex) };
}

type TransactionDataV1 = NonNullable<ReturnType<typeof bcs.TransactionData.parse>['V1']>;
type Ptb = NonNullable<TransactionDataV1['kind']['ProgrammableTransaction']>;
type Command = Ptb['commands'][number];
type Argument = Extract<Command, { $kind: 'SplitCoins' }>['SplitCoins']['coin'];

/**
 * A Sui transaction the user signed: cUSD split off the sender's own cUSD coins
 * (merged first, if it takes several) and transferred to one recipient, and
 * nothing else: no Move call, no other object moved. Read from the bytes alone:
 * the coins' types are checked against the chain by requireCusdCoins (the bytes
 * name them by id). The signature is verified by the outbox when it is submitted.
 */
export function decodeSuiTransfer(signed: SignedSubmission): DecodedTransfer {
  if (typeof signed.transaction !== 'string') return refuse('the transaction must be base64 Sui TransactionData');
  let bytes: Uint8Array;
  let data: TransactionDataV1 | undefined;
  try {
    bytes = fromBase64(signed.transaction);
    data = bcs.TransactionData.parse(bytes).V1;
  } catch {
    return refuse('the bytes are not Sui TransactionData (base64 BCS)');
  }
  const ptb = data?.kind.ProgrammableTransaction;
  if (!data || !ptb) return refuse('the transaction is not a programmable Sui transaction');

  const coinInputs = new Set<string>();
  const coinInput = (argument: Argument, what: string): void => {
    const input = argument.$kind === 'Input' ? ptb.inputs[argument.Input] : undefined;
    const object = input?.$kind === 'Object' ? input.Object.ImmOrOwnedObject : undefined;
    if (!object) refuse(`${what} must be one of the sender's own cUSD coins${argument.$kind === 'GasCoin' ? ', not the gas coin' : ''}`);
    coinInputs.add(normalizeSuiAddress(object.objectId));
  };
  const pureU64 = (argument: Argument): bigint => {
    const input = argument.$kind === 'Input' ? ptb.inputs[argument.Input] : undefined;
    if (input?.$kind !== 'Pure') return refuse('a split amount must be a plain u64');
    return BigInt(bcs.u64().parse(fromBase64(input.Pure.bytes)));
  };

  let transfer: Extract<Command, { $kind: 'TransferObjects' }>['TransferObjects'] | undefined;
  for (const command of ptb.commands) {
    if (command.$kind === 'SplitCoins') coinInput(command.SplitCoins.coin, 'the coin split');
    else if (command.$kind === 'MergeCoins') {
      coinInput(command.MergeCoins.destination, 'the coin merged into');
      for (const source of command.MergeCoins.sources) coinInput(source, 'a coin merged');
    } else if (command.$kind === 'TransferObjects') {
      if (transfer) refuse('the transaction transfers more than once: a send goes to one recipient');
      transfer = command.TransferObjects;
    } else refuse(`a cUSD send has no ${command.$kind} command: only splitting, merging and one transfer of cUSD`);
  }
  if (!transfer) return refuse('the transaction transfers nothing');

  // What is transferred: coins split off (their amounts are in the bytes), never a whole object the bytes do not size.
  let amount = 0n;
  for (const object of transfer.objects) {
    const index = object.$kind === 'NestedResult' ? object.NestedResult[0] : object.$kind === 'Result' ? object.Result : undefined;
    const which = object.$kind === 'NestedResult' ? object.NestedResult[1] : 0;
    const command = index === undefined ? undefined : ptb.commands[index];
    if (command?.$kind !== 'SplitCoins' || command.SplitCoins.amounts[which] === undefined) refuse('the transaction must transfer cUSD split off a coin (an amount in the bytes), not a whole object');
    amount += pureU64(command.SplitCoins.amounts[which]);
  }
  const recipientInput = transfer.address.$kind === 'Input' ? ptb.inputs[transfer.address.Input] : undefined;
  if (recipientInput?.$kind !== 'Pure') return refuse('the recipient must be a plain address');
  const to = normalizeSuiAddress(bcs.Address.parse(fromBase64(recipientInput.Pure.bytes)));

  if (coinInputs.size === 0) refuse('the transaction names no cUSD coin');
  return { sender: normalizeSuiAddress(data.sender), to, amount, transactionId: TransactionDataBuilder.getDigestFromBytes(bytes), coins: [...coinInputs] };
}

/** Every object is a cUSD coin as the chain holds it now (a missing one is refused too: the send would fail). */
export async function requireCusdCoins(client: SuiGrpcClient, ids: string[], cusdType: string): Promise<void> {
  const objectType = normalizeStructTag(`0x2::coin::Coin<${cusdType}>`);
  let response;
  try {
    ({ response } = await client.ledgerService.batchGetObjects({ requests: ids.map((objectId) => ({ objectId })), readMask: { paths: ['object_id', 'object_type'] } }));
  } catch (error) {
    throw new ChainUnavailableError(`cannot read the transaction's coins: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  response.objects.forEach((result, i) => {
    const r = result.result;
    if (r.oneofKind !== 'object') refuse(`coin ${ids[i]} does not exist on the chain (spent, or never was)`);
    else if (normalizeStructTag(r.object.objectType ?? '0x0::none::None') !== objectType) refuse(`object ${ids[i]} is a ${r.object.objectType}, not a cUSD coin`);
  });
}
