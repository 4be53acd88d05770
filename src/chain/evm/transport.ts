import { Counter } from 'prom-client';
import type { Transport } from 'viem';
import { metrics } from '../../runtime/metrics.js';

const rpcCalls = new Counter({
  name: 'ledgersync_rpc_calls_total',
  help: 'JSON-RPC calls made, by chain and method',
  labelNames: ['chain', 'method'] as const,
  registers: [metrics],
});
const rpcErrors = new Counter({
  name: 'ledgersync_rpc_errors_total',
  help: 'JSON-RPC calls that failed after retries, by chain and method',
  labelNames: ['chain', 'method'] as const,
  registers: [metrics],
});

/**
 * Counts every JSON-RPC call that passes through it. All of ledgersync's chain
 * access goes through one of these, which is how tests prove that a cached read
 * made zero calls.
 */
export class RpcMeter {
  private readonly calls = new Map<string, number>();
  private readonly errors = new Map<string, number>();

  /** The chain label on the Prometheus counters (the chain id once known). */
  constructor(public label: string) {}

  record(method: string, failed: boolean): void {
    const counts = failed ? this.errors : this.calls;
    counts.set(method, (counts.get(method) ?? 0) + 1);
    (failed ? rpcErrors : rpcCalls).inc({ chain: this.label, method });
  }

  /** Calls made so far, by method. */
  callsByMethod(): Record<string, number> {
    return Object.fromEntries(this.calls);
  }

  totalCalls(): number {
    let total = 0;
    for (const n of this.calls.values()) total += n;
    return total;
  }

  errorsByMethod(): Record<string, number> {
    return Object.fromEntries(this.errors);
  }
}

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
