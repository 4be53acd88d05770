#!/usr/bin/env node
import { Command, Option } from 'commander';
import { loadConfig, type Config } from '../config/index.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { createScrubber } from '../runtime/redact.js';
import { configSecrets } from '../config/secrets.js';
import { boundHeapGrowth } from '../runtime/heap.js';
import { openStack, openDatabaseOnly, learnKey } from '../wiring/stack.js';
import { startRole, type Role, type RunningRole } from '../wiring/roles.js';
import { version } from '../runtime/version.js';
import { deployContracts } from '../chain/evm/deploy.js';
import { signerAddresses } from '../chain/evm/relayer/signer.js';
import { loadProject, type Project } from '../wiring/project.js';
import { collectStatus } from './status.js';
import { commandChains } from '../wiring/readers.js';
import { reindex } from './reindex.js';

/**
 * The project's apps, for their commands and the help text: loaded without
 * asking any node (a chain key not configured reads as unknown here), and
 * without failing the command line when the configuration is bad (the command
 * that needs it reports that).
 */
const declared: Project | undefined = await (async () => {
  try {
    return await loadProject(loadConfig(), async () => 'evm:unknown');
  } catch {
    return undefined;
  }
})();
/** What logs and messages are scrubbed of: the environment's secrets and those of the config file's chains. */
const secretsOf = (config: Config) => configSecrets(config, declared?.chains ?? []);
const projections = declared?.apps.flatMap((app) => app.projections ?? []) ?? [];

const program = new Command()
  .name('ledgersync')
  .description('Keeps PostgreSQL and smart contracts in sync: an indexer for reads, a transactional outbox for writes.')
  .version(version)
  .showHelpAfterError();

program
  .command('start')
  .description('run every role (api, indexer, worker) in one process, starting embedded PostgreSQL and anvil where no URL is set')
  .action(() => run(['api', 'indexer', 'worker']));
program.command('api').description('serve the HTTP API').action(() => run(['api']));
program.command('indexer').description('follow the chain into PostgreSQL (one active per chain; others wait as standby)').action(() => run(['indexer']));
program.command('worker').description("run the relayer (sends the outbox's intents to the chain) and background jobs (webhook deliveries)").action(() => run(['worker']));

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(() =>
    oneShot(async (config, logger) => {
      const stack = await openDatabaseOnly(config, logger);
      await stack.close();
      console.log('migrations applied');
    }),
  );

program
  .command('deploy')
  .description("deploy the apps' contracts on their chains and record their addresses in the deployments file")
  .addOption(new Option('--force', 'deploy again even where a live deployment is recorded'))
  .action((options: { force?: boolean }) =>
    oneShot(async (config, logger) => {
      const stack = await openStack(config, logger, { checkContracts: false });
      try {
        for (const chain of stack.chains.values()) {
          // Contracts are an EVM notion; Move packages are published with Sui's own tools.
          if (chain.family !== 'evm') continue;
          const contracts = stack.project.apps.flatMap((app) => app.contracts ?? []).filter((c) => c.chain === chain.key);
          if (contracts.length === 0) continue;
          if (!chain.config.deployerPrivateKey) throw new Error(`DEPLOYER_PRIVATE_KEY is required to deploy to ${chain.key} (an embedded chain uses its dev account)`);
          const outcomes = await deployContracts(chain.conn, { privateKey: chain.config.deployerPrivateKey, deploymentsFile: config.deploymentsFile, contracts, force: options.force ?? false, signers: await signerAddresses(chain.config.signers), logger });
          for (const o of outcomes) console.log(`${o.name} ${o.action} at ${o.deployment.address} (chain ${chain.key}, block ${o.deployment.blockNumber})`);
        }
        console.log(`recorded in ${config.deploymentsFile}`);
      } finally {
        await stack.close();
      }
    }),
  );

program
  .command('reindex')
  .description('rebuild a projection from the stored raw events, with no RPC call')
  .argument('<projection>', `one of: ${projections.map((p) => p.name).join(', ')}`)
  .option('--chain <key>', 'the chain to rebuild, e.g. evm:137 (default: the only chain indexed)')
  .action((name: string, options: { chain?: string }) =>
    oneShot(async (config, logger) => {
      const projection = projections.find((p) => p.name === name);
      if (!projection) throw new Error(`no projection named ${name}; known: ${projections.map((p) => p.name).join(', ')}`);
      const stack = await openDatabaseOnly(config, logger);
      try {
        const result = await reindex(stack.database.pool, projection, options.chain, stack.logger);
        console.log(`${name}: replayed ${result.events} events of chain ${result.chain} in ${result.seconds.toFixed(1)} s`);
      } finally {
        await stack.close();
      }
    }),
  );

program
  .command('status')
  .description('report on the database, chain, indexer and contracts without starting anything')
  .option('--json', 'print JSON')
  .action((options: { json?: boolean }) =>
    oneShot(async (config) => {
      const lines = await collectStatus(config);
      // Error texts in the report come from libraries, which may quote an RPC URL whole.
      const scrub = createScrubber(secretsOf(config));
      if (options.json) console.log(scrub(JSON.stringify(lines, null, 2)));
      else for (const line of lines) console.log(scrub(`${line.ok ? 'ok  ' : 'FAIL'}  ${line.name.padEnd(9)} ${line.text}`));
      if (lines.some((l) => !l.ok)) process.exitCode = 1;
    }),
  );

for (const app of declared?.apps ?? []) {
  app.commands?.(program, {
    withDatabase: (work) =>
      oneShot(async (config, logger) => {
        const stack = await openDatabaseOnly(config, logger);
        try {
          await work(stack.database.pool);
        } finally {
          await stack.close();
        }
      }),
    withChains: (work) =>
      oneShot(async (config, logger) => {
        const stack = await openDatabaseOnly(config, logger);
        try {
          const chains = await commandChains(config, await loadProject(config, learnKey), logger);
          try {
            await work({ pool: stack.database.pool, logger, ...chains });
          } finally {
            await chains.close();
          }
        } finally {
          await stack.close();
        }
      }),
  });
}

/** Starts the stack and the given roles, and runs until SIGINT or SIGTERM. */
async function run(roles: Role[]): Promise<void> {
  const config = configOrExit();
  boundHeapGrowth();
  const logger = createLogger(config.logLevel, { secrets: secretsOf(config) });
  const started = Date.now();
  let stack: Awaited<ReturnType<typeof openStack>> | undefined;
  const running: RunningRole[] = [];
  let stopping = false;

  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now; embedded services may be left running and are stopped at the next start');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const role of running.reverse()) await role.stop().catch((error) => logger.error({ err: error, role: role.role }, 'stop failed'));
    await stack?.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    stack = await openStack(config, logger);
    for (const role of roles) {
      if (stopping) return;
      running.push(await startRole(stack, role));
    }
    logger.info({ roles, ms: Date.now() - started, api: roles.includes('api') ? `http://${config.http.host}:${config.http.port}` : undefined }, 'ledgersync is running');
  } catch (error) {
    // A signal came during start-up: shutdown is closing what had started, which is why the role
    // still starting (a relayer preparing its gas coins, say) failed. Ctrl-C then exits 0, not 1.
    if (stopping) return;
    for (const role of running.reverse()) await role.stop().catch(() => {});
    await stack?.close();
    fail(error, config);
  }
}

/** Runs a command that does its work and exits; any error becomes one line on stderr and exit 1. */
async function oneShot(work: (config: Config, logger: Logger) => Promise<void>): Promise<void> {
  const config = configOrExit();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { secrets: secretsOf(config) });
  try {
    await work(config, logger);
  } catch (error) {
    fail(error, config);
  }
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    fail(error);
  }
}

/** One line on stderr, scrubbed of the configuration's secrets (when it could be read) and of anything key-like in a URL. */
function fail(error: unknown, config?: Config): never {
  const message = error instanceof Error ? error.message : String(error);
  const scrub = createScrubber(config ? secretsOf(config) : []);
  process.stderr.write(`ledgersync: ${scrub(message.split('\n')[0]!)}\n`);
  process.exit(1);
}

await program.parseAsync();
