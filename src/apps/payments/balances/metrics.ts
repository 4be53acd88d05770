import { Counter } from 'prom-client';
import { metrics } from '../../../engine/index.js';

/** Differences reconciliation found between a fresh cached balance and the chain (each repaired). */
export const balanceDrifts = new Counter({
  name: 'ledgersync_payments_balance_drift_total',
  help: 'Cached balances the reconciliation found different from the chain while the cache held them fresh, by chain and token',
  labelNames: ['chain', 'token'] as const,
  registers: [metrics],
});
