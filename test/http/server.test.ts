import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/http/server.js';
import { engineReadiness } from '../../src/wiring/readiness.js';
import { createLogger } from '../../src/runtime/logger.js';
import { connectTestChain } from '../harness/evm.js';
import { startAnvil } from '../../src/chain/evm/anvil.js';
import { freePort } from '../../src/runtime/ports.js';
import { createTestDatabase } from '../harness/db.js';
import { testChain } from '../harness/chain.js';

const { publicClient } = testChain();

describe('HTTP server', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: FastifyInstance;
  const logger = createLogger('silent');

  beforeAll(async () => {
    // The engine's tables alone: no app's.
    database = await createTestDatabase([]);
    const chain = await connectTestChain(inject('rpcUrl'), { deploymentsFile: '/nonexistent' });
    server = await buildServer({ logger, readiness: engineReadiness({ database, chains: new Map([[chain.key, chain]]) }), version: '0.0.0-test' });
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });

  it('answers /health', async () => {
    const res = await server.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('is ready only once the indexer has caught up with the head, and not while the chain is halted', async () => {
    const notStarted = await server.inject({ url: '/ready' });
    expect(notStarted.statusCode).toBe(503);
    expect(notStarted.json().detail).toBe('not ready: indexer: indexer has not started on this chain');

    const head = await publicClient.getBlockNumber();
    // What an indexer writes as it goes: its checkpoint row.
    await database.pool.query("insert into indexer_checkpoints (chain, block_number, block_hash) values ('evm:31337', $1, '0x00')", [head - 10n]);
    const behind = await server.inject({ url: '/ready' });
    expect(behind.statusCode).toBe(503);
    expect(behind.json().detail).toMatch(/^not ready: indexer: 1\d blocks behind the head$/);

    await database.pool.query('update indexer_checkpoints set block_number = $1', [head]);
    const ready = await server.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { database: { ok: true }, chain: { ok: true, chain: 'evm:31337' }, indexer: { ok: true } } });

    await database.pool.query("update indexer_checkpoints set halted_reason = 'reorg deeper than finality'");
    const halted = await server.inject({ url: '/ready' });
    expect(halted.statusCode).toBe(503);
    expect(halted.json().detail).toBe('not ready: indexer: halted: reorg deeper than finality');
    await database.pool.query('delete from indexer_checkpoints');
  });

  it('is not ready, in problem+json, when the chain stops answering', async () => {
    const anvil = await startAnvil({ port: await freePort() });
    const chain = await connectTestChain(anvil.rpcUrl, { deploymentsFile: '/nonexistent' });
    const app = await buildServer({ logger, readiness: engineReadiness({ database, chains: new Map([[chain.key, chain]]) }), version: '0.0.0-test' });
    await anvil.stop();
    const res = await app.inject({ url: '/ready' });
    await app.close();
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: expect.stringMatching(/^not ready: chain: /),
      checks: { database: { ok: true }, chain: { ok: false } },
    });
  });

  it('serves Prometheus metrics, including RPC calls by method', async () => {
    await server.inject({ url: '/health' });
    await server.inject({ url: '/ready' });
    const res = await server.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^ledgersync_rpc_calls_total\{chain="evm:31337",method="eth_blockNumber"\} \d+$/m);
    expect(res.body).toContain('ledgersync_process_resident_memory_bytes');
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = await server.inject({ url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'ledgersync' }, paths: { '/health': {}, '/ready': {}, '/metrics': {} } });
    const docs = await server.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/^text\/html/);
  });

  it('answers an unknown route with 404 problem+json', async () => {
    const res = await server.inject({ url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not Found', detail: 'no route for GET /nope', instance: '/nope?x=1' });
  });

  it('keeps a sane caller request id and replaces an unsafe one', async () => {
    const kept = await server.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await server.inject({ url: '/health', headers: { 'x-request-id': 'evil\nline' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
