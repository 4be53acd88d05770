import type { FastifyInstance } from 'fastify';
import type { Stack } from './stack.js';
import type { AppContext } from '../apps/types.js';
import { buildServer } from '../http/server.js';
import type { ReadinessCheck } from '../http/readiness.js';
import { startIndexer } from '../indexer/indexer.js';
import { apps } from '../apps/index.js';
import { startWorker } from '../jobs/worker.js';
import { version } from './version.js';
import { startRelayer } from '../relayer/relayer.js';
import { loadSigner } from '../relayer/signer.js';
import { intentRoutes } from '../relayer/routes.js';
import { createOutbox } from '../relayer/outbox.js';
import { registerWebhooks, webhookTask, WEBHOOK_TASK } from '../relayer/webhooks.js';

export type Role = 'api' | 'indexer' | 'worker';

export interface RunningRole {
  role: Role;
  stop(): Promise<void>;
}

/** Within this many blocks of the head, the indexer counts as caught up (a new block may be in flight). */
const CAUGHT_UP_BLOCKS = 2;

/** What /ready checks: the database answers, the chain answers, the indexer has caught up. */
export function engineReadiness(stack: Pick<Stack, 'database' | 'chain'>): ReadinessCheck[] {
  // The chain and indexer checks run at once and share one eth_blockNumber.
  let inflightHead: Promise<bigint> | undefined;
  const latestHead = () =>
    (inflightHead ??= stack.chain.publicClient.getBlockNumber({ cacheTime: 0 }).finally(() => {
      inflightHead = undefined;
    }));
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
        const head = await latestHead();
        return { ok: true, chainId: stack.chain.chainId, head: Number(head) };
      },
    },
    {
      // Reads are served from PostgreSQL, so they are only right once the indexer has caught up.
      name: 'indexer',
      check: async () => {
        const [head, { rows }] = await Promise.all([
          latestHead(),
          stack.database.pool.query<{ block_number: bigint; halted_reason: string | null }>(
            'select block_number, halted_reason from indexer_checkpoints where chain_id = $1',
            [stack.chain.chainId],
          ),
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
  ];
}

export async function startRole(stack: Stack, role: Role): Promise<RunningRole> {
  switch (role) {
    case 'api': {
      const context = await appContext(stack);
      const server = await buildServer({
        logger: stack.logger,
        readiness: engineReadiness(stack),
        version,
        rateLimitPerIp: stack.config.http.rateLimitPerIp,
        corsOrigins: stack.config.http.corsOrigins,
        trustProxyHops: stack.config.http.trustProxyHops,
        routes: [
          (app) => intentRoutes(app, stack.database.pool),
          ...apps.flatMap((a) => (a.routes ? [(app: FastifyInstance) => a.routes!(app, context)] : [])),
        ],
      });
      const { host, port } = stack.config.http;
      await server.listen({ host, port });
      return { role, stop: () => server.close() };
    }
    case 'indexer': {
      const indexer = await startIndexer(stack.chain, stack.database.pool, apps, { ...stack.config.indexer, finalityDepth: stack.config.finalityDepth, deploymentsFile: stack.config.deploymentsFile }, stack.logger);
      return { role, stop: () => indexer.stop() };
    }
    case 'worker': {
      const { webhooks } = stack.config;
      // The configuration is the list of endpoints: a worker started without WEBHOOK_URLS stops deliveries.
      await registerWebhooks(stack.database.pool, webhooks);
      const worker = await startWorker(stack.database.url, stack.logger, { [WEBHOOK_TASK]: webhookTask(stack.database.pool, webhooks) });
      const relayers = await startConfiguredRelayers(stack);
      return {
        role,
        stop: async () => {
          await Promise.all(relayers.map((r) => r.stop()));
          await worker.stop();
        },
      };
    }
  }
}

/** One relayer per configured signer, or none (with a warning) when no key is configured. */
async function startConfiguredRelayers(stack: Stack) {
  const { relayer } = stack.config;
  if (relayer.signers.length === 0) {
    stack.logger.warn('neither RELAYER_PRIVATE_KEY nor RELAYER_KEYSTORE_FILE is set: the worker sends no transactions; intents wait in the outbox');
  }
  const kinds = apps.flatMap((app) => app.intents);
  const options = {
    finalityDepth: stack.config.finalityDepth,
    fees: relayer.fees,
    batchSize: relayer.batchSize,
    stuckBlocks: relayer.stuckBlocks,
    pollIntervalMs: relayer.pollIntervalMs,
    rebroadcastMs: 3_000,
    gapCheckMs: 5_000,
  };
  const started = [];
  for (const source of relayer.signers) started.push(await startRelayer(stack.chain, stack.database.pool, await loadSigner(source), kinds, options, stack.logger));
  return started;
}

/** What apps' routes get; writes only when relayer signers are configured (an outbox per signer: it records who signs). */
async function appContext(stack: Stack): Promise<AppContext> {
  const base = {
    pool: stack.database.pool,
    chain: stack.chain,
    deploymentsFile: stack.config.deploymentsFile,
    rateLimitPerKey: stack.config.http.rateLimitPerKey,
    readCacheEntries: stack.config.http.readCacheEntries,
    readCacheHeartbeatMs: stack.config.http.readCacheHeartbeatMs,
    publicUrl: stack.config.http.publicUrl,
  };
  const { relayer } = stack.config;
  const outboxes = [];
  for (const source of relayer.signers) {
    const signer = (await loadSigner(source)).address;
    outboxes.push(
      createOutbox({ chainId: stack.chain.chainId, signer, deploymentsFile: stack.config.deploymentsFile, kinds: apps.flatMap((app) => app.intents) }),
    );
  }
  return { ...base, outboxes };
}
