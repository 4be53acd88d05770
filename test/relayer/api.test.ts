import { describe, expect, it } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import { intentRoutes } from '../../src/relayer/routes.js';
import { createLogger } from '../../src/runtime/logger.js';
import { relayerWorld } from '../harness/relayer.js';

describe('GET /api/tx', () => {
  it('shows each intent with its hashes, receipt, events and error; lists with filters and cursors; rejects bad input with problem+json', async () => {
    const w = await relayerWorld({ finalityDepth: 0 });
    const first = w.issue('api-0');
    await w.submit([first, w.issue('api-1'), w.issue('api-2'), { ...first, idempotencyKey: 'api-duplicate' }]);
    await w.startRelayer();
    await w.settled();
    const server = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', routes: [(app) => intentRoutes(app, w.database.pool)] });

    const list = (await server.inject({ url: '/api/tx?limit=2' })).json();
    expect(list.items.map((i: { idempotencyKey: string }) => i.idempotencyKey)).toEqual(['api-duplicate', 'api-2']);
    const rest = (await server.inject({ url: `/api/tx?limit=2&cursor=${list.nextCursor}` })).json();
    expect(rest.items.map((i: { idempotencyKey: string }) => i.idempotencyKey)).toEqual(['api-1', 'api-0']);
    expect(rest.nextCursor).toBeNull();

    const failed = (await server.inject({ url: '/api/tx?state=failed' })).json();
    expect(failed.items).toHaveLength(1);
    // Simulated before the original was mined, so sent; it reverted on chain, and the reason is decoded from a replay.
    expect(failed.items[0]).toMatchObject({ idempotencyKey: 'api-duplicate', state: 'failed', error: { name: 'FingerprintAlreadyUsed' }, receipt: { status: 'reverted' } });
    expect(failed.items[0].nonce).not.toBeNull();
    expect((await server.inject({ url: '/api/tx?kind=credentials.revoke' })).json().items).toEqual([]);

    const confirmed = list.items[1];
    const one = await server.inject({ url: `/api/tx/${confirmed.id}` });
    expect(one.statusCode).toBe(200);
    const body = one.json();
    expect(body).toMatchObject({ id: confirmed.id, state: 'confirmed', kind: 'credentials.issue', functionName: 'issueCredential', chainId: 31337, reorgs: 0 });
    expect(body.transactions).toHaveLength(1);
    expect(body.transactions[0]).toMatchObject({ hash: body.transactionHash, status: 'mined', nonce: body.nonce });
    expect(body.receipt.status).toBe('success');
    expect(body.events.find((e: { eventName: string }) => e.eventName === 'CredentialIssued').args.metadataURI).toBe('api-2');

    for (const [url, status] of [
      ['/api/tx/999999', 404],
      ['/api/tx/abc', 400],
      ['/api/tx/0', 400],
      ['/api/tx/-1', 400],
      ['/api/tx/99999999999999999999999', 400],
      ['/api/tx?state=done', 400],
      ['/api/tx?limit=0', 400],
      ['/api/tx?limit=many', 400],
      ['/api/tx?cursor=x', 400],
    ] as const) {
      const res = await server.inject({ url });
      expect(res.statusCode, url).toBe(status);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
    }
    const openapi = (await server.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/tx', '/api/tx/{id}']));
    await server.close();
  });
});
