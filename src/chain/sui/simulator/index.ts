/**
 * A Sui test network on loopback (for tests, and `npm start` without a Sui node): the grpc-web services the SDK's SuiGrpcClient calls, over a
 * deterministic in-memory ledger (see docs/sui-simulator.md for what it models and what it does not).
 *
 *   const sim = await startSuiSimulator({ seed: 7 });
 *   const client = new SuiGrpcClient({ network: 'localnet', baseUrl: sim.url });
 *   sim.ledger.fund(address, SUI_TYPE, 10n ** 10n); sim.ledger.makeCheckpoint();
 *   sim.ledger.emitCheckpoints(1000, { packages: [sim.ledger.packageId], addresses: [address] });
 *   sim.ledger.truth({ packages, addresses, from, to });
 *   sim.setFaults({ methods: { SubscribeCheckpoints: { dropAfterMessages: 3 } } });
 */
import { executionService } from './execution-service.js';
import { FaultInjector, type FaultPlan } from './faults.js';
import { startGrpcWebServer } from './grpc-web.js';
import { ledgerService } from './ledger-service.js';
import { SuiLedger, type LedgerOptions } from './ledger.js';
import type { QueryLimits } from './query.js';
import { stateService } from './state-service.js';
import { subscriptionService } from './subscription-service.js';
import type { TrafficPlan } from './traffic.js';

export { SuiLedger, type LedgerOptions, type Truth, type TruthQuery } from './ledger.js';
export type { FaultPlan, MethodFaults } from './faults.js';
export type { TrafficPlan } from './traffic.js';
export type { Coin } from './objects.js';
export { PaymentSent, Swap, CoinLayout, E_ZERO_AMOUNT, PAYMENTS_MODULE, paymentSentType, swapType } from './move.js';
export { SUI_TYPE } from './util.js';
export { ConfioPackages, CusdEvents, PayEvents, P2PTradeEvents, PAY_FEE_BASIS_POINTS, TRADE_WINDOW_MS, type ConfioPackageIds, type ConfioToken } from './confio.js';

export interface SuiSimulatorOptions extends LedgerOptions {
  faults?: FaultPlan;
  /** Make a checkpoint every this many milliseconds (with pending transactions, else `autoTraffic` or empty). */
  autoCheckpointMs?: number;
  autoTraffic?: Partial<TrafficPlan>;
  /** How far behind the tip a subscriber may fall before it is cut off (default 1000 checkpoints). */
  subscriptionBuffer?: number;
  /** List* limits (defaults: 50 items, at most 1000, 10,000 checkpoints scanned a call). */
  queryLimits?: Partial<QueryLimits>;
  /** The loopback port to listen on (default: any free one). */
  port?: number;
}

export interface SimulatorStats {
  /** Calls received, by method name ('GetCheckpoint', …), faulted or not. */
  calls: Record<string, number>;
  /** Faults injected, by kind. */
  injected: Record<string, number>;
}

export interface SuiSimulator {
  /** The base URL for `new SuiGrpcClient({ network: 'localnet', baseUrl: url })`. */
  url: string;
  ledger: SuiLedger;
  /** Replaces the fault plan (and re-seeds its PRNG). */
  setFaults(plan: FaultPlan): void;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

export async function startSuiSimulator(options: SuiSimulatorOptions = {}): Promise<SuiSimulator> {
  const ledger = new SuiLedger(options);
  const faults = new FaultInjector(options.faults);
  const limits: QueryLimits = { defaultItems: 50, maxItems: 1000, maxScan: 10_000, ...options.queryLimits };
  const server = await startGrpcWebServer(
    [...ledgerService(ledger, faults, limits), ...stateService(ledger), ...executionService(ledger), ...subscriptionService(ledger, options.subscriptionBuffer ?? 1000)],
    faults,
    options.port,
  );
  if (options.autoCheckpointMs) ledger.startAutoCheckpoints(options.autoCheckpointMs, options.autoTraffic);
  return {
    url: server.url,
    ledger,
    setFaults: (plan) => faults.set(plan),
    stats: () => ({ calls: { ...server.calls }, injected: { ...faults.injected } }),
    close: async () => {
      ledger.stopAutoCheckpoints();
      await server.close();
    },
  };
}
