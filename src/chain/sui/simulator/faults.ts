/**
 * Faults the simulator injects, per method: errors (UNAVAILABLE, INTERNAL), latency, answering
 * an error after doing the work (a reply lost on the way back), server streams dropped after N
 * messages or some time, and a lagging GetServiceInfo. Random decisions come from a seeded
 * PRNG so that a failing run can be replayed.
 */
import { Prng } from './util.js';

export interface MethodFaults {
  /** Share of calls answered UNAVAILABLE before any work. */
  unavailableRate?: number;
  /** Share of calls answered INTERNAL before any work. */
  internalRate?: number;
  /** Delay before a call is handled. */
  latencyMs?: number;
  /** Unary calls: share that do their work (an ExecuteTransaction executes) and then answer UNAVAILABLE. */
  failAfterRate?: number;
  /** Server streams: end after this many messages. */
  dropAfterMessages?: number;
  /** Server streams: end after this long. */
  dropAfterMs?: number;
  /** How a stream ends when dropped: an UNAVAILABLE status (default), or the connection cut mid-stream. */
  dropAs?: 'unavailable' | 'reset';
}

export interface FaultPlan {
  seed?: number;
  /** Faults for every method. */
  all?: MethodFaults;
  /** Faults by method name ('GetCheckpoint', 'SubscribeCheckpoints', …), field by field over `all`. */
  methods?: Record<string, MethodFaults>;
  /** GetServiceInfo reports a checkpoint height this far below the tip (a node behind the others). */
  lag?: number;
}

export type FaultKind = 'unavailable' | 'internal' | 'failAfter' | 'drop' | 'latency';

export class FaultInjector {
  #plan: FaultPlan = {};
  #prng = new Prng(1);
  readonly injected: Record<string, number> = {};

  constructor(plan: FaultPlan = {}) {
    this.set(plan);
  }

  /** Replaces the plan and re-seeds the PRNG. */
  set(plan: FaultPlan): void {
    this.#plan = plan;
    this.#prng = new Prng(plan.seed ?? 1);
  }

  get lag(): number {
    return this.#plan.lag ?? 0;
  }

  for(method: string): MethodFaults {
    return { ...this.#plan.all, ...this.#plan.methods?.[method] };
  }

  /** Whether to inject a fault of `rate`; counts the ones injected. */
  roll(kind: FaultKind, rate: number | undefined): boolean {
    if (!rate || this.#prng.next() >= rate) return false;
    this.count(kind);
    return true;
  }

  count(kind: FaultKind): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + 1;
  }
}
