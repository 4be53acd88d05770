import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import type { Address, PublicClient } from 'viem';
import type { SuiGrpcClient } from '@mysten/sui/grpc';
import type { ContractDefinition } from '../chain/evm/deploy.js';
import type { ChainKey, Source } from '../core/chain.js';
import type { Projection } from '../core/indexer/types.js';
import type { IntentKind } from '../core/relayer/types.js';
import type { Outbox } from '../core/relayer/outbox.js';
import type { CoherentCache } from '../db/coherent-cache.js';
import type { Logger } from '../runtime/logger.js';

export type { ContractDefinition };


/**
 * A recurring job: graphile-worker runs `task` on the `cron` schedule (crontab
 * syntax, UTC, minute granularity), once across all workers. The task's payload
 * is `payload` with `_cron: { ts, backfilled }`, the tick it runs for.
 */
export interface Schedule {
  task: string;
  cron: string;
  payload?: Record<string, unknown>;
  /**
   * Milliseconds: ticks missed while no worker ran (a deploy, an outage) are run
   * when a worker starts, each once, if no older than this and not older than
   * the schedule itself. Default 0: a missed tick is skipped.
   */
  backfillPeriod?: number;
}

/**
 * What an app registers with the engine: its own tables (migrations), what it
 * reads from chains (sources) and folds into them (projections), what it writes
 * (intents), its jobs, schedules, commands and routes. The engine knows nothing
 * of any app beyond this interface.
 */
export interface LedgersyncApp {
  name: string;
  /** Its SQL migrations (drizzle-kit's folder, absolute or relative to the package root), applied after the engine's, in order. */
  migrations?: string;
  contracts?: ContractDefinition[];
  sources?: Source[];
  projections?: Projection[];
  intents?: IntentKind[];
  /**
   * graphile-worker tasks, by name; names are best prefixed with the app's (`credentials.reconcile`).
   * A function of the worker's ports when tasks write through the outbox.
   */
  tasks?: Record<string, Task> | ((ports: TaskPorts) => Record<string, Task>);
  schedules?: Schedule[];
  /** Its own `ledgersync` subcommands (e.g. managing API keys). */
  commands?: (program: Command, context: CommandContext) => void;
  /** Its HTTP routes, served by the api role. */
  routes?: (app: FastifyInstance, context: AppContext) => Promise<void>;
}

/** What an app's tasks may use: the database, the outbox, a logger, and the chains' reading ports. */
export interface TaskPorts extends ChainReaders {
  pool: pg.Pool;
  outbox: Outbox;
  logger: Logger;
  /** A contract's address on a chain, from the deployments file (read until it is there, then kept). */
  deployment(chain: ChainKey, contract: string): Address | undefined;
}

/** The reading ports of the deployment's chains, by family: for reads that must come from the chain itself (a critical balance). */
export interface ChainReaders {
  chains: ReadonlyMap<ChainKey, EvmChainReader>;
  suiChains: ReadonlyMap<ChainKey, SuiChainReader>;
}

export interface CommandContext {
  /** Runs `work` with the database (migrated), then closes it. */
  withDatabase(work: (pool: pg.Pool) => Promise<void>): Promise<void>;
  /** Runs `work` with the database and the configured chains' reading ports (nothing is started: an embedded chain is read where `ledgersync start` runs it). */
  withChains(work: (ports: CommandPorts) => Promise<void>): Promise<void>;
}

/** What a command run `withChains` gets. */
export interface CommandPorts extends ChainReaders {
  pool: pg.Pool;
  logger: Logger;
  /** Writes: intents wait in the outbox until a worker sends them. */
  outbox: Outbox;
  deployment(chain: ChainKey, contract: string): Address | undefined;
  /** RPC calls made so far through a chain's readers (a benchmark's proof that cached reads make none). */
  rpcCalls(chain: ChainKey): number;
  /** Why a configured chain has no reader (its node did not answer), if it has none. */
  unreachable(chain: ChainKey): string | undefined;
}

/** A chain's reading port for apps: typed contract reads (viem) through the metered transport. */
export interface EvmChainReader {
  key: ChainKey;
  chainId: number;
  client: PublicClient;
}

/** A Sui chain's reading port for apps: the gRPC client (balances, objects, checkpoints) through the metered transport. */
export interface SuiChainReader {
  key: ChainKey;
  client: SuiGrpcClient;
}

/** What an app's routes get from the engine. */
export interface AppContext extends ChainReaders {
  pool: pg.Pool;
  logger: Logger;
  /** A contract's address on a chain, from the deployments file (read until it is there, then kept). */
  deployment(chain: ChainKey, contract: string): Address | undefined;
  /** Writes: each intent names its chain (by its kind), its signer (an address or a role) and its target. */
  outbox: Outbox;
  /**
   * An in-memory cache of rows derived from these projections, emptied whenever
   * one of them changes on any chain (and off while the engine cannot be sure it
   * hears of changes). Closed with the server.
   */
  cache<V>(projections: string[]): Promise<CoherentCache<V>>;
  /** The API's address as the public reaches it (links, QR codes); else taken from each request. */
  publicUrl?: string;
  /** Writes per minute per API key (needs the server's rate limiting on); 0 or absent: no per-key limit. */
  rateLimitPerKey?: number;
}
