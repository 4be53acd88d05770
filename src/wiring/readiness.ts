import type { Stack } from './stack.js';
import type { ReadinessCheck } from '../http/readiness.js';

/** Within this many blocks of the head, the indexer counts as caught up (a new block may be in flight). */
const CAUGHT_UP_BLOCKS = 2;

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
        check: async () => ({ ok: true, chain: chain.key, head: Number(await latestHead()) }),
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
          return behind <= CAUGHT_UP_BLOCKS
            ? { ok: true, indexedBlock: Number(checkpoint.block_number), behind }
            : { ok: false, detail: `${behind} blocks behind the head`, indexedBlock: Number(checkpoint.block_number) };
        },
      },
    );
  }
  return checks;
}
