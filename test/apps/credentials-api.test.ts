import { describe, expect, it, onTestFinished } from 'vitest';
import { connectTestChain } from '../harness/evm.js';
import { testAppContext } from '../harness/app-context.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { credentialRoutes, documentFingerprint } from '../../src/apps/credentials/routes.js';
import { nextFingerprint, vaultWorld } from '../harness/vault-world.js';
import { runIndexer } from '../harness/credentials-indexer.js';
import { until } from '../harness/until.js';

describe('credentials API', () => {
  it('serves credentials and institutions from the cache with zero RPC calls, verifies documents, and falls back to the chain for what is not indexed yet', async () => {
    const world = await vaultWorld();
    const document = Buffer.from('%PDF-1.7 Diploma: Ada Lovelace, Mathematics, 1843');
    await world.issueBatch(3);
    await world.issueFingerprint(documentFingerprint(document), 'ipfs://ada');
    const others = ['0x00000000000000000000000000000000000000b2', '0xffffffffffffffffffffffffffffffffffffff01'] as const;
    for (const [i, account] of others.entries()) await world.upsertInstitution(account, `Other ${i}`);
    const head = await world.revoke(2n);
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: 2 });
    await live.indexer.waitForBlock(head);
    const evm = await connectTestChain(world.rpcUrl, { deploymentsFile: world.deploymentsFile });
    const chain = evm.conn;
    const context = testAppContext(live.database.pool, evm, world.deploymentsFile);
    const server = await buildServer({
      logger: createLogger('silent'),
      readiness: [],
      version: 'test',
      routes: [(app) => credentialRoutes(app, context(app), evm.key)],
    });
    onTestFinished(() => server.close());
    const get = async (url: string) => server.inject({ url });
    const verify = async (payload: object) => server.inject({ method: 'POST', url: '/api/blockchain/verify', payload });

    const calls = chain.meter.totalCalls();
    const all = (await get('/api/credentials')).json();
    expect(all.items.map((c: { id: string }) => c.id)).toEqual(['4', '3', '2', '1']);
    expect((await get('/api/credentials?status=revoked')).json().items.map((c: { id: string }) => c.id)).toEqual(['2']);
    expect((await get(`/api/credentials?status=valid&institution=${world.institution.toUpperCase().replace('0X', '0x')}`)).json().items).toHaveLength(3);
    const page = (await get('/api/credentials?limit=3')).json();
    expect((await get(`/api/credentials?limit=3&cursor=${page.nextCursor}`)).json().items.map((c: { id: string }) => c.id)).toEqual(['1']);

    const one = (await get('/api/credentials/4')).json();
    expect(one).toMatchObject({ source: 'cache', id: '4', state: 'valid', metadataURI: 'ipfs://ada', institutionName: 'Universidad', institutionActive: true });
    expect((await get('/api/blockchain/status/2')).json()).toMatchObject({ source: 'cache', state: 'revoked' });
    // Institutions in address order, a page at a time.
    const institutions = [world.institution.toLowerCase(), ...others].sort();
    const everyone = (await get('/api/institutions')).json();
    expect(everyone.items.map((i: { address: string }) => i.address)).toEqual(institutions);
    expect(everyone.nextCursor).toBeNull();
    expect(everyone.items).toContainEqual(expect.objectContaining({ address: world.institution.toLowerCase(), name: 'Universidad', active: true }));
    const firstTwo = (await get('/api/institutions?limit=2')).json();
    expect(firstTwo.items.map((i: { address: string }) => i.address)).toEqual(institutions.slice(0, 2));
    expect(firstTwo.nextCursor).toBe(institutions[1]);
    const last = (await get(`/api/institutions?limit=2&cursor=${firstTwo.nextCursor}`)).json();
    expect(last).toEqual({ items: [expect.objectContaining({ address: institutions[2] })], nextCursor: null });
    expect((await get(`/api/institutions/${world.institution}`)).json()).toMatchObject({ name: 'Universidad' });

    const matching = (await verify({ credentialId: '4', document: document.toString('base64') })).json();
    expect(matching).toMatchObject({ verdict: 'valid', status: 'valid', source: 'cache' });
    expect(matching.steps.map((s: { step: string; ok: boolean }) => [s.step, s.ok])).toEqual([
      ['exists', true],
      ['document integrity', true],
      ['status', true],
      ['issuer active', true],
      ['anchored', true],
    ]);
    expect(matching.steps[4].detail).toContain(one.issuedTransaction);
    const tampered = (await verify({ credentialId: '4', document: Buffer.from('%PDF-1.7 Diploma: Ada Lovelace, Physics').toString('base64') })).json();
    expect(tampered).toMatchObject({ verdict: 'invalid', status: 'valid' });
    expect(tampered.steps[1]).toMatchObject({ step: 'document integrity', ok: false });
    expect((await verify({ credentialId: '2', fingerprint: (await get('/api/credentials/2')).json().fingerprint })).json()).toMatchObject({ verdict: 'revoked' });
    // Every read above came from PostgreSQL.
    expect(chain.meter.totalCalls()).toBe(calls);

    // A credential that expires a few seconds from now (the vault refuses a past expiry), read while valid so that it is in memory.
    // The next block is stamped with the wall clock, or a second after the last one when that is later.
    const lastBlock = (await world.publicClient.getBlock()).timestamp;
    const expiresAt = [lastBlock + 1n, BigInt(Math.floor(Date.now() / 1000))].reduce((a, b) => (a > b ? a : b)) + 4n;
    const expiring = nextFingerprint();
    await live.indexer.waitForBlock(await world.issueFingerprint(expiring, 'ipfs://expiring', expiresAt));
    const states = async () => [
      (await get('/api/credentials/5')).json().state,
      (await get('/api/blockchain/status/5')).json().state,
      (await verify({ credentialId: '5', fingerprint: expiring })).json().verdict,
    ];
    expect(await states()).toEqual(['valid', 'valid', 'valid']);
    // Then the clock passes the expiry, and nothing else happens: no block, no indexer commit, no notification.
    await until(() => BigInt(Math.floor(Date.now() / 1000)) >= expiresAt, 'the expiry', 30_000);
    const afterExpiry = chain.meter.totalCalls();
    expect(await states()).toEqual(['expired', 'expired', 'expired']);
    expect((await get('/api/credentials?status=expired')).json().items.map((c: { id: string; state: string }) => [c.id, c.state])).toEqual([['5', 'expired']]);
    expect((await get('/api/credentials?status=valid')).json().items.map((c: { id: string }) => c.id)).toEqual(['4', '3', '1']);
    expect(chain.meter.totalCalls()).toBe(afterExpiry);

    // Not indexed yet: the indexer is stopped, a credential is issued, and the chain answers.
    await live.indexer.stop();
    const later = Buffer.from('a later document');
    await world.issueFingerprint(documentFingerprint(later));
    expect((await get('/api/credentials/6')).statusCode).toBe(404);
    expect((await get('/api/blockchain/status/6')).json()).toMatchObject({ source: 'chain', id: '6', state: 'valid', issuedTransaction: null });
    expect((await verify({ credentialId: '6', document: later.toString('base64') })).json()).toMatchObject({ verdict: 'valid', source: 'chain' });
    expect((await verify({ credentialId: '99', fingerprint: `0x${'ab'.repeat(32)}` })).json()).toMatchObject({ verdict: 'unknown', status: 'unknown' });
    expect(chain.meter.totalCalls()).toBeGreaterThan(calls);
  });

  it('answers bad input with 4xx problem+json, never a 500', async () => {
    const world = await vaultWorld();
    const live = await runIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile });
    const server = await buildServer({
      logger: createLogger('silent'),
      readiness: [],
      version: 'test',
      routes: [(app) => credentialRoutes(app, testAppContext(live.database.pool, live.evm, world.deploymentsFile)(app), live.evm.key)],
    });
    onTestFinished(() => server.close());
    const cases: Array<[string, string, unknown, number]> = [
      ['GET', '/api/credentials/abc', undefined, 400],
      ['GET', '/api/credentials/0', undefined, 400],
      ['GET', '/api/credentials/-5', undefined, 400],
      ['GET', `/api/credentials/1${'0'.repeat(80)}`, undefined, 400],
      // Credential ids are uint256: the largest is a (missing) credential, one more is not an id.
      ['GET', `/api/credentials/${2n ** 256n - 1n}`, undefined, 404],
      ['GET', `/api/credentials/${2n ** 256n}`, undefined, 400],
      ['GET', `/api/credentials?cursor=${2n ** 256n}`, undefined, 400],
      ['GET', '/api/credentials/77', undefined, 404],
      ['GET', '/api/credentials?student=0x123', undefined, 400],
      ['GET', '/api/credentials?status=lost', undefined, 400],
      ['GET', '/api/credentials?limit=100000', undefined, 400],
      ['GET', '/api/institutions?limit=0', undefined, 400],
      ['GET', '/api/institutions?limit=501', undefined, 400],
      ['GET', '/api/institutions?cursor=Universidad', undefined, 400],
      ['GET', '/api/institutions/not-an-address', undefined, 400],
      ['GET', `/api/institutions/0x${'1'.repeat(40)}`, undefined, 404],
      ['GET', '/api/blockchain/status/x', undefined, 400],
      ['GET', '/api/blockchain/status/12345', undefined, 404],
      ['POST', '/api/blockchain/verify', { credentialId: '1' }, 400],
      ['POST', '/api/blockchain/verify', { credentialId: '1', fingerprint: `0x${'a'.repeat(64)}`, document: 'AAAA' }, 400],
      ['POST', '/api/blockchain/verify', { credentialId: 1, fingerprint: `0x${'a'.repeat(64)}` }, 400],
      ['POST', '/api/blockchain/verify', { credentialId: '1', fingerprint: '0x1234' }, 400],
      ['POST', '/api/blockchain/verify', { credentialId: '1', fingerprint: `0x${'a'.repeat(64)}`, extra: true }, 400],
      ['POST', '/api/blockchain/verify', '{ not json', 400],
      ['POST', '/api/blockchain/verify', { credentialId: '1', document: 'A'.repeat(17 * 1024 * 1024) }, 413],
    ];
    for (const [method, url, payload, status] of cases) {
      const res = await server.inject({
        method: method as 'GET' | 'POST',
        url,
        ...(payload === undefined ? {} : typeof payload === 'string' ? { payload, headers: { 'content-type': 'application/json' } } : { payload: payload as object }),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(status);
      expect(res.headers['content-type'], `${method} ${url}`).toContain('application/problem+json');
    }
  });
});
