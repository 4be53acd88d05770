import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChainKey } from '../core/chain.js';
import type { ChainConfig, Config, EvmChainConfig } from '../config/index.js';
import type { SuiChainConfig } from '../config/chains.js';
import { loadProject, type Project } from './project.js';
import { connectDatabase, type Database } from '../db/client.js';
import { embeddedPostgresUrl, startEmbeddedPostgres, type RunningPostgres } from '../db/embedded.js';
import { migrateDatabase } from '../db/migrate.js';
import { startAnvil, type Anvil } from '../chain/evm/anvil.js';
import { connectEvmChain, type EvmChain } from '../chain/evm/chain.js';
import { connectSuiChain, type SuiChain } from '../chain/sui/chain.js';
import { startSuiSimulator, SUI_TYPE } from '../chain/sui/simulator/index.js';
import { forgetChain } from '../core/indexer/forget.js';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { connectChain } from '../chain/evm/client.js';
import { deployContracts } from '../chain/evm/deploy.js';
import { signerAddresses } from '../chain/evm/relayer/signer.js';
import { findDeployment } from '../chain/evm/deployments.js';
import { claimHome, anvilPidFile, writePidFile, HomeInUseError } from '../runtime/home-lock.js';
import type { Logger } from '../runtime/logger.js';
import { redactUrl } from '../runtime/redact.js';

/** A chain of the deployment, of whichever family. */
export type DeploymentChain = EvmChain | SuiChain;

/** The database and chains a process works against, the apps on them, and whatever it had to start for them. */
export interface Stack {
  config: Config;
  logger: Logger;
  database: Database;
  project: Project;
  chains: Map<ChainKey, DeploymentChain>;
  /** Stops what `openStack` started, in reverse order. */
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL and every configured chain, starting the embedded ones
 * where no URL is configured (one anvil per local chain), applies the engine's
 * and the apps' migrations, and on embedded chains deploys the apps' contracts
 * on first start.
 */
export async function openStack(config: Config, logger: Logger, options: { checkContracts?: boolean } = {}): Promise<Stack> {
  return open(config, logger, true, options) as Promise<Stack>;
}

/**
 * Only the database, with migrations applied: for one-shot commands (`migrate`,
 * `reindex`, `api-key`). An embedded PostgreSQL is started for the command, or,
 * when a running ledgersync already holds LEDGERSYNC_HOME, used as it is: the
 * command is then only one more client of it, and starts or stops nothing.
 */
export async function openDatabaseOnly(config: Config, logger: Logger): Promise<Omit<Stack, 'chains'>> {
  try {
    return await open(config, logger, false);
  } catch (error) {
    const running = error instanceof HomeInUseError && config.database.kind === 'embedded' ? embeddedPostgresUrl(config.database.dir, config.database.port) : undefined;
    if (!running) throw error;
    logger.info({ database: redactUrl(running) }, 'using the embedded PostgreSQL of the running ledgersync');
    const project = await loadProject(config, keyNotNeeded);
    const database = connectDatabase(running, { max: config.database.poolSize });
    try {
      await migrateDatabase(database, project.apps);
    } catch (migrationError) {
      await database.close();
      throw migrationError;
    }
    return { config, logger, database, project, close: () => database.close() };
  }
}

async function open(config: Config, logger: Logger, withChains: boolean, options: { checkContracts?: boolean } = {}): Promise<Omit<Stack, 'chains'> & { chains?: Map<ChainKey, DeploymentChain> }> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.error({ err: error }, 'error during shutdown');
      }
    }
  };

  try {
    // The database alone needs the apps (their migrations), not which chain an RPC_URL serves.
    const project = await loadProject(config, withChains ? learnKey : keyNotNeeded);
    const embeddedChains = withChains ? project.chains.filter((c) => c.endpoint.kind === 'embedded') : [];
    if (config.database.kind === 'embedded' || embeddedChains.length > 0) {
      cleanups.push(await claimHome(config.home));
    }
    const [postgres, ...nodes] = await Promise.all([startPostgresIfEmbedded(config, logger), ...embeddedChains.map((chain, i) => startEmbeddedChain(config, chain, i, logger))]);
    if (postgres) cleanups.push(() => postgres.stop());
    for (const node of nodes) cleanups.push(() => node.stop());

    const databaseUrl = config.database.kind === 'url' ? config.database.url : postgres!.url;
    const database = connectDatabase(databaseUrl, { max: config.database.poolSize });
    cleanups.push(() => database.close());
    await migrateDatabase(database, project.apps);
    logger.info({ database: redactUrl(databaseUrl), apps: project.apps.map((a) => a.name) }, 'database ready');
    if (!withChains) return { config, logger, database, project, close };
    await forgetPreviousSimulatorNetworks(database, project, logger);

    const chains = new Map<ChainKey, DeploymentChain>();
    for (const chainConfig of project.chains) {
      const node = nodes[embeddedChains.indexOf(chainConfig)];
      if (chainConfig.family === 'sui') {
        const url = chainConfig.endpoint.kind === 'grpc' ? chainConfig.endpoint.url : node!.rpcUrl;
        chains.set(chainConfig.key, await connectSuiChain(chainConfig, url, logger));
        logger.info({ chain: chainConfig.key, url: redactUrl(url) }, 'chain ready');
        continue;
      }
      const endpoint = chainConfig.endpoint.kind === 'rpc' ? chainConfig.endpoint : { rpcUrl: node!.rpcUrl, wsUrl: node!.wsUrl };
      const chain = await connectEvmChain(chainConfig, endpoint, config.deploymentsFile);
      chains.set(chain.key, chain);
      logger.info({ chain: chain.key, rpc: redactUrl(endpoint.rpcUrl) }, 'chain ready');
    }
    // Each chain's contracts at once: a deployment waits for its blocks, and chains make blocks side by side.
    if (options.checkContracts ?? true) {
      const evm = [...chains.values()].filter((c): c is EvmChain => c.family === 'evm');
      await Promise.all(evm.map((chain) => ensureContracts(config, project, chain, logger)));
    }
    return { config, logger, database, project, chains, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A chain configured without a key (RPC_URL without CHAIN_ID): the node says which it serves. */
export async function learnKey(chain: ChainConfig): Promise<ChainKey> {
  if (chain.family === 'sui') return chain.key;
  if (chain.endpoint.kind !== 'rpc') return `evm:${chain.endpoint.chainId}`;
  return `evm:${(await connectChain(chain.endpoint.rpcUrl, undefined, { rpcTimeoutMs: chain.rpcTimeoutMs })).chainId}`;
}

/** For commands that only use the database: a key the configuration does not give is not looked up. */
async function keyNotNeeded(chain: ChainConfig): Promise<ChainKey> {
  return chain.key ?? 'evm:unknown';
}

async function startPostgresIfEmbedded(config: Config, logger: Logger): Promise<RunningPostgres | undefined> {
  if (config.database.kind !== 'embedded') return undefined;
  logger.info({ dir: config.database.dir, port: config.database.port }, 'starting embedded PostgreSQL');
  return startEmbeddedPostgres({ dir: config.database.dir, port: config.database.port });
}

/** The node of an embedded chain: an anvil for EVM, the simulator for Sui. */
async function startEmbeddedChain(config: Config, chain: ChainConfig & { key: ChainKey }, index: number, logger: Logger): Promise<{ rpcUrl: string; wsUrl?: string; stop(): Promise<void> }> {
  if (chain.family === 'sui') return startEmbeddedSui(chain, logger);
  return startEmbeddedAnvil(config, chain, index, logger);
}

async function startEmbeddedAnvil(config: Config, chain: EvmChainConfig & { key: ChainKey }, index: number, logger: Logger): Promise<Anvil> {
  if (chain.endpoint.kind !== 'embedded') throw new Error(`chain ${chain.key} is not embedded`);
  const { port, blockTime, chainId, hardfork, statePath } = chain.endpoint;
  logger.info({ chain: chain.key, port, blockTime, ...(hardfork ? { hardfork } : {}) }, 'starting embedded anvil');
  mkdirSync(dirname(statePath), { recursive: true });
  const anvil = await startAnvil({
    port,
    blockTime,
    chainId,
    ...(hardfork ? { hardfork } : {}),
    statePath,
    // anvil writes its state on SIGTERM; the interval bounds what a hard kill loses.
    stateIntervalSeconds: 10,
    logFile: join(dirname(statePath), 'anvil.log'),
  });
  const pidFile = anvilPidFile(config.home, index);
  writePidFile(pidFile, anvil.pid);
  return {
    ...anvil,
    stop: async () => {
      await anvil.stop();
      rmSync(pidFile, { force: true });
    },
  };
}

/** An embedded chain gets the apps' contracts deployed on first start; a real chain must have them recorded. */
async function ensureContracts(config: Config, project: Project, chain: EvmChain, logger: Logger): Promise<void> {
  const contracts = project.apps.flatMap((app) => app.contracts ?? []).filter((c) => c.chain === chain.key);
  if (chain.config.endpoint.kind === 'embedded') {
    await deployContracts(chain.conn, { privateKey: chain.config.deployerPrivateKey!, deploymentsFile: config.deploymentsFile, contracts, signers: await signerAddresses(chain.config.signers), logger });
    return;
  }
  const missing = contracts.filter((c) => !findDeployment(config.deploymentsFile, chain.key, c.name));
  if (missing.length > 0) {
    logger.warn(
      { chain: chain.key, missing: missing.map((c) => c.name), deploymentsFile: config.deploymentsFile },
      'contracts not deployed on this chain: run `ledgersync deploy` or record existing addresses in the deployments file',
    );
  }
}

/**
 * The Sui simulator on this chain's port, its signers funded (docs/sui-simulator.md).
 * Its ledger lives in memory: every start is a new network.
 */
async function startEmbeddedSui(chain: SuiChainConfig & { key: ChainKey }, logger: Logger): Promise<{ rpcUrl: string; stop(): Promise<void> }> {
  if (chain.endpoint.kind !== 'embedded') throw new Error(`chain ${chain.key} is not embedded`);
  const { port, checkpointIntervalMs } = chain.endpoint;
  logger.info({ chain: chain.key, port, checkpointIntervalMs }, 'starting the embedded Sui simulator (not a Sui node: see docs/sui-simulator.md)');
  const simulator = await startSuiSimulator({ port, chainName: chain.key.slice('sui:'.length), autoCheckpointMs: checkpointIntervalMs });
  for (const signer of chain.signers) simulator.ledger.fund(suiAddressOf(signer.privateKey), SUI_TYPE, SIMULATOR_FUNDING, 4);
  simulator.ledger.makeCheckpoint();
  return { rpcUrl: simulator.url, stop: () => simulator.close() };
}

/** What the simulator gives each signer at start: a million SUI, in MIST. */
const SIMULATOR_FUNDING = 10n ** 15n;

function suiAddressOf(privateKey: string): string {
  return Ed25519Keypair.fromSecretKey(privateKey).toSuiAddress();
}

/** An embedded Sui network is new at every start: what was indexed from the previous one is forgotten. */
async function forgetPreviousSimulatorNetworks(database: Database, project: Project, logger: Logger): Promise<void> {
  for (const chain of project.chains) {
    if (chain.family !== 'sui' || chain.endpoint.kind !== 'embedded') continue;
    const onChain = project.apps.filter((app) => (app.sources ?? []).some((s) => s.chain === chain.key));
    if (await forgetChain(database.pool, chain.key, onChain.flatMap((app) => app.projections ?? []))) {
      logger.warn({ chain: chain.key }, 'the embedded Sui simulator starts a new network each time: forgot what was indexed from the previous one');
    }
  }
}
