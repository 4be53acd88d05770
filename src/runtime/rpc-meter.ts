import { Counter } from 'prom-client';
import { metrics } from './metrics.js';

const rpcCalls = new Counter({
  name: 'ledgersync_rpc_calls_total',
  help: 'Calls made to chain nodes (JSON-RPC methods, gRPC methods), by chain and method',
  labelNames: ['chain', 'method'] as const,
  registers: [metrics],
});
const rpcErrors = new Counter({
  name: 'ledgersync_rpc_errors_total',
  help: 'Calls to chain nodes that failed, by chain and method',
  labelNames: ['chain', 'method'] as const,
  registers: [metrics],
});

/**
 * Counts every call to a chain's node that passes through it, whatever the
 * family (JSON-RPC on EVM, gRPC on Sui). All of ledgersync's chain access goes
 * through one of these, which is how tests prove that a cached read made zero calls.
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
