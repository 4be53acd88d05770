import { describe, expect, it } from 'vitest';
import { ensureUser } from '../../../src/apps/payments/accounts.js';
import { createApiKey } from '../../../src/http/api-keys.js';
import { paymentsWorld } from '../../harness/payments-world.js';

/**
 * The per-API-key write limit on the payments GraphQL API (RATE_LIMIT_PER_KEY,
 * src/apps/payments/graphql/write-limit.ts), on the api role as `ledgersync api`
 * runs it: the mutations that submit or reserve count; reads do not; each key
 * has its own minute.
 */
describe('payments GraphQL write limit', () => {
  it('refuses the writes of a key past its limit per minute with RATE_LIMITED, send and prepareSend alike, never reads or other keys', async () => {
    const world = await paymentsWorld({ extraEnv: { RATE_LIMIT_PER_KEY: '4' } });
    await world.start(['api']);
    const pool = world.pool();
    const keyOf = async (ref: string) => (await createApiKey(pool, { roles: ['payments.user'], scope: { user: (await ensureUser(pool, { externalRef: ref })).id } }, 'test')).key;
    const [ana, ben] = [await keyOf('ana'), await keyOf('ben')];
    const graphql = async (key: string, query: string) => {
      const response = await fetch(`${world.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });
      return (await response.json()) as { data: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    };
    const codes = (r: { errors?: Array<{ extensions?: { code?: string } }> }) => (r.errors ?? []).map((e) => e.extensions?.code);
    // Writes about an account that does not exist: each is counted before it is looked at.
    const send = (alias: string) => `${alias}: send(input: { account: "999", to: "0x00000000000000000000000000000000000b0b0b", amountFormatted: "1.00", idempotencyKey: "${alias}" }) { state }`;
    const prepare = `p: prepareSend(input: { account: "999", to: "0x00000000000000000000000000000000000b0b0b", amountFormatted: "1.00" }) { chain }`;

    // A mutation that fails ends its document (its field is non-null), so each document here holds one.
    for (const mutation of [send('a'), send('b'), prepare, send('c')]) expect(codes(await graphql(ana, `mutation { ${mutation} }`))).toEqual(['NOT_FOUND']);
    // The fifth write of the minute.
    const refused = await graphql(ana, `mutation { ${send('d')} }`);
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.errors![0]!.message).toMatch(/^rate limit: 4 writes per minute for this API key; retry in \d+ s$/);
    // Reads go on; another key has its own minute.
    expect(await graphql(ana, '{ me { id } }')).toMatchObject({ data: { me: { id: expect.any(String) } } });
    expect(codes(await graphql(ben, `mutation { ${send('a')} }`))).toEqual(['NOT_FOUND']);
  });
});
