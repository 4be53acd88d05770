import type { Stack } from './stack.js';
import { buildServer } from '../http/server.js';
import type { ReadinessCheck } from '../http/readiness.js';
import { startIndexer } from '../indexer/head-follower.js';
import { startWorker } from '../jobs/worker.js';
import { version } from './version.js';

export type Role = 'api' | 'indexer' | 'worker';

export interface RunningRole {
  role: Role;
  stop(): Promise<void>;
}

/** What /ready checks: the database answers and the chain answers. */
export function engineReadiness(stack: Pick<Stack, 'database' | 'chain'>): ReadinessCheck[] {
  return [
    {
      name: 'database',
      check: async () => {
        await stack.database.pool.query('select 1');
        return { ok: true };
      },
    },
    {
      name: 'chain',
      check: async () => {
        const head = await stack.chain.publicClient.getBlockNumber({ cacheTime: 0 });
        return { ok: true, chainId: stack.chain.chainId, head: Number(head) };
      },
    },
  ];
}

export async function startRole(stack: Stack, role: Role): Promise<RunningRole> {
  switch (role) {
    case 'api': {
      const server = await buildServer({ logger: stack.logger, readiness: engineReadiness(stack), version });
      const { host, port } = stack.config.http;
      await server.listen({ host, port });
      return { role, stop: () => server.close() };
    }
    case 'indexer':
      return { role, ...(await startIndexer(stack)) };
    case 'worker':
      return { role, ...(await startWorker(stack, {})) };
  }
}
