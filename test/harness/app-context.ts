import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { AppContext } from '../../src/engine/app.js';
import type { EvmChain } from '../../src/chain/evm/chain.js';
import { createOutbox, type Outbox } from '../../src/core/relayer/outbox.js';
import { appContextFor } from '../../src/wiring/roles.js';
import { createLogger } from '../../src/runtime/logger.js';
import { credentialIntents } from '../../src/apps/credentials/intents.js';

/** The context an app's routes get in the api role, for a server a test builds itself (no signer: writes refused, unless an outbox is given). */
export function testAppContext(
  pool: pg.Pool,
  chain: EvmChain,
  deploymentsFile: string,
  options: { outbox?: Outbox; readCacheEntries?: number; readCacheHeartbeatMs?: number; publicUrl?: string; rateLimitPerKey?: number } = {},
): (server: FastifyInstance) => AppContext {
  return appContextFor({
    pool,
    logger: createLogger('silent'),
    chains: [chain],
    deploymentsFile,
    outbox: options.outbox ?? createOutbox({ chains: [{ key: chain.key, codec: chain.codec, signers: [] }], kinds: credentialIntents(chain.key) }),
    ...options,
  });
}
