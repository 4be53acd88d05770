import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import { connectDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { credentialRoutes } from '../../src/apps/credentials/routes.js';
import { PROJECTIONS_CHANNEL } from '../../src/core/indexer/store.js';
import { vaultWorld } from '../harness/vault-world.js';
import { runIndexer } from '../harness/credentials-indexer.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { until } from '../harness/until.js';
import { testAppContext } from '../harness/app-context.js';

const HEARTBEAT_MS = 200;
/** Three missed heartbeats, a beat to notice, and a margin for a busy machine. */
const STALE_AT_MOST_MS = 3 * HEARTBEAT_MS + HEARTBEAT_MS + 2_000;

describe('the credentials cache', () => {
  it('serves a revocation within the heartbeat timeout when its LISTEN connection was dropped silently, and caches again on a new one', async () => {
    const world = await vaultWorld();
    const issued = await world.issueBatch(1);
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 1 });
    await live.indexer.waitForBlock(issued);
    // The API reaches PostgreSQL through a proxy that can drop a connection without telling either end; the indexer goes straight.
    const proxy = await startTcpProxy(live.database.url);
    onTestFinished(() => proxy.close());
    const api = connectDatabase(proxy.url);
    onTestFinished(() => api.close());
    const server = await buildServer({
      logger: createLogger('silent'),
      readiness: [],
      version: 'test',
      routes: [(app) => credentialRoutes(app, testAppContext(api.pool, live.evm, world.deploymentsFile, { readCacheHeartbeatMs: HEARTBEAT_MS })(app), live.evm.key)],
    });
    onTestFinished(() => server.close());
    const state = async () => (await server.inject({ url: '/api/credentials/1' })).json().state as string;
    // Each execution of the credential lookup sends its prepared statement's name.
    const lookups = () => proxy.sent().join('').split('credentials.cached-credential').length - 1;
    const servedFromMemory = async () => {
      await state();
      const before = lookups();
      await state();
      return lookups() === before;
    };

    await until(servedFromMemory, 'the credential to be served from memory', 10_000, 20);
    expect(await state()).toBe('valid');

    expect(proxy.freeze((sent) => sent.includes(`listen ${PROJECTIONS_CHANNEL}`))).toBe(1);
    const revoked = await world.revoke(1n);
    await live.indexer.waitForBlock(revoked);
    await until(async () => (await state()) === 'revoked', 'the revocation to be served', STALE_AT_MOST_MS, 20);

    // Back from memory, once a heartbeat has come back through a new LISTEN connection.
    await until(servedFromMemory, 'the cache to serve from memory again', 10_000, 20);
    expect(await state()).toBe('revoked');
    expect(proxy.sent().filter((sent) => sent.includes(`listen ${PROJECTIONS_CHANNEL}`))).toHaveLength(2);
  });
});
