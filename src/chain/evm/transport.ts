import type { Transport } from 'viem';
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
