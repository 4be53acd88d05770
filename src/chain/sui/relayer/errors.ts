import { GrpcTypes, RpcError } from '@mysten/sui/grpc';
import type { IntentError } from '../../../core/relayer/types.js';

const { ExecutionError_ExecutionErrorKind: Kind } = GrpcTypes;

/**
 * Why a transaction failed in execution (a dry run or on chain), from its effects'
 * status: a Move abort names its code, package, module and function; gas and
 * balance shortfalls say so plainly.
 */
export function executionError(error: GrpcTypes.ExecutionError | undefined, budget: bigint): IntentError {
  if (!error) return { name: 'ExecutionFailed', message: 'the transaction failed without a reason in its effects' };
  const details = error.errorDetails;
  if (error.kind === Kind.MOVE_ABORT && details.oneofKind === 'abort') {
    const { abortCode, location } = details.abort;
    const where = `${location?.package ?? '?'}::${location?.module ?? '?'}::${location?.functionName ?? '?'}`;
    return { name: 'MoveAbort', message: `${where} aborted with code ${abortCode ?? '?'} (module ${location?.module ?? '?'})`, args: [String(abortCode ?? ''), `${location?.package ?? ''}::${location?.module ?? ''}`, location?.functionName ?? ''] };
  }
  if (error.kind === Kind.INSUFFICIENT_GAS) return { name: 'InsufficientGas', message: `the gas budget of ${budget} MIST does not cover running the transaction (${error.description ?? 'InsufficientGas'})` };
  if (error.kind === Kind.INSUFFICIENT_COIN_BALANCE) return { name: 'InsufficientBalance', message: `the signer's coins do not cover the amount (${error.description ?? 'InsufficientCoinBalance'})` };
  const kind = Kind[error.kind ?? 0] ?? 'EXECUTION_ERROR';
  return { name: pascal(kind), message: error.description ?? kind };
}

/** What a refused RPC means for an intent about to be signed. */
export type Refusal = { permanent: true; error: IntentError } | { permanent: false; error: IntentError };

/**
 * An RPC error from a dry run: the node refusing the transaction itself (a package or
 * function that does not exist, a malformed call) is permanent; an object at a version
 * that just moved, a gas balance read a moment ago, or the node failing is not.
 */
export function classifyRefusal(error: unknown): Refusal {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (error instanceof RpcError && (error.code === 'INVALID_ARGUMENT' || error.code === 'UNIMPLEMENTED' || error.code === 'NOT_FOUND')) {
    if (/not available for consumption|could not find the referenced object|invalid object digest|balance of gas object|is owned by|equivocated/i.test(message)) {
      return { permanent: false, error: { name: 'ObjectMoved', message } };
    }
    return { permanent: true, error: { name: 'TransactionRefused', message } };
  }
  return { permanent: false, error: { name: 'RpcError', message } };
}

/** The node's answer to an object version that is spent (or that it has not seen yet). */
export function isSpentObject(message: string): boolean {
  return /not available for consumption|could not find the referenced object/i.test(message);
}

/** Sui's answer to a second, different transaction on an object version already locked this epoch. */
export function isEquivocation(message: string): boolean {
  return /equivocat/i.test(message);
}

function pascal(kind: string): string {
  return kind
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
