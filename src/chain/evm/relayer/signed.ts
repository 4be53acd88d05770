import {
  decodeFunctionData,
  keccak256,
  parseTransaction,
  recoverTransactionAddress,
  toFunctionSelector,
  type Abi,
  type AbiFunction,
  type Hex,
  type TransactionSerialized,
} from 'viem';
import type { JsonValue } from '../../../core/chain.js';
import { IntentRejectedError, type AcceptedSigned, type SignedSubmission } from '../../../core/relayer/outbox.js';
import type { IntentKind } from '../../../core/relayer/types.js';
import { toJson } from '../indexer/decode.js';
import type { EvmIntentSpec } from './context.js';
import { feesToJson, type Fees } from './fees.js';

/** The transaction types a wallet signs a call with; blob and delegation (EIP-7702) transactions are refused. */
const CALL_TYPES = new Set(['legacy', 'eip2930', 'eip1559']);

/**
 * A transaction the user signed on their device, as the outbox takes it: a
 * serialized signed transaction of this chain (EIP-155: its chain id is signed
 * in), calling the kind's contract (`target`) with a function of the kind's
 * ABI. The sender is recovered from the signature; its hash, nonce, gas limit
 * and fees are recorded, and the calldata is decoded so the app reads the call
 * as it reads its own (functionName, args). Anything else is an IntentRejectedError.
 */
export async function acceptSignedEvm(chainId: number, kind: IntentKind, signed: SignedSubmission, target: string): Promise<AcceptedSigned> {
  const serialized = signed.transaction as string | undefined;
  if (typeof serialized !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(serialized)) throw new IntentRejectedError('signed.transaction must be a serialized signed transaction (0x-hex)');
  if (signed.signatures !== undefined) throw new IntentRejectedError('an EVM signed transaction carries its signature: give signed.transaction only');
  let parsed;
  try {
    parsed = parseTransaction(serialized as TransactionSerialized);
  } catch (error) {
    throw new IntentRejectedError(`signed.transaction is not a transaction: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!CALL_TYPES.has(parsed.type ?? 'unknown')) throw new IntentRejectedError(`a signed ${parsed.type} transaction is not taken: sign a legacy, EIP-2930 or EIP-1559 transaction`);
  if (parsed.r === undefined || parsed.s === undefined) throw new IntentRejectedError('signed.transaction is not signed');
  if (parsed.chainId === undefined) throw new IntentRejectedError(`the transaction is not signed for a chain (no EIP-155 chain id): sign it for chain ${chainId}`);
  if (parsed.chainId !== chainId) throw new IntentRejectedError(`the transaction is signed for chain ${parsed.chainId}, not ${chainId} (${kind.chain})`);
  if (parsed.nonce === undefined || parsed.gas === undefined) throw new IntentRejectedError('the transaction has no nonce or gas limit');
  let sender: string;
  try {
    sender = (await recoverTransactionAddress({ serializedTransaction: serialized as TransactionSerialized })).toLowerCase();
  } catch (error) {
    throw new IntentRejectedError(`the transaction's signature does not recover a sender: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!parsed.to || parsed.to.toLowerCase() !== target) throw new IntentRejectedError(`the transaction calls ${parsed.to ?? 'nothing (a deployment)'}, not ${kind.name}'s contract ${target}`);
  const data: Hex = parsed.data ?? '0x';
  const { abi } = kind.spec as EvmIntentSpec;
  let call;
  try {
    call = decodeFunctionData({ abi, data });
  } catch {
    throw new IntentRejectedError(`the transaction's call (selector ${data.slice(0, 10)}) is not a function of ${kind.name}'s ABI`);
  }
  const fees: Fees =
    parsed.type === 'eip1559'
      ? { type: 'eip1559', maxFeePerGas: parsed.maxFeePerGas ?? 0n, maxPriorityFeePerGas: parsed.maxPriorityFeePerGas ?? 0n }
      : { type: 'legacy', gasPrice: parsed.gasPrice ?? 0n };
  return {
    sender,
    transactionId: keccak256(serialized as Hex),
    sequence: BigInt(parsed.nonce),
    raw: Buffer.from(serialized.slice(2), 'hex'),
    payload: data,
    functionName: call.functionName,
    args: argsJson(abi, call.functionName, call.args ?? [], data),
    value: parsed.value ?? 0n,
    feeLimit: parsed.gas,
    fees: feesToJson(fees),
  };
}

/** Decoded arguments in JSON form as the indexer writes them (addresses and bytes lower case, integers as decimal strings). */
function argsJson(abi: Abi, functionName: string, args: readonly unknown[], data: Hex): JsonValue {
  const selected = abi.find((i): i is AbiFunction => i.type === 'function' && i.name === functionName && toFunctionSelector(i) === data.slice(0, 10));
  return args.map((value, i) => toJson(value, selected?.inputs[i]));
}
