import type { Stack, DeploymentChain } from './stack.js';
import type { ReadinessCheck } from '../http/readiness.js';

/** How /ready speaks of a family's blocks, and how far behind its indexer may be and still count as caught up. */
interface Wording {
  head: string;
  indexed: string;
  behind(n: number): string;
  caughtUp: number;
}

const WORDING: Record<DeploymentChain['family'], Wording> = {
  // A new block may be in flight.
  evm: { head: 'head', indexed: 'indexedBlock', behind: (n) => `${n} blocks behind the head`, caughtUp: 2 },
  // Sui makes a few checkpoints a second: ten is a couple of seconds behind.
  sui: { head: 'latestCheckpoint', indexed: 'indexedCheckpoint', behind: (n) => `${n} checkpoints behind the latest checkpoint`, caughtUp: 10 },
};

/** What /ready checks: the database answers, and for every chain, the node answers and its indexer has caught up. */
export function engineReadiness(stack: Pick<Stack, 'database' | 'chains'>): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [
    {
      name: 'database',
      check: async () => {
        await stack.database.pool.query('select 1');
        return { ok: true };
      },
    },
  ];
  for (const chain of stack.chains.values()) {
    const words = WORDING[chain.family];
    // The chain and indexer checks run at once and share one head request.
    let inflightHead: Promise<bigint> | undefined;
    const latestHead = () =>
      (inflightHead ??= chain.head().finally(() => {
        inflightHead = undefined;
      }));
    const single = stack.chains.size === 1;
    checks.push(
      {
        name: single ? 'chain' : `chain ${chain.key}`,
        check: async () => ({ ok: true, chain: chain.key, [words.head]: Number(await latestHead()) }),
      },
      {
        // Reads are served from PostgreSQL, so they are only right once the indexer has caught up.
        name: single ? 'indexer' : `indexer ${chain.key}`,
        check: async () => {
          const [head, { rows }] = await Promise.all([
            latestHead(),
            stack.database.pool.query<{ block_number: bigint; halted_reason: string | null }>('select block_number, halted_reason from indexer_checkpoints where chain = $1', [chain.key]),
          ]);
          const checkpoint = rows[0];
          if (!checkpoint) return { ok: false, detail: 'indexer has not started on this chain' };
          if (checkpoint.halted_reason) return { ok: false, detail: `halted: ${checkpoint.halted_reason}` };
          const behind = Number(head - checkpoint.block_number);
          const indexed = { [words.indexed]: Number(checkpoint.block_number) };
          return behind <= words.caughtUp ? { ok: true, ...indexed, behind } : { ok: false, detail: words.behind(behind), ...indexed };
        },
      },
    );
  }
  return checks;
}
