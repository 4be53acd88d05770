import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { privateKeyToAccount } from 'viem/accounts';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { createApiKey, revokeApiKey } from '../../../src/http/api-keys.js';
import { formatAmount, parseSendAmount } from '../../../src/apps/payments/graphql/amounts.js';
import { paymentsWorld, EVM_CHAIN, type PaymentsWorld } from '../../harness/payments-world.js';
import { DEV_KEYS } from './dev-keys.js';
import { until } from '../../harness/until.js';

interface GraphqlResponse<D = Record<string, unknown>> {
  status: number;
  data: D | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

/** A GraphQL call as a client makes it: POST JSON, with the key if given. */
function graphqlClient(world: PaymentsWorld) {
  return async <D = Record<string, unknown>>(key: string | undefined, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphqlResponse<D>> => {
    const response = await fetch(`${world.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Omit<GraphqlResponse<D>, 'status'>;
    return { status: response.status, ...body };
  };
}

const codes = (response: GraphqlResponse) => (response.errors ?? []).map((e) => e.extensions?.code);

/** Users ana (custodial account: dev key 1) and ben, and their keys; an admin's; a key of another app's role. */
async function people(world: PaymentsWorld) {
  const pool = world.pool();
  const ana = await ensureUser(pool, { externalRef: 'user-ana', displayName: 'Ana' });
  const ben = await ensureUser(pool, { externalRef: 'user-ben', locale: 'en' });
  const anaAccount = await addAccount(pool, { userId: ana.id, chain: EVM_CHAIN, address: privateKeyToAccount(DEV_KEYS[1]).address, custody: 'custodial' });
  const benAccount = await addAccount(pool, { userId: ben.id, chain: EVM_CHAIN, address: '0x00000000000000000000000000000000000b0b0b' });
  const key = async (scope: Record<string, string>, roles = ['payments.user']) => (await createApiKey(pool, { roles, scope }, 'test')).key;
  return {
    ana,
    ben,
    anaAccount,
    benAccount,
    anaKey: await key({ user: ana.id }),
    benKey: await key({ user: ben.id }),
    adminKey: await key({}, ['admin']),
    issuerKey: await key({ investor: '1' }, ['issuer.investor']),
  };
}

describe('payments GraphQL API', () => {
  it('documents every type and field, authenticates per user, reads accounts and history, and answers every error with a code', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start(['api']);
    const gql = graphqlClient(world);
    const pool = world.pool();
    const p = await people(world);

    // The schema as served documents itself: every type, field, argument, input field and enum value has a description.
    const introspection = await gql<IntrospectionQuery>(undefined, getIntrospectionQuery({ inputValueDeprecation: true }));
    expect(introspection.errors).toBeUndefined();
    const ours = introspection.data!.__schema.types.filter((t) => !t.name.startsWith('__') && !['String', 'Boolean', 'ID', 'Int', 'Float'].includes(t.name));
    const undocumented: string[] = [];
    for (const type of ours) {
      if (!type.description?.trim()) undocumented.push(type.name);
      // Introspection's JSON has null where a kind has no such list (an enum's fields).
      const lists = type as { fields?: Array<{ name: string; description?: string | null; args: Array<{ name: string; description?: string | null }> }> | null; inputFields?: Array<{ name: string; description?: string | null }> | null; enumValues?: Array<{ name: string; description?: string | null }> | null };
      const fields = lists.fields ?? [];
      for (const field of fields) {
        if (!field.description?.trim()) undocumented.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (!arg.description?.trim()) undocumented.push(`${type.name}.${field.name}(${arg.name})`);
      }
      for (const input of lists.inputFields ?? []) if (!input.description?.trim()) undocumented.push(`${type.name}.${input.name}`);
      for (const value of lists.enumValues ?? []) if (!value.description?.trim()) undocumented.push(`${type.name}.${value.name}`);
    }
    expect(undocumented).toEqual([]);
    expect(ours.length).toBeGreaterThan(15);
    const rootFields = (name: string) => (introspection.data!.__schema.types.find((t) => t.name === name) as unknown as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
    expect(rootFields('Query')).toEqual(['me', 'user', 'account', 'balance', 'transactions', 'pendingSends']);
    expect(rootFields('Mutation')).toEqual(['send', 'prepareSend', 'sendSigned']);
    expect(rootFields('Subscription')).toEqual(['paymentReceived']);
    // GraphiQL is off (it loads code from unpkg.com): only with NODE_ENV=development.
    expect((await fetch(`${world.base}/graphiql`)).status).toBe(404);

    // Authentication: none, malformed, unknown, revoked → UNAUTHENTICATED (HTTP 200: the operation ran, the errors are in the body).
    const me = '{ me { id externalRef displayName locale accounts { id chain address custody active } account(chain: "evm:31337") { id } } }';
    const noKey = await gql(undefined, me);
    expect(noKey.status).toBe(200);
    expect(noKey.data).toBeNull();
    expect(codes(noKey)).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql('lsk_000000000000_nonsense', me))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(undefined, me, undefined, { authorization: `Basic ${p.anaKey}` }))).toEqual(['UNAUTHENTICATED']);
    const revoked = await createApiKey(pool, { roles: ['payments.user'], scope: { user: p.ana.id } }, 'revoked');
    expect(codes(await gql(revoked.key, me))).toEqual([]);
    await revokeApiKey(pool, revoked.id);
    expect(codes(await gql(revoked.key, me))).toEqual(['UNAUTHENTICATED']);
    // A key of another app: authenticated, but no payments user.
    expect(codes(await gql(p.issuerKey, me))).toEqual(['FORBIDDEN']);

    // The user's own: me, their accounts, the account on a chain.
    const mine = await gql<{ me: { id: string; accounts: unknown[]; account: { id: string } } }>(p.anaKey, me);
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.me).toEqual({
      id: p.ana.id,
      externalRef: 'user-ana',
      displayName: 'Ana',
      locale: 'es',
      accounts: [{ id: p.anaAccount.id, chain: EVM_CHAIN, address: p.anaAccount.address, custody: 'CUSTODIAL', active: true }],
      account: { id: p.anaAccount.id },
    });
    expect((await gql(p.anaKey, '{ account(chain: "evm:31337") { id } none: account(chain: "sui:testnet") { id } }')).data).toEqual({ account: { id: p.anaAccount.id }, none: null });

    // Another user's: FORBIDDEN, for each way of naming it; an admin reads anyone but is no user itself.
    expect(codes(await gql(p.anaKey, `{ user(id: "${p.ben.id}") { id } }`))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(p.anaKey, `{ account(chain: "evm:31337", user: "${p.ben.id}") { id } }`))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(p.anaKey, `{ transactions(account: "${p.benAccount.id}") { edges { cursor } } }`))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(p.anaKey, `{ pendingSends(account: "${p.benAccount.id}") { id } }`))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(p.benKey, `{ transactions(account: "${p.anaAccount.id}") { edges { cursor } } }`))).toEqual(['FORBIDDEN']);
    expect((await gql(p.adminKey, `{ user(id: "${p.ben.id}") { locale accounts { id } } }`)).data).toEqual({ user: { locale: 'en', accounts: [{ id: p.benAccount.id }] } });
    expect(codes(await gql(p.adminKey, me))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(p.adminKey, '{ account(chain: "evm:31337") { id } }'))).toEqual(['BAD_USER_INPUT']);

    // Invalid input is BAD_USER_INPUT (never INTERNAL); what does not exist, NOT_FOUND.
    expect(codes(await gql(p.anaKey, '{ transactions(account: "abc") { edges { cursor } } }'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(p.anaKey, '{ transactions(account: "99999999999999999999") { edges { cursor } } }'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(p.anaKey, '{ transactions(account: "424242") { edges { cursor } } }'))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(p.adminKey, '{ user(id: "424242") { id } }'))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(p.anaKey, `{ transactions(account: "${p.anaAccount.id}", first: 0) { edges { cursor } } }`))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(p.anaKey, `{ transactions(account: "${p.anaAccount.id}", first: 101) { edges { cursor } } }`))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(p.anaKey, `{ transactions(account: "${p.anaAccount.id}", after: "not-a-cursor") { edges { cursor } } }`))).toEqual(['BAD_USER_INPUT']);
    const wrongType = await gql(p.anaKey, 'query ($n: Int) { transactions(account: "1", first: $n) { edges { cursor } } }', { n: 'twenty' });
    expect([wrongType.status, codes(wrongType)]).toEqual([400, ['BAD_USER_INPUT']]);
    // Not GraphQL, or not this schema's: refused before anything runs (400).
    const syntax = await gql(p.anaKey, '{ me { id }');
    expect([syntax.status, codes(syntax)]).toEqual([400, ['GRAPHQL_PARSE_FAILED']]);
    const unknownField = await gql(p.anaKey, '{ me { password } }');
    expect([unknownField.status, codes(unknownField)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    const deep = await gql(undefined, `{ __schema { types { ${'ofType { '.repeat(16)}name${' }'.repeat(16)} } } }`);
    expect(codes(deep)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const wide = await gql(p.anaKey, `{ ${Array.from({ length: 301 }, (_, i) => `a${i}: me { id }`).join(' ')} }`);
    expect(codes(wide)).toContain('GRAPHQL_VALIDATION_FAILED');
    const mutationByGet = await fetch(`${world.base}/graphql?query=${encodeURIComponent('mutation { send(input: {account: "1", to: "0x0", amount: "1", idempotencyKey: "k"}) { id } }')}`, {
      headers: { authorization: `Bearer ${p.anaKey}` },
    });
    expect((await mutationByGet.json()) as unknown).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    const notJson = await fetch(`${world.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect([notJson.status, codes((await notJson.json()) as GraphqlResponse)]).toEqual([400, ['BAD_REQUEST']]);

    // A failure of ours is INTERNAL: a generic message and the request id, no SQL, no stack.
    await pool.query('alter table payment_sends rename to payment_sends_away');
    try {
      const internal = await gql(p.anaKey, `{ pendingSends(account: "${p.anaAccount.id}") { id } }`, undefined, { 'x-request-id': 'graphql-internal-1' });
      expect(internal.status).toBe(200);
      expect(internal.errors).toEqual([{ message: 'internal error; the request id identifies it in the logs', path: ['pendingSends'], extensions: { code: 'INTERNAL', requestId: 'graphql-internal-1' } }]);
    } finally {
      await pool.query('alter table payment_sends_away rename to payment_sends');
    }
    // No error anywhere above carried more than its message, locations, path and code.
    expect(JSON.stringify(noKey)).not.toMatch(/stack|exception/i);

    // History: newest first, paged by opaque cursors, ties in a block kept apart by event index, a transfer to oneself once.
    const record = (block: number, index: number, from: string | null, to: string | null, amount: string, kind = 'transfer') =>
      pool.query(
        `insert into payment_transactions (chain, transaction_id, event_index, kind, token, amount, sender_address, recipient_address, sender_account, recipient_account, block_number, block_timestamp)
         values ($1, $2, $3, $4, 'cUSD', $5, $6, $7, (select id from payment_accounts where address = $6), (select id from payment_accounts where address = $7), $8, $9)`,
        [EVM_CHAIN, `0x${block.toString(16).padStart(64, '0')}`, index, kind, amount, from, to, block, 1_700_000_000 + block],
      );
    const ana = p.anaAccount.address;
    const ben = p.benAccount.address;
    const outsider = '0x00000000000000000000000000000000000000ee';
    await record(10, 0, outsider, ana, '5000000');
    await record(11, 3, ana, ben, '1250000');
    await record(11, 7, ben, ana, '1');
    await record(12, 1, ana, ana, '7000000');
    await record(13, 0, ben, outsider, '9');
    await record(14, 2, ana, outsider, '2000000', 'payment');
    type Page = { transactions: { edges: Array<{ cursor: string; node: Record<string, unknown> }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const page = async (after?: string) =>
      (
        await gql<Page>(
          p.anaKey,
          `query ($a: ID!, $after: String) { transactions(account: $a, first: 2, after: $after) {
            edges { cursor node { id blockNumber eventIndex kind direction amount amountFormatted sender recipient timestamp status } }
            pageInfo { hasNextPage endCursor } } }`,
          { a: p.anaAccount.id, after },
        )
      ).data!.transactions;
    const pages: Page['transactions'][] = [await page()];
    while (pages.at(-1)!.pageInfo.hasNextPage) pages.push(await page(pages.at(-1)!.pageInfo.endCursor!));
    expect(pages.map((pg) => pg.edges.length)).toEqual([2, 2, 1]);
    const nodes = pages.flatMap((pg) => pg.edges.map((e) => e.node));
    expect(nodes.map((n) => [n.blockNumber, n.eventIndex, n.direction, n.amountFormatted])).toEqual([
      ['14', 2, 'SENT', '2.00'],
      ['12', 1, 'SELF', '7.00'],
      ['11', 7, 'RECEIVED', '0.000001'],
      ['11', 3, 'SENT', '1.25'],
      ['10', 0, 'RECEIVED', '5.00'],
    ]);
    expect(nodes[0]).toMatchObject({ kind: 'PAYMENT', status: 'CONFIRMED', sender: ana, recipient: outsider, timestamp: new Date((1_700_000_000 + 14) * 1000).toISOString() });
    expect(pages.at(-1)!.pageInfo.endCursor).not.toBeNull();
    // A record arriving while paging does not shift the pages already read: cursors are positions.
    await record(15, 0, outsider, ana, '3');
    expect((await page(pages[0]!.pageInfo.endCursor!)).edges.map((e) => e.node.blockNumber)).toEqual(['11', '11']);
    // Ben sees the same records from his side, and only those that are his.
    const benPage = await gql<Page>(p.benKey, `{ transactions(account: "${p.benAccount.id}", first: 10) { edges { node { blockNumber direction } } pageInfo { hasNextPage } } }`);
    expect(benPage.data!.transactions.edges.map((e) => [e.node.blockNumber, e.node.direction])).toEqual([['13', 'SENT'], ['11', 'SENT'], ['11', 'RECEIVED']]);
    expect(benPage.data!.transactions.pageInfo.hasNextPage).toBe(false);
    // The nested field reads the same history.
    const nested = await gql<{ me: { accounts: Array<{ transactions: Page['transactions'] }> } }>(p.anaKey, '{ me { accounts { transactions(first: 1) { edges { node { blockNumber } } } } } }');
    expect(nested.data!.me.accounts[0]!.transactions.edges.map((e) => e.node.blockNumber)).toEqual(['15']);

    // Balances: a critical read reads the chain (and caches it), a display read is the cache.
    await world.mint(p.anaAccount.address as `0x${string}`, 10_000_000n);
    const balanceQuery = 'query ($a: ID!, $c: Boolean, $t: String) { balance(account: $a, critical: $c, token: $t) { account token amount amountFormatted pendingOut pendingIn available availableFormatted height lastSynced stale source } }';
    type BalanceData = { balance: Record<string, unknown> };
    const critical = await gql<BalanceData>(p.anaKey, balanceQuery, { a: p.anaAccount.id, c: true });
    expect(critical.errors).toBeUndefined();
    expect(critical.data!.balance).toMatchObject({ account: p.anaAccount.id, token: 'cUSD', amount: '10000000', amountFormatted: '10.00', pendingOut: '0', available: '10000000', stale: false, source: 'CHAIN' });
    expect(BigInt(critical.data!.balance.height as string)).toBeGreaterThan(0n);
    expect((await gql<BalanceData>(p.anaKey, balanceQuery, { a: p.anaAccount.id })).data!.balance).toMatchObject({ amount: '10000000', source: 'CACHE' });
    expect(codes(await gql(p.anaKey, balanceQuery, { a: p.benAccount.id }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(p.anaKey, balanceQuery, { a: p.anaAccount.id, t: 'DOGE' }))).toEqual(['BAD_USER_INPUT']);
    // One request cannot fan out into many chain reads.
    const fanOut = await gql(p.anaKey, `{ ${Array.from({ length: 11 }, (_, i) => `b${i}: balance(account: "${p.anaAccount.id}", critical: true) { amount }`).join(' ')} }`);
    expect(codes(fanOut)).toEqual(['BAD_USER_INPUT']);

    // Sends from the custodial account: reserved against the chain's balance, pending until the chain answers (no worker runs here).
    const sendMutation = `mutation ($input: SendInput!) { send(input: $input) { id account state mode token to amount amountFormatted intentId idempotencyKey transactionId error settledAt } }`;
    type SendData = { send: Record<string, unknown> };
    const send = (key: string, input: Record<string, unknown>) => gql<SendData>(key, sendMutation, { input: { account: p.anaAccount.id, to: p.benAccount.address, idempotencyKey: 'pay-ben-1', ...input } });
    // Send ids from 9 on: the pending list below crosses a power of ten, where an order on the ids as text would break.
    await pool.query(`select setval('payment_sends_id_seq', 8)`);
    const sent = await send(p.anaKey, { amountFormatted: '4.5' });
    expect(sent.errors).toBeUndefined();
    expect(sent.data!.send.id).toBe('9');
    expect(sent.data!.send).toMatchObject({ account: p.anaAccount.id, state: 'PENDING', mode: 'CUSTODIAL', token: 'cUSD', to: p.benAccount.address, amount: '4500000', amountFormatted: '4.50', idempotencyKey: 'pay-ben-1', transactionId: null, settledAt: null });
    // The same request again is the same send; the same key for something else is a conflict.
    expect((await send(p.anaKey, { amount: '4500000' })).data!.send.id).toBe(sent.data!.send.id);
    expect(codes(await send(p.anaKey, { amount: '4500001' }))).toEqual(['IDEMPOTENCY_CONFLICT']);
    const afterSend = (await gql<BalanceData>(p.anaKey, balanceQuery, { a: p.anaAccount.id })).data!.balance;
    expect(afterSend).toMatchObject({ amount: '10000000', pendingOut: '4500000', available: '5500000', availableFormatted: '5.50' });
    expect((await gql<BalanceData>(p.adminKey, balanceQuery, { a: p.benAccount.id })).data!.balance).toMatchObject({ pendingIn: '4500000' });
    const pending = await gql<{ pendingSends: Array<{ id: string }> }>(p.anaKey, `{ pendingSends(account: "${p.anaAccount.id}") { id } }`);
    expect(pending.data!.pendingSends).toEqual([{ id: sent.data!.send.id }]);
    // More than is available: refused, nothing reserved.
    expect(codes(await send(p.anaKey, { amount: '5500001', idempotencyKey: 'pay-ben-2' }))).toEqual(['INSUFFICIENT_FUNDS']);
    expect((await gql<BalanceData>(p.anaKey, balanceQuery, { a: p.anaAccount.id })).data!.balance).toMatchObject({ pendingOut: '4500000' });
    // Invalid input: BAD_USER_INPUT, never INTERNAL.
    for (const input of [{ amount: '5.0' }, { amount: '0' }, { amount: '-3' }, { amount: 'five' }, { amount: '1', amountFormatted: '1' }, {}, { amount: '1', to: '0x123' }, { amount: '1', to: p.anaAccount.address }, { amount: '1', idempotencyKey: '' }]) {
      expect(codes(await send(p.anaKey, { idempotencyKey: 'pay-bad', ...input })), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
    }
    expect(codes(await gql(p.anaKey, sendMutation, { input: { account: p.anaAccount.id, to: p.benAccount.address, amount: 5, idempotencyKey: 'k' } }))).toEqual(['BAD_USER_INPUT']);
    // Ben's account is his to sign on his device; Ana's is not his to send from.
    expect(codes(await gql(p.benKey, sendMutation, { input: { account: p.benAccount.id, to: p.anaAccount.address, amount: '1', idempotencyKey: 'ben-1' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send(p.benKey, { amount: '1', idempotencyKey: 'ben-2' }))).toEqual(['FORBIDDEN']);
    // Another pending send (id 10 or more): the list is newest first.
    const another = await send(p.anaKey, { amount: '1000000', idempotencyKey: 'pay-ben-3' });
    expect(BigInt(another.data!.send.id as string)).toBeGreaterThanOrEqual(10n);
    expect((await gql<{ pendingSends: Array<{ id: string }> }>(p.anaKey, `{ pendingSends(account: "${p.anaAccount.id}") { id } }`)).data!.pendingSends).toEqual([
      { id: another.data!.send.id },
      { id: sent.data!.send.id },
    ]);

    // Real records: transfers made on anvil by wallets outside the platform (Eve's device among them), recorded by the poller, read back page by page.
    await world.start(['indexer']);
    const outside = await world.wallet();
    const eveWallet = await world.wallet();
    const eve = await ensureUser(pool, { externalRef: 'user-eve' });
    const eveAccount = await addAccount(pool, { userId: eve.id, chain: EVM_CHAIN, address: eveWallet.address });
    const eveKey = (await createApiKey(pool, { roles: ['payments.user'], scope: { user: eve.id } }, 'eve')).key;
    await world.mint(outside.address, 100_000_000n);
    const receipts: Array<{ transactionHash: string; blockNumber: bigint }> = [];
    for (const amount of [1_000_000n, 2_000_000n, 3_000_000n]) receipts.push(await outside.transfer(eveWallet.address, amount));
    receipts.push(await eveWallet.transfer(outside.address, 500_000n));
    type EvePage = { transactions: { edges: Array<{ cursor: string; node: Record<string, unknown> }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const evePage = async (after?: string) =>
      (
        await gql<EvePage>(eveKey, 'query ($a: ID!, $after: String) { transactions(account: $a, first: 3, after: $after) { edges { node { transactionId direction amount sender recipient blockNumber } } pageInfo { hasNextPage endCursor } } }', {
          a: eveAccount.id,
          after,
        })
      ).data!.transactions;
    const first = await until(async () => {
      const got = await evePage();
      return got.edges.length === 3 && got.edges[0]!.node.transactionId === receipts[3]!.transactionHash && got;
    }, 'the transfers recorded by the poller', 30_000);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await evePage(first.pageInfo.endCursor!);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const expected = (r: (typeof receipts)[number], direction: string, amount: string, from: string, to: string) => ({ transactionId: r.transactionHash, direction, amount, sender: from, recipient: to, blockNumber: String(r.blockNumber) });
    expect([...first.edges, ...second.edges].map((e) => e.node)).toEqual([
      expected(receipts[3]!, 'SENT', '500000', eveWallet.address, outside.address),
      expected(receipts[2]!, 'RECEIVED', '3000000', outside.address, eveWallet.address),
      expected(receipts[1]!, 'RECEIVED', '2000000', outside.address, eveWallet.address),
      expected(receipts[0]!, 'RECEIVED', '1000000', outside.address, eveWallet.address),
    ]);
  });

  it('reads amounts in base units or whole units, and formats them with the token decimals', () => {
    expect(parseSendAmount({ amount: '5000000' }, 'cUSD')).toBe(5_000_000n);
    expect(parseSendAmount({ amountFormatted: '5.25' }, 'cUSD')).toBe(5_250_000n);
    expect(parseSendAmount({ amountFormatted: '0.000001' }, 'cUSD')).toBe(1n);
    expect(parseSendAmount({ amountFormatted: '7' }, 'cUSD')).toBe(7_000_000n);
    for (const bad of [{ amount: '5.0' }, { amount: '-1' }, { amount: '0' }, { amount: '1e6' }, { amount: ' 1' }, { amountFormatted: '1.0000001' }, { amountFormatted: '.5' }, {}, { amount: '1', amountFormatted: '1' }, { amount: '9'.repeat(79) }]) {
      expect(() => parseSendAmount(bad, 'cUSD'), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
    expect(() => parseSendAmount({ amount: '1' }, 'DOGE')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    expect(formatAmount(5_000_000n, 'cUSD')).toBe('5.00');
    expect(formatAmount(5_123_456n, 'cUSD')).toBe('5.123456');
    expect(formatAmount(0n, 'cUSD')).toBe('0.00');
    expect(formatAmount(1n, 'DOGE')).toBeNull();
  });
});
