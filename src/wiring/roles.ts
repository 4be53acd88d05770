import type { FastifyInstance } from 'fastify';
import type { Task } from 'graphile-worker';
import type { Address } from 'viem';
import type { DeploymentChain, Stack } from './stack.js';
import type { EvmChain } from '../chain/evm/chain.js';
import type { AppContext, ChainReaders, EvmChainReader, SuiChainReader, TaskPorts } from '../engine/app.js';
import type { SuiChain } from '../chain/sui/chain.js';
import type { ChainKey } from '../core/chain.js';
import { startIndexer } from '../core/indexer/indexer.js';
import { PROJECTIONS_CHANNEL } from '../core/indexer/store.js';
import { createOutbox, type Outbox } from '../core/relayer/outbox.js';
import { startRelayer } from '../core/relayer/relayer.js';
import type { TransactionLifecycle } from '../core/relayer/lifecycle.js';
import type { IntentKind } from '../core/relayer/types.js';
import { intentRoutes } from '../core/relayer/routes.js';
import { registerWebhooks, webhookTask, WEBHOOK_TASK } from '../core/relayer/webhooks.js';
import { findDeployment } from '../chain/evm/deployments.js';
import { loadSigner, signerAddresses } from '../chain/evm/relayer/signer.js';
import { suiCodec } from '../chain/sui/relayer/codec.js';
import { suiSignerLifecycle } from '../chain/sui/relayer/lifecycle.js';
import { suiKeypair } from '../chain/sui/relayer/signer.js';
import { CoherentCache } from '../db/coherent-cache.js';
import { buildServer } from '../http/server.js';
import { engineReadiness } from './readiness.js';
import { startWorker } from '../jobs/worker.js';
import { version } from '../runtime/version.js';

export type Role = 'api' | 'indexer' | 'worker';

export interface RunningRole {
  role: Role;
  stop(): Promise<void>;
}

export async function startRole(stack: Stack, role: Role): Promise<RunningRole> {
  const { apps } = stack.project;
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
        routes: [(app) => intentRoutes(app, stack.database.pool), ...apps.flatMap((a) => (a.routes ? [(app: FastifyInstance) => a.routes!(app, context(app))] : []))],
      });
      const { host, port } = stack.config.http;
      await server.listen({ host, port });
      return { role, stop: () => server.close() };
    }
    case 'indexer': {
      // One indexer per chain, with the sources of every app on it and the projections of those apps.
      const indexers = await Promise.all(
        [...stack.chains.values()].map((chain) => {
          const onChain = apps.filter((app) => (app.sources ?? []).some((s) => s.chain === chain.key));
          const sources = onChain.flatMap((app) => app.sources ?? []).filter((s) => s.chain === chain.key);
          return startIndexer(chain, stack.database.pool, sources, onChain.flatMap((app) => app.projections ?? []), { pollIntervalMs: chain.config.pollIntervalMs }, stack.logger);
        }),
      );
      return { role, stop: async () => void (await Promise.all(indexers.map((i) => i.stop()))) };
    }
    case 'worker': {
      const { webhooks } = stack.config;
      // The configuration is the list of endpoints: a worker started without WEBHOOK_URLS stops deliveries.
      await registerWebhooks(stack.database.pool, webhooks);
      // One outbox for the apps' tasks and handlers alike (building it decrypts keystores: once is enough).
      const outbox = await deploymentOutbox(stack);
      const ports: TaskPorts = {
        pool: stack.database.pool,
        outbox,
        logger: stack.logger,
        ...chainReaders(evmChains(stack), suiChains(stack)),
        deployment: deploymentLookup(stack.config.deploymentsFile),
      };
      const worker = await startWorker(stack.database.url, stack.logger, {
        tasks: workerTasks({ [WEBHOOK_TASK]: webhookTask(stack.database.pool, webhooks) }, apps, ports),
        schedules: apps.flatMap((a) => (a.schedules ?? []).map((s) => ({ ...s, owner: `app ${a.name}` }))),
      });
      const relayers = await startConfiguredRelayers(stack, outbox);
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

/**
 * The worker's tasks: the engine's and every app's, by name. A name registered
 * twice is refused: one task would silently replace the other (an app's the
 * engine's webhook deliveries, or a later app's an earlier one's).
 */
function workerTasks(engine: Record<string, Task>, apps: Stack['project']['apps'], ports: TaskPorts): Record<string, Task> {
  const tasks = { ...engine };
  const owners = new Map(Object.keys(engine).map((name) => [name, 'the engine']));
  for (const app of apps) {
    const own = typeof app.tasks === 'function' ? app.tasks(ports) : (app.tasks ?? {});
    for (const [name, task] of Object.entries(own)) {
      const owner = owners.get(name);
      if (owner) throw new Error(`task ${name} is registered by both ${owner} and app ${app.name}`);
      owners.set(name, `app ${app.name}`);
      tasks[name] = task;
    }
  }
  return tasks;
}

/** One relayer per chain and configured signer, of either family; a warning for chains with intents but no signer. */
async function startConfiguredRelayers(stack: Stack, outbox: Outbox) {
  const kinds = stack.project.apps.flatMap((app) => app.intents ?? []);
  const { relayer } = stack.config;
  const started = [];
  for (const chain of stack.chains.values()) {
    if (chain.config.signers.length === 0) {
      if (kinds.some((k) => k.chain === chain.key)) stack.logger.warn({ chain: chain.key }, 'no relayer key configured for this chain: the worker sends nothing there; intents wait in the outbox');
      continue;
    }
    const options = {
      finalityDepth: Number(chain.finalityDepth),
      batchSize: relayer.batchSize,
      stuckBlocks: relayer.stuckBlocks,
      refusedSignedMs: relayer.refusedSignedMs,
      pollIntervalMs: relayer.pollIntervalMs,
      rebroadcastMs: 3_000,
      maintainMs: 5_000,
      outbox,
    };
    for (const lifecycle of await lifecycles(stack, chain, kinds)) started.push(await startRelayer(chain.key, stack.database.pool, lifecycle, kinds, options, stack.logger));
  }
  return started;
}

/** The transaction lifecycle of each configured signer of a chain, by its family. */
async function lifecycles(stack: Stack, chain: DeploymentChain, kinds: IntentKind[]): Promise<TransactionLifecycle[]> {
  const { pool } = stack.database;
  if (chain.family === 'sui') {
    return chain.config.signers.map((signer) => suiSignerLifecycle({ chain: chain.key, conn: chain.conn, pool, privateKey: signer.privateKey, gas: chain.config.gas, logger: stack.logger }));
  }
  const found = [];
  for (const source of chain.config.signers) found.push(chain.lifecycle(await loadSigner(source), kinds, pool, stack.logger));
  return found;
}

function evmChains(stack: Pick<Stack, 'chains'>): EvmChain[] {
  return [...stack.chains.values()].filter((c): c is EvmChain => c.family === 'evm');
}

function suiChains(stack: Pick<Stack, 'chains'>): SuiChain[] {
  return [...stack.chains.values()].filter((c): c is SuiChain => c.family === 'sui');
}

/** The apps' reading ports of these chains (their clients go through the metered transports). */
export function chainReaders(evm: EvmChain[], sui: SuiChain[] = []): ChainReaders {
  return {
    chains: new Map<ChainKey, EvmChainReader>(evm.map((c) => [c.key, { key: c.key, chainId: c.conn.chainId, client: c.conn.publicClient }])),
    suiChains: new Map<ChainKey, SuiChainReader>(sui.map((c) => [c.key, { key: c.key, client: c.conn.client }])),
  };
}

/** The outbox of this deployment: every chain's codec, and the signers it holds keys for. */
export async function deploymentOutbox(stack: Pick<Stack, 'chains' | 'project'>): Promise<Outbox> {
  const chains = [];
  for (const chain of stack.chains.values()) {
    if (chain.family === 'sui') {
      chains.push({ key: chain.key, codec: suiCodec, signers: chain.config.signers.map((s) => ({ address: suiKeypair(s.privateKey).toSuiAddress(), roles: s.roles })) });
      continue;
    }
    const signers = (await signerAddresses(chain.config.signers)).map((s) => ({ address: s.address.toLowerCase(), roles: s.roles }));
    chains.push({ key: chain.key, codec: chain.codec, signers });
  }
  return createOutbox({ chains, kinds: stack.project.apps.flatMap((app) => app.intents ?? []) });
}

/** What apps' routes get: per server, since caches close with it. */
async function appContext(stack: Stack): Promise<(server: FastifyInstance) => AppContext> {
  const outbox = await deploymentOutbox(stack);
  const { http } = stack.config;
  return appContextFor({
    pool: stack.database.pool,
    logger: stack.logger,
    chains: evmChains(stack),
    suiChains: suiChains(stack),
    deploymentsFile: stack.config.deploymentsFile,
    outbox,
    readCacheEntries: http.readCacheEntries,
    readCacheHeartbeatMs: http.readCacheHeartbeatMs,
    publicUrl: http.publicUrl,
    rateLimitPerKey: http.rateLimitPerKey,
  });
}

/** How long a contract missing from the deployments file is taken as still missing. */
const DEPLOYMENT_RECHECK_MS = 1_000;

/**
 * A contract's address from the deployments file. A chain read is impossible
 * before the contract is deployed: the file is read until it is there (at most
 * once a second, so that requests never queue on file reads), then kept.
 */
function deploymentLookup(deploymentsFile: string): (chain: ChainKey, contract: string) => Address | undefined {
  const known = new Map<string, Address>();
  const lastMiss = new Map<string, number>();
  return (chain, contract) => {
    const key = `${chain}/${contract}`;
    const found = known.get(key);
    if (found) return found;
    if (Date.now() - (lastMiss.get(key) ?? -Infinity) < DEPLOYMENT_RECHECK_MS) return undefined;
    const address = findDeployment(deploymentsFile, chain, contract)?.address;
    if (address) known.set(key, address);
    else lastMiss.set(key, Date.now());
    return address;
  };
}

/** The context apps' routes get, from its parts (the api role's, or a test's). */
export function appContextFor(options: {
  pool: Stack['database']['pool'];
  logger: Stack['logger'];
  chains: EvmChain[];
  suiChains?: SuiChain[];
  deploymentsFile: string;
  outbox: Outbox;
  readCacheEntries?: number;
  readCacheHeartbeatMs?: number;
  publicUrl?: string | undefined;
  rateLimitPerKey?: number;
}): (server: FastifyInstance) => AppContext {
  const readers = chainReaders(options.chains, options.suiChains);
  const deployment = deploymentLookup(options.deploymentsFile);
  return (server) => ({
    pool: options.pool,
    logger: options.logger,
    ...readers,
    outbox: options.outbox,
    deployment,
    async cache<V>(projections: string[]) {
      const cache = new CoherentCache<V>(options.pool, PROJECTIONS_CHANNEL, server.log, {
        maxEntries: options.readCacheEntries,
        heartbeatMs: options.readCacheHeartbeatMs,
        relevant: (payload) => projections.includes(payload.slice(0, payload.indexOf('@'))),
      });
      await cache.start();
      server.addHook('onClose', () => cache.close());
      return cache;
    },
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.rateLimitPerKey ? { rateLimitPerKey: options.rateLimitPerKey } : {}),
  });
}
