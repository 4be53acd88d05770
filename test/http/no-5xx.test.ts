import { describe, expect, it, onTestFinished } from 'vitest';
import type { AddressInfo } from 'node:net';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { connectTestChain } from '../harness/evm.js';
import { testAppContext } from '../harness/app-context.js';
import { startIndexer } from '../../src/core/indexer/indexer.js';
import { intentRoutes } from '../../src/core/relayer/routes.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { createApiKey, revokeApiKey } from '../../src/http/api-keys.js';
import { credentialsRelayerWorld } from '../harness/credentials-relayer.js';
import { httpClient, rawExchange, type Answer } from '../harness/http-client.js';
import { fireGeneratedRequests, routesOf, type RouteUnderTest } from '../harness/generated-requests.js';

const STUDENT = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

/**
 * The whole API as `ledgersync api` serves it (engine and app routes, rate
 * limits, CORS, a trusted proxy hop), listening on a port, over a chain and a
 * database with institutions, credentials (one revoked), intents and API keys.
 */
async function servedApi() {
  const w = await credentialsRelayerWorld({ finalityDepth: 0 });
  const { pool } = w.database;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const indexed = await connectTestChain(w.world.rpcUrl, { deploymentsFile: w.world.deploymentsFile, finalityDepth: 2, pollIntervalMs: 50, concurrency: 2, maxBlockRange: 1000 });
  const app = credentialsApp({ chain: indexed.key });
  const indexer = await startIndexer(indexed, pool, app.sources!, app.projections!, { pollIntervalMs: 50 }, logger);
  let stopped: Promise<void> | undefined;
  const stopIndexer = () => (stopped ??= indexer.stop());
  onTestFinished(stopIndexer);
  await w.world.issueBatch(3);
  await indexer.waitForBlock(await w.world.revoke(2n));
  // Indexed; the indexer's polling would only take CPU from the requests from here on.
  await stopIndexer();

  const registrar = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: (w.account.address).toLowerCase() } }, 'registrar');
  const admin = await createApiKey(pool, { roles: ['admin'] }, 'operations');
  const unserved = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: ('0x000000000000000000000000000000000000beef').toLowerCase() } }, 'an institution this server does not sign for');
  const revoked = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: (w.account.address).toLowerCase() } }, 'old');
  await revokeApiKey(pool, revoked.id);
  const intents = await w.submit([{ ...w.issue('seed-1'), submittedBy: registrar.id }, w.issue('seed-2')]);
  const { rows } = await pool.query<{ fingerprint: string }>('select fingerprint from credentials order by credential_id');

  const routes: RouteUnderTest[] = [];
  const server = await buildServer({
    logger,
    readiness: [],
    version: 'test',
    rateLimitPerIp: 1_000_000,
    corsOrigins: ['https://verify.example'],
    trustProxyHops: 1,
    onRoute: (route) => routes.push(...routesOf(route)),
    routes: [
      (app) => intentRoutes(app, pool),
      (server) => app.routes!(server, testAppContext(pool, w.evm, w.world.deploymentsFile, { outbox: w.outbox, rateLimitPerKey: 1_000_000 })(server)),
    ],
  });
  onTestFinished(() => server.close());
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    routes,
    keys: { registrar: registrar.key, admin: admin.key, unserved: unserved.key, revoked: revoked.key },
    known: {
      ids: ['1', '2', '3', '4', ...intents.map((i) => String(i.id))],
      addresses: [w.account.address, w.account.address.toLowerCase(), STUDENT],
      fingerprints: rows.map((r) => r.fingerprint),
      keys: [registrar.key, admin.key],
      refusedKeys: [unserved.key, revoked.key],
    },
  };
}

function expectProblem(answer: Answer, status: number, detail?: RegExp) {
  expect(answer.status, answer.body.toString().slice(0, 300)).toBe(status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(answer.body.toString());
  expect(problem).toMatchObject({ type: 'about:blank', status, title: expect.any(String), detail: expect.any(String) });
  if (detail) expect(problem.detail).toMatch(detail);
}

describe('no input produces a 5xx, and every error is problem+json', () => {
  it('refuses out-of-range ids, text PostgreSQL cannot store, a revoke reason over 32 bytes and a host a link cannot be built from, with a 4xx', async () => {
    const api = await servedApi();
    const client = httpClient(api.port, 4);
    onTestFinished(() => client.close());
    const get = (path: string, headers: Record<string, string> = {}) => client.send({ method: 'GET', path, headers });
    const post = (path: string, body: string, key: string) =>
      client.send({ method: 'POST', path, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: Buffer.from(body) });
    const admin = { authorization: `Bearer ${api.keys.admin}` };

    // Intent ids live in a PostgreSQL bigint.
    expectProblem(await get('/api/tx/9999999999999999999', admin), 400, /up to 9223372036854775807/);
    expectProblem(await get('/api/tx?cursor=9999999999999999999', admin), 400, /cursor/);
    expectProblem(await get('/api/tx/9223372036854775807', admin), 404);
    expectProblem(await get('/api/tx?kind=credentials%00issue', admin), 400, /NUL/);
    // Credential ids are uint256.
    expectProblem(await get(`/api/credentials/${2n ** 256n - 1n}`), 404);
    expectProblem(await get(`/api/credentials/${2n ** 256n}`), 400, /2\^256-1/);
    expectProblem(await get(`/api/blockchain/status/${2n ** 256n}`), 400);

    // 17 × é: 17 characters, 34 bytes.
    expectProblem(await post('/api/credentials/1/revoke', JSON.stringify({ reason: 'é'.repeat(17) }), api.keys.registrar), 400, /at most 32 bytes as UTF-8/);
    expect((await post('/api/credentials/1/revoke', JSON.stringify({ reason: 'é'.repeat(16) }), api.keys.registrar)).status).toBe(202);
    expectProblem(await post('/api/credentials/3/revoke', JSON.stringify({ reason: 'a\u0000' }), api.keys.registrar), 400, /NUL/);
    const issue = { student: STUDENT, fingerprint: `0x${'ab'.repeat(32)}` };
    expectProblem(await post('/api/credentials/issue', JSON.stringify({ ...issue, metadataURI: 'ipfs://\u0000' }), api.keys.registrar), 400, /metadataURI: must not contain a NUL/);
    // A lone surrogate, as JSON writes it: jsonb would refuse the escape.
    expectProblem(await post('/api/credentials/issue', `{"student":"${STUDENT}","fingerprint":"${issue.fingerprint}","metadataURI":"ipfs://\\ud800"}`, api.keys.registrar), 400, /well-formed Unicode/);
    expectProblem(await post('/api/institutions', `{"address":"${STUDENT}","name":"Uni\\udfff"}`, api.keys.admin), 400, /name: must be well-formed Unicode/);

    // The QR code links to the host the request names, which must be one.
    const qr = await get('/verify/1/qr.svg', { host: 'verify.example:8443' });
    expect(qr.status).toBe(200);
    expect(qr.contentType).toBe('image/svg+xml');
    expectProblem(await get('/verify/1/qr.svg', { host: 'a'.repeat(3000) }), 400, /PUBLIC_URL/);
    expectProblem(await get('/verify/1/qr.svg', { 'x-forwarded-host': `${'b'.repeat(60)}.`.repeat(50) }), 400);
    expectProblem(await get('/verify/1/qr.svg', { 'x-forwarded-proto': 'x'.repeat(3000) }), 400);
  });

  it('answers errors raised before routing, and those of bodies and methods, in problem+json over real HTTP', async () => {
    const api = await servedApi();
    const client = httpClient(api.port, 4);
    onTestFinished(() => client.close());
    const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => client.send({ method, path, headers, ...(body === undefined ? {} : { body: Buffer.from(body) }) });

    expectProblem(await send('GET', `/api/tx/${'1'.repeat(150)}`), 414, /longer than 100 characters/);
    expectProblem(await send('GET', '/api/credentials/%E0%A4%A'), 400, /percent-encoded/);
    expectProblem(await send('GET', '/health', { 'x-padding': 'p'.repeat(17_000) }), 431, /exceed 16384 bytes/);
    expectProblem(await send('GET', `/api/credentials?student=${'0'.repeat(20_000)}`), 431);
    expectProblem(await rawExchange(api.port, 'GET /health HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n'), 400, /not a valid HTTP\/1.1 request/);
    expectProblem(await rawExchange(api.port, 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n'), 400, /Host header/);
    expectProblem(await send('GET', '/health', { expect: 'nonsense' }), 417, /nonsense/);

    const json = { 'content-type': 'application/json' };
    expectProblem(await send('POST', '/api/blockchain/verify', json, '{ not json'), 400);
    expectProblem(await send('POST', '/api/blockchain/verify', { 'content-type': 'application/xml' }, '<verify/>'), 415);
    expectProblem(await send('POST', '/api/blockchain/verify', json, `{"credentialId":"1","document":"${'A'.repeat(17 * 1024 * 1024)}"}`), 413);
    expectProblem(await send('POST', '/api/credentials/1/revoke', { ...json, authorization: `Bearer ${api.keys.registrar}` }, `{"reason":"${'x'.repeat(2 * 1024 * 1024)}"}`), 413);
    expectProblem(await send('DELETE', '/api/credentials'), 404, /no route for DELETE/);
  });

  it('answers 10,000 generated requests over every route and parameter without a 5xx, each error in problem+json', { timeout: 240_000 }, async () => {
    const api = await servedApi();
    const client = httpClient(api.port, 16);
    onTestFinished(() => client.close());
    const started = Date.now();
    const { sent, tried } = await fireGeneratedRequests(client, api.routes, api.known, 640);

    console.log(`${sent} generated requests over ${tried.size} routes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect([...tried].filter(([, count]) => count === 0).map(([route]) => route)).toEqual([]);
    // The engine's routes and the app's, as registered: nothing to keep in step by hand.
    expect([...tried.keys()]).toEqual(expect.arrayContaining(['GET /health', 'GET /api/tx/:id', 'POST /api/credentials/:id/revoke', 'GET /verify/:id/qr.svg']));
  });
});
