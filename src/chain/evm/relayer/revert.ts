import { BaseError, decodeErrorResult, type Abi, type Hex } from 'viem';
import { toJson } from '../indexer/decode.js';
import type { IntentError } from '../../../core/relayer/types.js';

/**
 * The revert inside an RPC error, decoded with the contract's ABI (custom errors,
 * `Error(string)` and `Panic(uint256)`), or undefined when the error is not a
 * revert (a timeout, a 5xx): those are worth retrying, a revert is not.
 */
export function decodeRevert(error: unknown, abi: Abi): IntentError | undefined {
  const data = revertData(error);
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (data === undefined) return /revert/i.test(message) ? { name: 'Reverted', message } : undefined;
  try {
    const decoded = decodeErrorResult({ abi, data });
    const args = (decoded.args ?? []).map((a) => toJson(a));
    return { name: decoded.errorName, message: `${decoded.errorName}(${args.map((a) => JSON.stringify(a)).join(', ')})`, args };
  } catch {
    return { name: 'Reverted', message: `reverted with data the ABI does not know: ${data}` };
  }
}

/** The revert data carried by a JSON-RPC error (`error.data`, possibly nested in viem's causes). */
function revertData(error: unknown): Hex | undefined {
  if (!(error instanceof BaseError)) return undefined;
  let found: Hex | undefined;
  error.walk((e) => {
    const data = (e as { data?: unknown }).data;
    const hex = typeof data === 'string' ? data : typeof data === 'object' && data !== null ? (data as { data?: unknown }).data : undefined;
    if (typeof hex === 'string' && /^0x[0-9a-fA-F]*$/.test(hex) && hex.length >= 10) found = hex as Hex;
    return false;
  });
  return found;
}
