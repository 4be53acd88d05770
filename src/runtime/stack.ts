import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/index.js';
import { connectDatabase, type Database } from '../db/client.js';
import { embeddedPostgresUrl, startEmbeddedPostgres, type RunningPostgres } from '../db/embedded.js';
import { migrateDatabase } from '../db/migrate.js';
import { startAnvil, type Anvil } from '../chain/evm/anvil.js';
import { connectChain, type ChainConnection } from '../chain/evm/client.js';
import { deployContracts } from '../chain/evm/deploy.js';
import { findDeployment } from '../chain/evm/deployments.js';
import { apps } from '../apps/index.js';
import { claimHome, anvilPidFile, writePidFile, HomeInUseError } from './home-lock.js';
import type { Logger } from './logger.js';
import { redactUrl } from './redact.js';

/** The database and chain a process works against, and whatever it had to start for them. */
export interface Stack {
  config: Config;
  logger: Logger;
  database: Database;
  chain: ChainConnection;
  /** Stops what `openStack` started, in reverse order. */
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL and the chain, starting the embedded ones where no URL is
 * configured, applies migrations, and on the embedded chain deploys the apps'
 * contracts on first start.
 */
export async function openStack(config: Config, logger: Logger): Promise<Stack> {
  return open(config, logger, true) as Promise<Stack>;
}

/**
 * Only the database, with migrations applied: for one-shot commands (`migrate`,
 * `reindex`, `api-key`). An embedded PostgreSQL is started for the command, or,
 * when a running ledgersync already holds LEDGERSYNC_HOME, used as it is: the
 * command is then only one more client of it, and starts or stops nothing.
 */
export async function openDatabaseOnly(config: Config, logger: Logger): Promise<Omit<Stack, 'chain'>> {
  try {
    return await open(config, logger, false);
  } catch (error) {
    const running = error instanceof HomeInUseError && config.database.kind === 'embedded' ? embeddedPostgresUrl(config.database.dir, config.database.port) : undefined;
    if (!running) throw error;
    logger.info({ database: redactUrl(running) }, 'using the embedded PostgreSQL of the running ledgersync');
    const database = connectDatabase(running);
    try {
      await migrateDatabase(database);
    } catch (migrationError) {
      await database.close();
      throw migrationError;
    }
    return { config, logger, database, close: () => database.close() };
  }
}

async function open(config: Config, logger: Logger, withChain: boolean): Promise<Omit<Stack, 'chain'> & { chain?: ChainConnection }> {
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
    const embeddedChain = withChain && config.chain.kind === 'embedded';
    if (config.database.kind === 'embedded' || embeddedChain) {
      cleanups.push(await claimHome(config.home));
    }
    const [postgres, anvil] = await Promise.all([
      startPostgresIfEmbedded(config, logger),
      embeddedChain ? startEmbeddedAnvil(config, logger) : undefined,
    ]);
    if (postgres) cleanups.push(() => postgres.stop());
    if (anvil) cleanups.push(() => anvil.stop());

    const databaseUrl = config.database.kind === 'url' ? config.database.url : postgres!.url;
    const database = connectDatabase(databaseUrl);
    cleanups.push(() => database.close());
    await migrateDatabase(database);
    logger.info({ database: redactUrl(databaseUrl) }, 'database ready');
    if (!withChain) return { config, logger, database, close };

    const chain =
      config.chain.kind === 'rpc' ? await connectChain(config.chain.rpcUrl, config.chain.wsUrl) : await connectChain(anvil!.rpcUrl, anvil!.wsUrl);
    logger.info({ chainId: chain.chainId, rpc: redactUrl(chain.rpcUrl) }, 'chain ready');
    await ensureContracts(config, logger, chain);
    return { config, logger, database, chain, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startPostgresIfEmbedded(config: Config, logger: Logger): Promise<RunningPostgres | undefined> {
  if (config.database.kind !== 'embedded') return undefined;
  logger.info({ dir: config.database.dir, port: config.database.port }, 'starting embedded PostgreSQL');
  return startEmbeddedPostgres({ dir: config.database.dir, port: config.database.port });
}

async function startEmbeddedAnvil(config: Config, logger: Logger): Promise<Anvil> {
  if (config.chain.kind !== 'embedded') throw new Error('the chain is not embedded');
  logger.info({ port: config.chain.port, blockTime: config.chain.blockTime }, 'starting embedded anvil');
  mkdirSync(dirname(config.chain.statePath), { recursive: true });
  const anvil = await startAnvil({
    port: config.chain.port,
    blockTime: config.chain.blockTime,
    statePath: config.chain.statePath,
    // anvil writes its state on SIGTERM; the interval bounds what a hard kill loses.
    stateIntervalSeconds: 10,
    logFile: join(dirname(config.chain.statePath), 'anvil.log'),
  });
  const pidFile = anvilPidFile(config.home);
  writePidFile(pidFile, anvil.pid);
  return {
    ...anvil,
    stop: async () => {
      await anvil.stop();
      rmSync(pidFile, { force: true });
    },
  };
}

/** The embedded chain gets the apps' contracts deployed on first start; a real chain must have them recorded. */
async function ensureContracts(config: Config, logger: Logger, chain: ChainConnection): Promise<void> {
  const contracts = apps.flatMap((app) => app.contracts);
  if (config.chain.kind === 'embedded') {
    await deployContracts(chain, { privateKey: config.deployerPrivateKey!, deploymentsFile: config.deploymentsFile, contracts, logger });
    return;
  }
  const missing = contracts.filter((c) => !findDeployment(config.deploymentsFile, chain.chainId, c.name));
  if (missing.length > 0) {
    logger.warn(
      { chainId: chain.chainId, missing: missing.map((c) => c.name), deploymentsFile: config.deploymentsFile },
      'contracts not deployed on this chain: run `ledgersync deploy` or record existing addresses in the deployments file',
    );
  }
}
