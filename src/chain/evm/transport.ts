import { TimeoutError, type Transport } from 'viem';
import type { RpcMeter } from '../../runtime/rpc-meter.js';

/** Wraps a viem transport so that each request is counted by `meter`. */
export function metered<T extends Transport>(transport: T, meter: RpcMeter): T {
  return ((params: Parameters<T>[0]) => {
    const inner = transport(params);
    return {
      ...inner,
      async request(args, options) {
        meter.record(args.method, false);
        try {
          return await inner.request(args, options);
        } catch (error) {
          meter.record(args.method, true);
          throw error;
        }
      },
    } as typeof inner;
  }) as T;
}

/** A JSON-RPC call the node did not answer in time. */
export class RpcTimeoutError extends Error {
  override name = 'RpcTimeoutError';
}

/**
 * Wraps a viem transport so that a call that timed out fails with an RpcTimeoutError naming
 * the call and the limit. viem's own TimeoutError quotes the endpoint's URL, API key and all,
 * and the request body; this one says neither.
 */
export function namingTimeouts<T extends Transport>(transport: T, timeoutMs: number, attempts: number): T {
  // A call may ask for fewer retries than the transport's, hence "up to".
  return ((params: Parameters<T>[0]) => {
    const inner = transport(params);
    return {
      ...inner,
      async request(args, options) {
        try {
          return await inner.request(args, options);
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
          throw new RpcTimeoutError(`${args.method}: the node did not answer within ${timeoutMs} ms (the chain's rpcTimeoutMs), tried up to ${attempts} times`);
        }
      },
    } as typeof inner;
  }) as T;
}
