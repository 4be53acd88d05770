import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Abi, Address, Hex } from 'viem';
import type { ChainConnection } from '../chain/evm/client.js';
import type { IndexerSource, Projection } from '../indexer/types.js';
import type { IntentKind } from '../relayer/types.js';
import type { Outbox } from '../relayer/outbox.js';

/** A contract an app needs on chain: `ledgersync deploy` deploys it and records its address. */
export interface ContractDefinition {
  /** Key in the deployments file, e.g. `BlockProofCredentialVault`. */
  name: string;
  abi: Abi;
  bytecode: Hex;
  constructorArgs(context: { deployer: Address }): readonly unknown[];
}

/**
 * What an app registers with the engine. The engine knows nothing of any app
 * beyond this interface.
 */
export interface LedgersyncApp {
  name: string;
  contracts: ContractDefinition[];
  /** Contracts whose events the indexer mirrors. */
  sources: IndexerSource[];
  /** Tables kept equal to a fold over those events. */
  projections: Projection[];
  /** Writes it sends through the outbox, and what it does with their outcome. */
  intents: IntentKind[];
  /** Its own `ledgersync` subcommands (e.g. managing API keys). */
  commands?: (program: Command, withDatabase: (work: (pool: pg.Pool) => Promise<void>) => Promise<void>) => void;
  /** Its HTTP routes, served by the api role. */
  routes?: (app: FastifyInstance, context: AppContext) => Promise<void>;
}

/** What an app's routes get from the engine. */
export interface AppContext {
  pool: pg.Pool;
  /** For chain fallbacks (eth_call) when the cache does not know yet. */
  chain: ChainConnection;
  deploymentsFile: string;
  /** One per configured relayer signer (the first also administers): writes go through the signer's outbox. */
  outboxes?: Outbox[];
  /** The API's address as the public reaches it (links, QR codes); else taken from each request. */
  publicUrl?: string;
  /** Rows an app may keep in memory between indexer commits (0: read PostgreSQL every time). */
  readCacheEntries?: number;
  /** How often an in-memory cache checks that its invalidations still arrive (CoherentCache's heartbeat). */
  readCacheHeartbeatMs?: number;
  /** Writes per minute per API key (needs the server's rate limiting on); 0 or absent: no per-key limit. */
  rateLimitPerKey?: number;
}
