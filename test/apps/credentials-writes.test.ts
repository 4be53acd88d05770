import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../../src/runtime/logger.js';
import { buildServer } from '../../src/http/server.js';
import { connectTestChain } from '../harness/evm.js';
import { testAppContext } from '../harness/app-context.js';
import { startIndexer } from '../../src/core/indexer/indexer.js';
import { intentRoutes } from '../../src/core/relayer/routes.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { createApiKey, revokeApiKey } from '../../src/http/api-keys.js';
import { createOutbox } from '../../src/core/relayer/outbox.js';
import { credentialsRelayerWorld } from '../harness/credentials-relayer.js';
import { until } from '../harness/until.js';

describe('issuing and revoking through the API', () => {
  it('issues with an API key through the outbox, honours Idempotency-Key, and reads the result back once confirmed and indexed', async () => {
    const w = await credentialsRelayerWorld({ finalityDepth: 0 });
    const logger = createLogger('silent');
    const indexed = await connectTestChain(w.world.rpcUrl, { deploymentsFile: w.world.deploymentsFile, finalityDepth: 2, pollIntervalMs: 50, concurrency: 2, maxBlockRange: 1000 });
    const app = credentialsApp({ chain: indexed.key });
    const indexer = await startIndexer(indexed, w.database.pool, app.sources!, app.projections!, { pollIntervalMs: 50 }, logger);
    onTestFinished(() => indexer.stop());
    const { pool } = w.database;
    const registrar = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: (w.account.address).toLowerCase() } }, 'registrar');
    const stranger = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: ('0x000000000000000000000000000000000000dead').toLowerCase() } }, 'another institution');
    const revoked = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: (w.account.address).toLowerCase() } }, 'old');
    const admin = await createApiKey(pool, { roles: ['admin'] }, 'registry');
    const unserved = await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: ('0x000000000000000000000000000000000000beef').toLowerCase() } }, 'an institution this server has no key for');
    // A second institution this server signs for: its writes are signed by its own key.
    const outbox = createOutbox({
      chains: [{ key: w.evm.key, codec: w.evm.codec, signers: [{ address: w.account.address.toLowerCase(), roles: ['default'] }, { address: '0x000000000000000000000000000000000000dead', roles: [] }] }],
      kinds: app.intents!,
    });
    await revokeApiKey(pool, revoked.id);
    const server = await buildServer({
      logger,
      readiness: [],
      version: 'test',
      rateLimitPerIp: 10_000,
      routes: [
        (app) => intentRoutes(app, pool),
        (server) => app.routes!(server, testAppContext(pool, w.evm, w.world.deploymentsFile, { outbox, rateLimitPerKey: 9 })(server)),
      ],
    });
    onTestFinished(() => server.close());
    const document = Buffer.from('%PDF-1.7 Diploma of Grace Hopper');
    const issue = { student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', document: document.toString('base64'), metadataURI: 'ipfs://grace' };
    const post = (url: string, payload: object, key?: string, idempotency?: string) =>
      server.inject({ method: 'POST', url, payload, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(idempotency ? { 'idempotency-key': idempotency } : {}) } });

    expect((await post('/api/credentials/issue', issue)).statusCode).toBe(401);
    expect((await post('/api/credentials/issue', issue, 'lsk_000000000000_' + 'A'.repeat(43))).statusCode).toBe(401);
    expect((await post('/api/credentials/issue', issue, revoked.key)).statusCode).toBe(401);
    const forbidden = await post('/api/credentials/issue', issue, unserved.key);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['content-type']).toContain('application/problem+json');
    expect(forbidden.json().detail).toBe(`this server signs for ${w.account.address.toLowerCase()}, 0x000000000000000000000000000000000000dead, not for institution 0x000000000000000000000000000000000000beef`);
    const routed = await post('/api/credentials/issue', { ...issue, metadataURI: 'ipfs://dead' }, stranger.key);
    expect(routed.statusCode).toBe(202);
    const read = (url: string, key: string) => server.inject({ url, headers: { authorization: `Bearer ${key}` } });
    expect((await read(routed.headers.location as string, stranger.key)).json().signer).toBe('0x000000000000000000000000000000000000dead');
    // Recorded as the stranger's: no other institution's key reads it back, an admin key does.
    expect((await read(routed.headers.location as string, registrar.key)).statusCode).toBe(404);
    expect((await read(routed.headers.location as string, admin.key)).statusCode).toBe(200);
    expect((await post('/api/credentials/issue', { ...issue, student: 'nobody' }, registrar.key)).statusCode).toBe(400);
    expect((await post('/api/credentials/issue', issue, admin.key)).statusCode).toBe(403);
    expect((await post('/api/institutions', { address: w.account.address, name: 'Registrar' }, registrar.key)).statusCode).toBe(403);

    const accepted = await post('/api/credentials/issue', issue, registrar.key, 'grace-2026');
    expect(accepted.statusCode).toBe(202);
    const location = accepted.headers.location as string;
    expect(location).toMatch(/^\/api\/tx\/\d+$/);
    const again = await post('/api/credentials/issue', issue, registrar.key, 'grace-2026');
    expect(again.statusCode).toBe(202);
    expect(again.headers.location).toBe(location);
    expect(again.json().intent.created).toBe(false);
    expect((await post('/api/credentials/issue', { ...issue, metadataURI: 'ipfs://other' }, registrar.key, 'grace-2026')).statusCode).toBe(409);

    await w.startRelayer();
    const confirmed = await until(async () => {
      const intent = (await read(location, registrar.key)).json();
      return intent.state === 'confirmed' && intent;
    }, 'confirmation');
    const id = confirmed.events.find((e: { name: string }) => e.name === 'CredentialIssued').args.id as string;
    await until(async () => (await server.inject({ url: `/api/credentials/${id}` })).statusCode === 200, 'indexing');
    const verify = (doc: Buffer) => server.inject({ method: 'POST', url: '/api/blockchain/verify', payload: { credentialId: id, document: doc.toString('base64') } });
    expect((await verify(document)).json()).toMatchObject({ verdict: 'valid', source: 'cache' });
    expect((await verify(Buffer.from('%PDF-1.7 Diploma of someone else'))).json()).toMatchObject({ verdict: 'invalid' });

    const strangerRevoke = await post(`/api/credentials/${id}/revoke`, { reason: 'fraud' }, stranger.key);
    expect(strangerRevoke.statusCode, strangerRevoke.body).toBe(403);
    expect((await post(`/api/credentials/${id}/revoke`, { reason: 'x'.repeat(40) }, registrar.key)).statusCode).toBe(400);
    // 17 characters but 34 bytes: more than a bytes32 holds.
    const tooLong = await post(`/api/credentials/${id}/revoke`, { reason: 'é'.repeat(17) }, registrar.key);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().detail).toBe('reason: expected at most 32 bytes as UTF-8 (it is stored on chain as bytes32; é, for one, takes 2 bytes)');
    const revocation = await post(`/api/credentials/${id}/revoke`, { reason: 'fraud' }, registrar.key);
    expect(revocation.statusCode).toBe(202);
    await until(async () => (await server.inject({ url: `/api/credentials/${id}` })).json().state === 'revoked', 'the revocation to be indexed');
    expect((await verify(document)).json()).toMatchObject({ verdict: 'revoked', status: 'revoked' });

    // Nine writes a minute for this key (eight made above, whatever their answer): the tenth is refused.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post('/api/credentials/issue', { ...issue, document: Buffer.from(`doc ${i}`).toString('base64') }, registrar.key)).statusCode);
    expect(statuses).toEqual([202, 429, 429]);
  });

  it('limits requests per IP address with 429 problem+json, and answers CORS preflights only for configured origins', async () => {
    const server = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', rateLimitPerIp: 3, corsOrigins: ['https://verify.example'] });
    onTestFinished(() => server.close());
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await server.inject({ url: '/health' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await server.inject({ url: '/health' });
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.json().detail).toMatch(/^rate limit: 3 requests per minute/);
    // Behind one trusted proxy, the client's address (X-Forwarded-For) is what is limited.
    const proxied = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', rateLimitPerIp: 2, trustProxyHops: 1 });
    onTestFinished(() => proxied.close());
    const from = async (client: string) => (await proxied.inject({ url: '/health', headers: { 'x-forwarded-for': client } })).statusCode;
    expect([await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.2')]).toEqual([200, 200, 429, 200]);
    const allowed = await server.inject({ method: 'OPTIONS', url: '/api/credentials', headers: { origin: 'https://verify.example', 'access-control-request-method': 'GET' }, remoteAddress: '10.0.0.2' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://verify.example');
    const other = await server.inject({ method: 'OPTIONS', url: '/api/credentials', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' }, remoteAddress: '10.0.0.3' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
