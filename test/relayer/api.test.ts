import { describe, expect, it } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import { intentRoutes } from '../../src/core/relayer/routes.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createApiKey } from '../../src/http/api-keys.js';
import { ledgerRelayerWorld } from '../harness/ledger-relayer.js';

describe('GET /api/tx', () => {
  it('shows each intent with its hashes, receipt, events and error; lists with filters and cursors; rejects bad input with problem+json', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 0 });
    const first = w.writeOnce('api-0');
    // The same writeOnce twice, under two idempotency keys: the ledger takes the first and refuses the second.
    await w.submit([first, w.writeOnce('api-1'), w.writeOnce('api-2'), { ...first, idempotencyKey: 'api-duplicate' }]);
    await w.startRelayer();
    await w.settled();
    const server = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', routes: [(app) => intentRoutes(app, w.database.pool)] });
    // Intents submitted by the application itself, not through an API key: only an admin key reads them.
    const admin = await createApiKey(w.database.pool, { roles: ['admin'] }, 'operations');
    const get = (url: string) => server.inject({ url, headers: { authorization: `Bearer ${admin.key}` } });

    const list = (await get('/api/tx?limit=2')).json();
    expect(list.items.map((i: { idempotencyKey: string }) => i.idempotencyKey)).toEqual(['api-duplicate', 'api-2']);
    const rest = (await get(`/api/tx?limit=2&cursor=${list.nextCursor}`)).json();
    expect(rest.items.map((i: { idempotencyKey: string }) => i.idempotencyKey)).toEqual(['api-1', 'api-0']);
    expect(rest.nextCursor).toBeNull();

    const failed = (await get('/api/tx?state=failed')).json();
    expect(failed.items).toHaveLength(1);
    // Simulated before the original was mined, so sent; it reverted on chain, and the reason is decoded from a replay.
    expect(failed.items[0]).toMatchObject({
      idempotencyKey: 'api-duplicate',
      state: 'failed',
      error: { name: 'AlreadyWritten', args: [w.world.key('api-0')] },
      receipt: { status: 'reverted' },
    });
    expect(failed.items[0].sequence).not.toBeNull();
    expect(await w.effects(['api-0', 'api-duplicate'])).toEqual([1, 0]);
    expect((await get('/api/tx?kind=ledger.factory')).json().items).toEqual([]);
    expect((await get('/api/tx?kind=ledger.write')).json().items).toHaveLength(4);

    const confirmed = list.items[1];
    const one = await get(`/api/tx/${confirmed.id}`);
    expect(one.statusCode).toBe(200);
    const body = one.json();
    expect(body).toMatchObject({ id: confirmed.id, state: 'confirmed', kind: 'ledger.write', functionName: 'writeOnce', chain: 'evm:31337', reorgs: 0 });
    expect(body.transactions).toHaveLength(1);
    expect(body.transactions[0]).toMatchObject({ id: body.transactionId, status: 'mined', sequence: body.sequence });
    expect(body.receipt.status).toBe('success');
    expect(body.events.find((e: { name: string }) => e.name === 'Written').args).toEqual({ key: w.world.key('api-2'), value: '1', writer: w.account.address.toLowerCase() });

    for (const [url, status] of [
      ['/api/tx/999999', 404],
      ['/api/tx/abc', 400],
      ['/api/tx/0', 400],
      ['/api/tx/-1', 400],
      ['/api/tx/99999999999999999999999', 400],
      // Over PostgreSQL's bigint: a 400, not the database's error.
      ['/api/tx/9223372036854775808', 400],
      ['/api/tx?cursor=9999999999999999999', 400],
      ['/api/tx?kind=ledger%00write', 400],
      ['/api/tx?state=done', 400],
      ['/api/tx?limit=0', 400],
      ['/api/tx?limit=many', 400],
      ['/api/tx?cursor=x', 400],
    ] as const) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
    }
    const openapi = (await server.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/tx', '/api/tx/{id}']));
    await server.close();
  });

  it('needs an API key: 401 without one; a key reads only the intents it submitted (another key\'s is a 404), an admin key reads all', async () => {
    const w = await ledgerRelayerWorld();
    const { pool } = w.database;
    // The same role and scope: what a key reads follows the key, not its grant.
    const alice = await createApiKey(pool, { roles: ['ledger.writer'], scope: { signer: w.account.address.toLowerCase() } }, 'alice');
    const bob = await createApiKey(pool, { roles: ['ledger.writer'], scope: { signer: w.account.address.toLowerCase() } }, 'bob');
    const admin = await createApiKey(pool, { roles: ['admin'] }, 'operations');
    const [mine, theirs, nobodys] = await w.submit([
      { ...w.writeOnce('alice-1'), submittedBy: alice.id },
      { ...w.writeOnce('bob-1'), submittedBy: bob.id },
      w.writeOnce('from-the-app'),
    ]);
    const server = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', routes: [(app) => intentRoutes(app, pool)] });
    const as = (key: string | undefined, url: string) => server.inject({ url, headers: key ? { authorization: `Bearer ${key}` } : {} });
    const keys = async (key: string) => (await as(key, '/api/tx')).json().items.map((i: { idempotencyKey: string }) => i.idempotencyKey);

    for (const [key, url] of [
      [undefined, '/api/tx'],
      [undefined, `/api/tx/${mine!.id}`],
      ['lsk_000000000000_' + 'A'.repeat(43), '/api/tx'],
      ['not a key', `/api/tx/${mine!.id}`],
    ] as const) {
      const res = await as(key, url);
      expect(res.statusCode, `${key} ${url}`).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }

    expect((await as(alice.key, `/api/tx/${mine!.id}`)).json()).toMatchObject({ id: String(mine!.id), idempotencyKey: 'alice-1' });
    const hidden = await as(alice.key, `/api/tx/${theirs!.id}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.headers['content-type']).toContain('application/problem+json');
    // The same answer as for an intent that does not exist.
    expect(hidden.json().detail).toBe(`no intent ${theirs!.id}`);
    expect((await as(alice.key, `/api/tx/${nobodys!.id}`)).statusCode).toBe(404);
    expect(await keys(alice.key)).toEqual(['alice-1']);
    expect(await keys(bob.key)).toEqual(['bob-1']);

    expect(await keys(admin.key)).toEqual(['from-the-app', 'bob-1', 'alice-1']);
    for (const intent of [mine, theirs, nobodys]) expect((await as(admin.key, `/api/tx/${intent!.id}`)).statusCode).toBe(200);
    await server.close();
  });
});
