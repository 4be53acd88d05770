/**
 * The payments poller on Sui: Confío's packages on the simulator (plain cUSD
 * transfers that emit no event, a Pay payment, a trade completed and one
 * cancelled) end as the records the simulator's ground truth implies; and the
 * same Sui cUSD handler, configured with another coin type as the cUSD-like
 * token, derives transfers from real recorded chain data (test/vectors/sui).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { randomBytes } from 'node:crypto';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { decodeCheckpoint } from '../../../src/chain/sui/indexer/decode.js';
import { suiFilter } from '../../../src/chain/sui/indexer/filter.js';
import type { SuiLedger } from '../../../src/chain/sui/simulator/ledger.js';
import { groupByTransaction, paymentsHandlers, paymentsSources, type TradeBook } from '../../../src/apps/payments/poller/index.js';
import type { SuiPaymentsChain } from '../../../src/apps/payments/settings.js';
import { loadSuiVectors } from '../../vectors/sui/index.js';
import { paymentsWorld, SUI_CHAIN } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';
import { CLI_WITH_TS_CONFIG, runCli } from '../../harness/cli.js';
import type { RecordRow as StoredRecord } from '../../../src/apps/payments/graphql/history.js';
import { createApiKey } from '../../../src/http/api-keys.js';

const cusd = (units: number) => BigInt(Math.round(units * 1_000_000));

type RecordRow = Pick<StoredRecord, 'transaction_id' | 'event_index' | 'kind' | 'token' | 'amount' | 'fee' | 'sender_address' | 'recipient_address' | 'reference'>;

/** Where the engine puts an item of a checkpoint: every transaction's Transaction item, events, then balance changes. */
function truth(ledger: SuiLedger, seq: number, digest: string) {
  let base = 0;
  for (const tx of ledger.checkpoint(seq)!.transactions) {
    if (tx.digest === digest) {
      return {
        tx,
        change: (address: string) => {
          const i = tx.balanceChanges.findIndex((c) => c.address === address && c.coinType === ledger.confio.cusdType);
          if (i < 0) throw new Error(`${digest} changes no cUSD balance of ${address}`);
          return { eventIndex: base + 1 + tx.events.length + i, amount: tx.balanceChanges[i]!.amount };
        },
        event: (name: string) => base + 1 + tx.events.findIndex((e) => e.eventType.endsWith(`::${name}`)),
      };
    }
    base += 1 + tx.events.length + tx.balanceChanges.length;
  }
  throw new Error(`${digest} is not in checkpoint ${seq}`);
}

describe('payments poller (Sui, simulator)', () => {
  it('derives transfers from balance changes, and payments and escrow steps from Confío events, with their pushes', async () => {
    const world = await paymentsWorld({ withSui: true });
    const ledger = world.sui!.ledger;
    const confio = ledger.confio;
    await world.start(['api', 'indexer', 'worker']);
    const pool = world.pool();

    const address = () => normalizeSuiAddress(`0x${randomBytes(32).toString('hex')}`);
    const people = { ana: { address: address(), push: 'sui-ana', name: 'Ana' }, ben: { address: address(), push: 'sui-ben', name: 'Ben' }, carla: { address: address(), push: null, name: 'Carla' }, shop: { address: address(), push: 'sui-shop', name: 'Tienda' } };
    const accountOf = new Map<string, string>();
    for (const [ref, p] of Object.entries(people)) {
      const user = await ensureUser(pool, { externalRef: ref, displayName: p.name, ...(p.push ? { push: { provider: 'webhook', target: p.push } } : {}) });
      accountOf.set(p.address, (await addAccount(pool, { userId: user.id, chain: SUI_CHAIN, address: p.address })).id);
    }
    const { ana, ben, carla, shop } = people;
    const outsider = address();
    // The subscription feed, as a subscriber hears it.
    const feed: Array<Record<string, unknown>> = [];
    const listener = await pool.connect();
    // The API's own feed listener checks its connection with heartbeats on the same channel: not records.
    listener.on('notification', (m) => m.payload!.startsWith('{') && feed.push(JSON.parse(m.payload!) as Record<string, unknown>));
    await listener.query('listen payments_received');
    onTestFinished(() => listener.release());

    const expected: RecordRow[] = [];
    const record = (digest: string, r: Omit<RecordRow, 'transaction_id' | 'token' | 'fee'> & { fee?: string }) => expected.push({ transaction_id: digest, token: 'cUSD', fee: '0', ...r });
    const step = (make: () => string) => {
      const digest = make();
      const seq = ledger.makeCheckpoint();
      return { digest, seq, at: truth(ledger, seq, digest) };
    };

    // A mint (no sender), plain and checked transfers (no event: balance changes only).
    let s = step(() => confio.mint(ana.address, cusd(100)));
    record(s.digest, { event_index: s.at.change(ana.address).eventIndex, kind: 'transfer', amount: String(cusd(100)), sender_address: null, recipient_address: ana.address, reference: null });
    s = step(() => confio.mint(outsider, cusd(50))); // to an address not ours: kept (it calls cusd), no record
    const outsiderMint = s.digest;
    s = step(() => confio.transfer(ana.address, ben.address, cusd(12.5)));
    expect(s.at.tx.events).toHaveLength(0);
    record(s.digest, { event_index: s.at.change(ben.address).eventIndex, kind: 'transfer', amount: String(cusd(12.5)), sender_address: ana.address, recipient_address: ben.address, reference: null });
    s = step(() => confio.transfer(ben.address, carla.address, cusd(1), { checked: true }));
    record(s.digest, { event_index: s.at.change(carla.address).eventIndex, kind: 'transfer', amount: String(cusd(1)), sender_address: ben.address, recipient_address: carla.address, reference: null });
    // From an outsider (its change is not followed: the transaction's sender is the sender) and to one (no recipient known).
    s = step(() => confio.transfer(outsider, ben.address, cusd(5)));
    record(s.digest, { event_index: s.at.change(ben.address).eventIndex, kind: 'transfer', amount: String(cusd(5)), sender_address: outsider, recipient_address: ben.address, reference: null });
    s = step(() => confio.transfer(ana.address, outsider, cusd(2)));
    record(s.digest, { event_index: s.at.change(ana.address).eventIndex, kind: 'transfer', amount: String(cusd(2)), sender_address: ana.address, recipient_address: null, reference: null });

    // A Pay payment: the payment only, its balance changes are not transfers too.
    s = step(() => confio.pay(ben.address, shop.address, cusd(10), 'INV-42'));
    expect(s.at.change(shop.address).amount).toBe(cusd(10) - 90_000n);
    record(s.digest, { event_index: s.at.event('PaymentMade'), kind: 'payment', amount: String(cusd(10)), fee: '90000', sender_address: ben.address, recipient_address: shop.address, reference: 'INV-42' });

    // A trade completed and one cancelled.
    s = step(() => confio.createTrade(ana.address, 't-1', cusd(20), { amount: 20_000n, currency: 'ARS' }));
    record(s.digest, { event_index: s.at.event('TradeCreated'), kind: 'escrow_created', amount: String(cusd(20)), sender_address: ana.address, recipient_address: null, reference: 't-1' });
    s = step(() => confio.acceptTrade(ben.address, 't-1'));
    record(s.digest, { event_index: s.at.event('TradeAccepted'), kind: 'escrow_paid', amount: String(cusd(20)), sender_address: ben.address, recipient_address: ana.address, reference: 't-1' });
    s = step(() => confio.releaseTrade(ana.address, 't-1'));
    record(s.digest, { event_index: s.at.event('TradeCompleted'), kind: 'escrow_released', amount: String(cusd(20)), sender_address: ana.address, recipient_address: ben.address, reference: 't-1' });
    s = step(() => confio.createTrade(ben.address, 't-2', cusd(3), { amount: 3_000n, currency: 'ARS' }));
    record(s.digest, { event_index: s.at.event('TradeCreated'), kind: 'escrow_created', amount: String(cusd(3)), sender_address: ben.address, recipient_address: null, reference: 't-2' });
    s = step(() => confio.cancelTrade(ben.address, 't-2', 'changed my mind'));
    record(s.digest, { event_index: s.at.event('TradeCancelled'), kind: 'escrow_cancelled', amount: String(cusd(3)), sender_address: ben.address, recipient_address: ben.address, reference: 't-2' });
    // A dispute: opened by the buyer of an accepted trade, resolved by the admin to the buyer.
    s = step(() => confio.createTrade(ana.address, 't-3', cusd(8), { amount: 8_000n, currency: 'ARS' }));
    record(s.digest, { event_index: s.at.event('TradeCreated'), kind: 'escrow_created', amount: String(cusd(8)), sender_address: ana.address, recipient_address: null, reference: 't-3' });
    s = step(() => confio.acceptTrade(ben.address, 't-3'));
    record(s.digest, { event_index: s.at.event('TradeAccepted'), kind: 'escrow_paid', amount: String(cusd(8)), sender_address: ben.address, recipient_address: ana.address, reference: 't-3' });
    s = step(() => confio.openDispute(ben.address, 't-3', 'no fiat received'));
    record(s.digest, { event_index: s.at.event('DisputeOpened'), kind: 'escrow_disputed', amount: String(cusd(8)), sender_address: ben.address, recipient_address: ana.address, reference: 't-3' });
    s = step(() => confio.resolveDispute('t-3', ben.address));
    record(s.digest, { event_index: s.at.event('DisputeResolved'), kind: 'escrow_resolved', amount: String(cusd(8)), sender_address: normalizeSuiAddress(confio.admin), recipient_address: ben.address, reference: 't-3' });
    const lastDigest = s.digest;

    await until(async () => (await pool.query('select 1 from payment_raw_events where transaction_id = $1', [lastDigest])).rowCount, 'the last Sui transaction indexed', 60_000);
    const { rows } = await pool.query<RecordRow & { sender_account: string | null; recipient_account: string | null }>(
      `select transaction_id, event_index, kind, token, amount::text, fee::text, sender_address, recipient_address, reference, sender_account::text, recipient_account::text
       from payment_transactions where chain = $1 order by block_number, event_index`,
      [SUI_CHAIN],
    );
    expect(rows.map(({ sender_account: _s, recipient_account: _r, ...r }) => r)).toEqual(expected);
    for (const row of rows) {
      expect(row.sender_account).toBe(row.sender_address ? (accountOf.get(row.sender_address) ?? null) : null);
      expect(row.recipient_account).toBe(row.recipient_address ? (accountOf.get(row.recipient_address) ?? null) : null);
    }

    // Raw rows: every relevant transaction, the outsiders' mint included (it calls Confío's cusd), with its items in order.
    const { rows: raw } = await pool.query<{ transaction_id: string; events: Array<{ name: string; eventIndex: number }> }>('select transaction_id, events from payment_raw_events where chain = $1', [SUI_CHAIN]);
    expect(new Set(raw.map((r) => r.transaction_id))).toEqual(new Set([...expected.map((r) => r.transaction_id), outsiderMint]));
    const payRaw = raw.find((r) => r.transaction_id === expected.find((e) => e.kind === 'payment')!.transaction_id)!;
    expect(payRaw.events.map((e) => e.name)).toEqual(['Transaction', 'PaymentMade', 'BalanceChange', 'BalanceChange']);

    // Every handler logged once per transaction, none failed.
    const { rows: log } = await pool.query<{ outcome: string; attempt: number; n: string }>('select outcome, attempt, count(*)::text as n from payment_processing_log group by outcome, attempt order by outcome');
    expect(log.every((l) => l.outcome !== 'failed' && l.attempt === 1)).toBe(true);
    expect(log.reduce((sum, l) => sum + Number(l.n), 0)).toBe(raw.length * 3);

    // Balances touched are stale; pushes in Spanish, one per record to each recipient with a device.
    const { rows: stale } = await pool.query<{ account_id: string }>('select account_id::text from payment_balances where stale order by account_id');
    expect(stale.map((r) => r.account_id)).toEqual([...accountOf.values()].sort());
    const expectedPushes = [
      { to: 'sui-ana', body: 'Recibiste 100,00 cUSD' },
      { to: 'sui-ben', body: 'Recibiste 12,50 cUSD de Ana' },
      { to: 'sui-ben', body: 'Recibiste 5,00 cUSD' },
      { to: 'sui-shop', body: 'Recibiste un pago de 10,00 cUSD de Ben (ref. INV-42)' },
      { to: 'sui-ben', body: 'Se liberaron 20,00 cUSD de la custodia' },
      { to: 'sui-ben', body: 'Se devolvieron 3,00 cUSD de la custodia' },
      { to: 'sui-ana', body: 'Tu intercambio de 8,00 cUSD está en disputa; lo revisaremos' },
      { to: 'sui-ben', body: 'Se liberaron 8,00 cUSD de la custodia' },
    ];
    await until(() => world.notifications.length >= expectedPushes.length, 'the Sui pushes delivered');
    // The feed: one message per record whose recipient is ours.
    const ours = rows.filter((r) => r.recipient_account !== null);
    expect(ours).toHaveLength(11);
    expect(feed).toEqual(
      ours.map((r) => ({
        accountId: r.recipient_account,
        userId: expect.any(String),
        chain: SUI_CHAIN,
        transactionId: r.transaction_id,
        eventIndex: r.event_index,
        kind: r.kind,
        token: 'cUSD',
        amount: r.amount,
        sender: r.sender_address,
        reference: r.reference,
        blockNumber: expect.any(String),
      })),
    );

    await new Promise((r) => setTimeout(r, 1500));
    const sort = (list: Array<{ to: string; body: string }>) => [...list].sort((a, b) => a.to.localeCompare(b.to) || a.body.localeCompare(b.body));
    expect(sort(world.notifications.map((n) => ({ to: n.to, body: n.body })))).toEqual(sort(expectedPushes));

    // GraphQL reads a Sui account as it reads an EVM one: Ben's history, newest first and paged, is his records with
    // their directions; a critical read gives the simulator's balance at a checkpoint, and the display read then the cache.
    const benAccount = accountOf.get(ben.address)!;
    const benUser = (await pool.query<{ user_id: string }>('select user_id::text from payment_accounts where id = $1', [benAccount])).rows[0]!.user_id;
    const benKey = (await createApiKey(pool, { roles: ['payments.user'], scope: { user: benUser } }, 'ben')).key;
    const gql = async <D>(query: string, variables: Record<string, unknown>): Promise<D> => {
      const response = await fetch(`${world.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${benKey}` }, body: JSON.stringify({ query, variables }) });
      const body = (await response.json()) as { data: D | null; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      return body.data!;
    };
    type Node = { transactionId: string; eventIndex: number; kind: string; direction: string; amount: string; sender: string | null; recipient: string | null; reference: string | null };
    type AccountPage = { account: { id: string; address: string; transactions: { edges: Array<{ node: Node }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } };
    type BalanceRead = { balance: { amount: string; height: string; stale: boolean; source: string } };
    const history: Node[] = [];
    for (let after: string | null = null, more = true; more; ) {
      const data: AccountPage = await gql<AccountPage>(
        `query ($c: String!, $after: String) { account(chain: $c) { id address transactions(first: 4, after: $after) {
          edges { node { transactionId eventIndex kind direction amount sender recipient reference } } pageInfo { hasNextPage endCursor } } } }`,
        { c: SUI_CHAIN, after },
      );
      expect(data.account).toMatchObject({ id: benAccount, address: ben.address });
      history.push(...data.account.transactions.edges.map((e) => e.node));
      ({ hasNextPage: more, endCursor: after } = data.account.transactions.pageInfo);
    }
    const bens = [...rows].reverse().filter((r) => r.sender_account === benAccount || r.recipient_account === benAccount);
    expect(bens.length).toBeGreaterThan(8);
    expect(history).toEqual(
      bens.map((r) => ({
        transactionId: r.transaction_id,
        eventIndex: r.event_index,
        kind: r.kind.toUpperCase(),
        direction: r.sender_account === benAccount && r.recipient_account === benAccount ? 'SELF' : r.sender_account === benAccount ? 'SENT' : 'RECEIVED',
        amount: r.amount,
        sender: r.sender_address,
        recipient: r.recipient_address,
        reference: r.reference,
      })),
    );
    const balanceQuery = 'query ($a: ID!, $c: Boolean) { balance(account: $a, critical: $c) { amount height stale source } }';
    const critical = (await gql<BalanceRead>(balanceQuery, { a: benAccount, c: true })).balance;
    expect(critical).toMatchObject({ amount: String(ledger.balance(ben.address, confio.cusdType).total), stale: false, source: 'CHAIN' });
    expect(BigInt(critical.height)).toBeGreaterThanOrEqual(BigInt(s.seq));
    expect((await gql<BalanceRead>(balanceQuery, { a: benAccount })).balance).toEqual({ ...critical, source: 'CACHE' });

    // Replay on Sui: `ledgersync reindex payments --chain` reads the checkpoints again and rebuilds the same records
    // and raw rows, queues and pushes nothing, and tells the feed nothing.
    const snapshot = async () => ({
      records: (await pool.query('select * from payment_transactions where chain = $1 order by transaction_id, event_index, kind', [SUI_CHAIN])).rows.map(({ created_at: _created, ...r }) => r),
      raw: (await pool.query('select chain, transaction_id, block_number, block_hash, block_timestamp, events from payment_raw_events where chain = $1 order by transaction_id', [SUI_CHAIN])).rows,
      queued: (await pool.query('select count(*)::int as n from payment_notifications')).rows[0].n as number,
    });
    const before = await snapshot();
    const feedBefore = feed.length;
    const reindexed = await runCli(['reindex', 'payments', '--chain', SUI_CHAIN], { cwd: world.cwd, env: world.env, script: CLI_WITH_TS_CONFIG });
    expect(reindexed.code, reindexed.stderr).toBe(0);
    expect(await snapshot()).toEqual(before);
    await new Promise((r) => setTimeout(r, 1500));
    expect(world.notifications).toHaveLength(expectedPushes.length);
    expect(feed).toHaveLength(feedBefore);
    const { rows: replayed } = await pool.query<{ outcome: string }>('select distinct outcome from payment_processing_log where attempt > 1');
    expect(replayed.map((r) => r.outcome)).not.toContain('failed');
    expect(replayed.length).toBeGreaterThan(0);
  }, 180_000);
});

/** The poller's Sui source and cUSD handler, with `coinType` as the cUSD-like token, on one recorded transaction. */
function deriveRecorded(coinType: string, message: GrpcTypes.ExecutedTransaction, checkpoint: { sequence: bigint; timestampMs: bigint }, members: string[]) {
  const chain: SuiPaymentsChain = {
    family: 'sui',
    chain: 'sui:mainnet',
    // Confío's packages are not on mainnet: placeholders that nothing in these transactions calls.
    packages: { cusd: '0xc1', pay: '0xc2', p2pTrade: '0xc3' },
    cusdType: coinType,
    startCheckpoint: 0n,
  };
  const settings = { chains: [chain] };
  const [source] = paymentsSources(settings);
  const grpcCheckpoint = GrpcTypes.Checkpoint.create({
    sequenceNumber: checkpoint.sequence,
    digest: `checkpoint-${checkpoint.sequence}`,
    summary: { previousDigest: 'parent', timestamp: { seconds: checkpoint.timestampMs / 1000n, nanos: Number(checkpoint.timestampMs % 1000n) * 1_000_000 } },
    transactions: [message],
  });
  const items = decodeCheckpoint(chain.chain, grpcCheckpoint, [suiFilter(source!, new Set(members.map((m) => normalizeSuiAddress(m))))]);
  const [tx] = groupByTransaction(items);
  const cusdHandler = paymentsHandlers(settings)(chain.chain).find((h) => h.name === 'cusd')!;
  const none: TradeBook = { get: () => undefined, set: () => {} };
  return { items, records: cusdHandler.derive(tx!, { trades: none }) };
}

describe('payments poller on recorded Sui data', () => {
  it('mainnet (Ledger Live fixture, tx CkUN1gw3, checkpoint 309148143): native USDC leaving its owner is a transfer without a followed recipient', () => {
    // Source: LedgerHQ/ledger-live libs/coin-modules/coin-sui/src/network/grpc/transactions.fixtures.json @ 1f3f633b (test/vectors/sui/README.md).
    const USDC = '0xdba34672e30cb065b1f93e3ab55318768fd6fef66c15942c9f7cb846e2f900e7::usdc::USDC';
    const vector = loadSuiVectors().grpcTransactions.find((v) => v.id === 'grpc/ledger-live/transfer-CkUN1gw3')!;
    expect(vector.network).toBe('mainnet');
    const owner = normalizeSuiAddress(vector.expected.sender);
    const recorded = vector.expected.balanceChanges.filter((b) => normalizeStructTag(b.coinType) === normalizeStructTag(USDC));
    expect(recorded).toEqual([expect.objectContaining({ address: owner, amount: '-68315346' })]);

    const { items, records } = deriveRecorded(USDC, vector.message, { sequence: BigInt(vector.expected.checkpoint), timestampMs: BigInt(vector.expected.timestampMs) }, [owner]);
    const change = items.find((i) => i.name === 'BalanceChange' && i.emitter === normalizeStructTag(USDC))!;
    expect(records).toEqual([{ eventIndex: change.eventIndex, kind: 'transfer', token: 'cUSD', amount: 68315346n, fee: 0n, sender: owner, recipient: null, reference: null, notify: null }]);
    // The SUI and DEEP changes of the same transaction are other coins: no record.
  });

  it('devnet (JumpCrypto fixture, tx 7uepPpd7, checkpoint 213114): an IUSDC transfer between two followed addresses is one transfer, sender to recipient', () => {
    // Source: jumpcrypto/crosschain chain/sui/client_test.go @ 4c5cc208 (test/vectors/sui/README.md). Recorded as JSON-RPC on
    // devnet (the only recorded non-SUI transfer between two addresses found); its digest, sender and balance changes are put
    // as they were recorded into the gRPC message the indexer's decoder reads.
    const vector = loadSuiVectors().jsonRpcTransactions.find((v) => v.id === 'jsonrpc/jumpcrypto/token-transfer-7uepPpd7')!;
    expect(vector.network).toBe('devnet');
    const { expected } = vector;
    const IUSDC = normalizeStructTag('0x3821e4ae13d37a1c55a03a86eab613450c1302e6b4df461e1c79bdf8381dde47::iusdc::IUSDC');
    const message = GrpcTypes.ExecutedTransaction.create({
      digest: expected.digest,
      transaction: { sender: expected.sender },
      effects: { status: { success: true } },
      balanceChanges: expected.balanceChanges.map((b) => ({ address: b.address, coinType: b.coinType, amount: b.amount })),
    });
    const moved = expected.balanceChanges.filter((b) => normalizeStructTag(b.coinType) === IUSDC);
    const from = moved.find((b) => b.amount.startsWith('-'))!;
    const to = moved.find((b) => !b.amount.startsWith('-'))!;
    const { items, records } = deriveRecorded(IUSDC, message, { sequence: BigInt(expected.checkpoint!), timestampMs: BigInt(expected.timestampMs!) }, [from.address, to.address]);
    const toItem = items.find((i) => i.name === 'BalanceChange' && i.emitter === IUSDC && i.args.address === normalizeSuiAddress(to.address))!;
    expect(records).toEqual([
      { eventIndex: toItem.eventIndex, kind: 'transfer', token: 'cUSD', amount: BigInt(to.amount), fee: 0n, sender: normalizeSuiAddress(from.address), recipient: normalizeSuiAddress(to.address), reference: null, notify: 'payment_received' },
    ]);
    expect(BigInt(to.amount)).toBe(-BigInt(from.amount));
  });
});
