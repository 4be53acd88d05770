import type { ChainKey } from '../../../engine/index.js';
import { readChainBalances, type ChainBalances } from './chain.js';
import type { BalanceTaskPorts } from './ports.js';

/** Accounts per batch: one head read per chain and batch, then each balance at that head. */
export const BATCH = 100;
/** At most one progress line this often on long runs. */
const PROGRESS_MS = 10_000;

export interface RunOptions {
  batchSize?: number;
}

/** An account whose balance a run reads. */
export interface Target {
  accountId: string;
  chain: ChainKey;
  address: string;
}

/** Reads each chain's share of a batch at one height; a chain that fails is logged and its targets reported to `failed`. */
export async function eachChain(
  ports: BalanceTaskPorts,
  targets: Target[],
  done: (targets: Target[], read: ChainBalances) => Promise<void>,
  failed: (targets: Target[]) => void,
  options: { upTo?: boolean } = {},
): Promise<void> {
  const byChain = new Map<ChainKey, Target[]>();
  for (const target of targets) byChain.set(target.chain, [...(byChain.get(target.chain) ?? []), target]);
  for (const [chain, group] of byChain) {
    let read: ChainBalances;
    try {
      read = await readChainBalances(ports, chain, group.map((t) => t.address), options);
    } catch (error) {
      ports.logger.warn({ chain, accounts: group.length, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }, 'cannot read balances from the chain; they stay as cached until the next run');
      failed(group);
      continue;
    }
    await done(group, read);
  }
}

/** A progress line at most every PROGRESS_MS: silent on short runs. */
export function progressLog(ports: BalanceTaskPorts, task: string) {
  const started = Date.now();
  let last = started;
  return (counts: Record<string, number>) => {
    const now = Date.now();
    if (now - last < PROGRESS_MS) return;
    last = now;
    ports.logger.info({ task, ...counts, seconds: Math.round((now - started) / 1000) }, 'balances: still working');
  };
}
