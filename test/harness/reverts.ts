import { expect } from 'vitest';
import { BaseError, ContractFunctionRevertedError, type Hex } from 'viem';

/**
 * Asserts that `promise` rejects with a contract revert decoded as `errorName` (and, if given,
 * exactly these `args`). Walks viem's error chain to the ContractFunctionRevertedError; returns
 * the error caught.
 */
export async function expectRevert(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<BaseError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a revert with ${errorName}`).toBeInstanceOf(BaseError);
  const reverted = (caught as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
  expect(reverted, `no ContractFunctionRevertedError in: ${String(caught)}`).toBeInstanceOf(ContractFunctionRevertedError);
  const data = (reverted as ContractFunctionRevertedError).data;
  expect(data?.errorName).toBe(errorName);
  if (args !== undefined) expect(data?.args ?? []).toEqual(args);
  return caught as BaseError;
}

/** The raw revert data somewhere in viem's error chain (for calls made without an ABI, or a constructor). */
export function revertData(err: unknown): Hex {
  expect(err).toBeInstanceOf(BaseError);
  const withData = (err as BaseError).walk(
    (e) => typeof (e as { data?: unknown }).data === 'string' && (e as { data: string }).data.startsWith('0x'),
  ) as (Error & { data: Hex }) | null;
  expect(withData, `no revert data in: ${String(err)}`).not.toBeNull();
  return withData!.data;
}
