import { ChainMismatchError, DeepReorgError } from './reorg.js';

/** A projection's `apply` threw: the batch is rolled back, and the projection and blocks are named. */
export class ProjectionFailedError extends Error {
  override name = 'ProjectionFailedError';
  constructor(
    readonly projection: string,
    readonly fromBlock: bigint,
    readonly toBlock: bigint,
    override readonly cause: unknown,
  ) {
    const span = fromBlock === toBlock ? `block ${fromBlock}` : `blocks ${fromBlock}–${toBlock}`;
    super(`projection ${projection} failed on ${span}: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`);
  }
}

/**
 * SQLSTATE classes of failures that can pass by themselves: a lost connection,
 * a deadlock or serialization failure, resources, an administrator's cancel or
 * shutdown, a lock not available. Anything else (a duplicate key, a value out of
 * range, a missing table, a projection's own bug) fails again at every retry.
 */
const TRANSIENT_SQLSTATE = /^(08|40|53|57|58|XX|55P03)/;

/**
 * Why indexing this chain must stop, or undefined when retrying may cure the
 * failure. Looping on an error that retrying cannot cure leaves the chain stuck
 * at one block with its reason buried in the logs; halting records the reason
 * (indexer_checkpoints.halted_reason, /ready, `ledgersync status`) and waits for
 * an operator.
 */
export function haltReason(error: unknown): string | undefined {
  if (error instanceof DeepReorgError || error instanceof ChainMismatchError) return error.message;
  if (error instanceof ProjectionFailedError) return isTransient(error.cause) ? undefined : error.message;
  const code = sqlState(error);
  if (code && !TRANSIENT_SQLSTATE.test(code)) return `PostgreSQL refused the indexer's write (SQLSTATE ${code}): ${(error as Error).message.split('\n')[0]}`;
  return undefined;
}

function isTransient(error: unknown): boolean {
  const code = sqlState(error);
  // A JavaScript error in a projection (a TypeError, a failed assertion) is a bug: it fails again every time.
  return code !== undefined && TRANSIENT_SQLSTATE.test(code);
}

/** The SQLSTATE of an error PostgreSQL sent (pg's DatabaseError), if it is one. */
function sqlState(error: unknown): string | undefined {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string' ? code : undefined;
}
