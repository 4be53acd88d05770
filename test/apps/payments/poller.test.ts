/**
 * The payments poller on a real anvil: users' transfers (between them, from a
 * mint, from an outside wallet), a Pay payment and two escrows end as records,
 * raw events and processing-log rows that equal what the chain's receipts say;
 * balances are marked stale; each recipient with a push target gets exactly one
 * Spanish webhook notification per record; a reindex rebuilds the same records
 * and pushes nothing again; an account added while the indexer runs is followed
 * at once; a handler the database refuses for one transaction fails alone and
 * is retried by `payments.process` once the cause is gone.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseEventLogs, parseUnits, stringToHex, type Address, type Hex, type TransactionReceipt } from 'viem';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { cusdAbi, p2PTradeAbi, payAbi } from '../../../src/apps/payments/contracts.js';
import { CUSD_CONTRACT, P2P_CONTRACT, PAY_CONTRACT } from '../../../src/apps/payments/settings.js';
import { RETRY_DELAY_SECONDS } from '../../../src/apps/payments/poller/index.js';
import { parseNotice, type ReceivedNotice } from '../../../src/apps/payments/graphql/subscriptions.js';
import { paymentsWorld, EVM_CHAIN, type PaymentsWorld } from '../../harness/payments-world.js';
import { CLI_WITH_TS_CONFIG, runCli } from '../../harness/cli.js';
import { until } from '../../harness/until.js';
import type { RecordRow as StoredRecord } from '../../../src/apps/payments/graphql/history.js';

const cusd = (amount: string) => parseUnits(amount, 6);
const ZERO = '0x0000000000000000000000000000000000000000';
const lower = (a: string) => a.toLowerCase();

/** The columns of a record the test compares (the API's row type, less what the chain's receipts do not give). */
type RecordRow = Omit<StoredRecord, 'chain' | 'status' | 'block_timestamp'>;

/** In chain order: by the bigint column (a bare `block_number` would name the text output, and sort "12" before "8"). */
async function records(world: PaymentsWorld): Promise<RecordRow[]> {
  const { rows } = await world.pool().query<RecordRow>(
    `select transaction_id, event_index, kind, token, amount::text, fee::text, sender_address, recipient_address, sender_account::text, recipient_account::text, reference, block_number::text
     from payment_transactions t order by t.block_number, t.event_index, t.kind`,
  );
  return rows;
}

/** What the chain says a receipt yields: the test's own reading of the rules, on viem's decoding of the logs. */
function expectedFromReceipt(world: PaymentsWorld, receipt: TransactionReceipt, followed: Set<string>, accountOf: Map<string, string>) {
  const at = (name: typeof CUSD_CONTRACT | typeof PAY_CONTRACT | typeof P2P_CONTRACT) => receipt.logs.filter((l) => l.address.toLowerCase() === world.contract(name).toLowerCase());
  const transfers = parseEventLogs({ abi: cusdAbi, logs: at(CUSD_CONTRACT), eventName: 'Transfer' });
  const payments = parseEventLogs({ abi: payAbi, logs: at(PAY_CONTRACT), eventName: 'PaymentMade' });
  const escrow = parseEventLogs({ abi: p2PTradeAbi, logs: at(P2P_CONTRACT) });
  const kept = transfers.filter((t) => followed.has(lower(t.args.from)) || followed.has(lower(t.args.to)));
  const raw = [...kept.map((l) => ({ source: 'payments_cusd', name: 'Transfer', eventIndex: l.logIndex })), ...payments.map((l) => ({ source: 'payments_pay', name: 'PaymentMade', eventIndex: l.logIndex })), ...escrow.map((l) => ({ source: 'payments_p2p', name: l.eventName, eventIndex: l.logIndex }))].sort((a, b) => a.eventIndex - b.eventIndex);

  const row = (r: Omit<RecordRow, 'transaction_id' | 'block_number' | 'sender_account' | 'recipient_account' | 'token'>) => ({
    ...r,
    transaction_id: receipt.transactionHash,
    block_number: receipt.blockNumber.toString(),
    token: 'cUSD',
    sender_account: r.sender_address ? (accountOf.get(r.sender_address) ?? null) : null,
    recipient_account: r.recipient_address ? (accountOf.get(r.recipient_address) ?? null) : null,
  });
  const out: RecordRow[] = [];
  // In these scenarios a payment's or an escrow step's transaction moves cUSD for that step only: no transfer records.
  if (payments.length === 0 && escrow.length === 0) {
    for (const t of kept) out.push(row({ event_index: t.logIndex, kind: 'transfer', amount: t.args.value.toString(), fee: '0', sender_address: lower(t.args.from) === ZERO ? null : lower(t.args.from), recipient_address: lower(t.args.to), reference: null }));
  }
  for (const p of payments) out.push(row({ event_index: p.logIndex, kind: 'payment', amount: p.args.amount.toString(), fee: p.args.fee.toString(), sender_address: lower(p.args.payer), recipient_address: lower(p.args.merchant), reference: p.args.paymentReference }));
  return { raw, records: out, escrow };
}

describe('payments poller (EVM)', () => {
  it('keeps records, raw events and the processing log equal to the chain, pushes once per record, replays without pushing, follows new accounts, and retries a failed handler', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start(['indexer', 'worker']);
    const pool = world.pool();

    // Users: three with a device (the test's webhook), one without.
    const people = {
      ana: { wallet: await world.wallet(), push: 'device-ana', name: 'Ana' },
      ben: { wallet: await world.wallet(), push: 'device-ben', name: 'Ben' },
      carla: { wallet: await world.wallet(), push: null, name: 'Carla' },
      shop: { wallet: await world.wallet(), push: 'device-shop', name: 'Tienda Lupita' },
    };
    const accountOf = new Map<string, string>();
    const userOf = new Map<string, string>();
    for (const [ref, p] of Object.entries(people)) {
      const user = await ensureUser(pool, { externalRef: ref, displayName: p.name, ...(p.push ? { push: { provider: 'webhook', target: p.push } } : {}) });
      const account = await addAccount(pool, { userId: user.id, chain: EVM_CHAIN, address: p.wallet.address });
      accountOf.set(p.wallet.address, account.id);
      userOf.set(p.wallet.address, user.id);
    }
    const followed = new Set(accountOf.keys());
    const { ana, ben, carla, shop } = people;
    const outsider = await world.wallet();

    // The chain: money from outside, transfers, a payment, an escrow released and one cancelled.
    const receipts: TransactionReceipt[] = [];
    const did = async (r: Promise<TransactionReceipt>) => {
      receipts.push(await r);
      return receipts.at(-1)!;
    };
    await did(world.mint(ana.wallet.address, cusd('100')));
    await did(world.mint(ben.wallet.address, cusd('40')));
    await world.mint(outsider.address, cusd('50')); // between outsiders' addresses: not followed
    await did(outsider.transfer(ben.wallet.address, cusd('5')));
    await did(ana.wallet.transfer(ben.wallet.address, cusd('12.5')));
    await did(ana.wallet.transfer(carla.wallet.address, cusd('1')));
    const reference = stringToHex('INV-42', { size: 32 });
    await did(ben.wallet.pay(shop.wallet.address, cusd('10'), reference));
    const trade1 = stringToHex('trade-1', { size: 32 });
    const trade2 = stringToHex('trade-2', { size: 32 });
    await did(ana.wallet.createEscrow(trade1, ben.wallet.address, cusd('20')));
    await did(ben.wallet.markPaid(trade1));
    await did(ana.wallet.release(trade1));
    await did(ben.wallet.createEscrow(trade2, ana.wallet.address, cusd('3')));
    await did(ben.wallet.cancel(trade2));
    // Disputes: one opened by the buyer after paying and resolved to the buyer (released), one opened by the seller and
    // resolved back to the seller (cancelled); the platform arbitrates.
    const trade3 = stringToHex('trade-3', { size: 32 });
    const trade4 = stringToHex('trade-4', { size: 32 });
    const why = stringToHex('not received', { size: 32 });
    await did(ana.wallet.createEscrow(trade3, ben.wallet.address, cusd('8')));
    await did(ben.wallet.markPaid(trade3));
    await did(ben.wallet.dispute(trade3, why));
    await did(world.resolveDispute(trade3, true));
    await did(ben.wallet.createEscrow(trade4, carla.wallet.address, cusd('2')));
    await did(ben.wallet.dispute(trade4, why));
    await did(world.resolveDispute(trade4, false));

    // What the receipts say, read with viem.
    const expectedRaw = new Map<string, Array<{ source: string; name: string; eventIndex: number }>>();
    const expectedRecords: RecordRow[] = [];
    const tradeAmount = new Map<string, bigint>([
      [trade1, cusd('20')],
      [trade2, cusd('3')],
      [trade3, cusd('8')],
      [trade4, cusd('2')],
    ]);
    const tradeParties = new Map<string, { seller: string; buyer: string }>([
      [trade1, { seller: ana.wallet.address, buyer: ben.wallet.address }],
      [trade2, { seller: ben.wallet.address, buyer: ana.wallet.address }],
      [trade3, { seller: ana.wallet.address, buyer: ben.wallet.address }],
      [trade4, { seller: ben.wallet.address, buyer: carla.wallet.address }],
    ]);
    for (const receipt of receipts) {
      const { raw, records: fromReceipt, escrow } = expectedFromReceipt(world, receipt, followed, accountOf);
      expectedRaw.set(receipt.transactionHash, raw);
      expectedRecords.push(...fromReceipt);
      for (const e of escrow) {
        const args = e.args as { tradeId: Hex; seller?: Address; buyer?: Address; amount?: bigint; by?: Address; arbitrator?: Address; toBuyer?: boolean };
        const parties = tradeParties.get(args.tradeId)!;
        const [kind, sender, recipient] =
          e.eventName === 'EscrowCreated' ? ['escrow_created', parties.seller, parties.buyer]
          : e.eventName === 'EscrowMarkedPaid' ? ['escrow_paid', parties.buyer, parties.seller]
          : e.eventName === 'EscrowReleased' ? ['escrow_released', parties.seller, parties.buyer]
          : e.eventName === 'EscrowCancelled' ? ['escrow_cancelled', parties.buyer, parties.seller]
          : e.eventName === 'EscrowDisputed' ? ['escrow_disputed', lower(args.by!), lower(args.by!) === parties.seller ? parties.buyer : parties.seller]
          : ['escrow_resolved', lower(args.arbitrator!), args.toBuyer ? parties.buyer : parties.seller];
        expectedRecords.push({
          transaction_id: receipt.transactionHash,
          event_index: e.logIndex,
          kind: kind!,
          token: 'cUSD',
          amount: (args.amount ?? tradeAmount.get(args.tradeId)!).toString(),
          fee: '0',
          sender_address: sender!,
          recipient_address: recipient!,
          sender_account: accountOf.get(sender!) ?? null, // the arbitrator is the platform, no account
          recipient_account: accountOf.get(recipient!)!,
          reference: args.tradeId,
          block_number: receipt.blockNumber.toString(),
        });
      }
    }
    const sortRecords = (rows: RecordRow[]) => [...rows].sort((a, b) => Number(BigInt(a.block_number) - BigInt(b.block_number)) || a.event_index - b.event_index || a.kind.localeCompare(b.kind));
    const last = receipts.at(-1)!;
    await until(async () => (await pool.query('select 1 from payment_raw_events where transaction_id = $1', [last.transactionHash])).rowCount, 'the last transaction indexed', 60_000);

    // Records: exactly what the chain says (the payment's and escrows' own Transfers are no transfer records).
    expect(await records(world)).toEqual(sortRecords(expectedRecords));
    expect(expectedRecords.filter((r) => r.kind === 'transfer')).toHaveLength(5);
    const payment = (await records(world)).find((r) => r.kind === 'payment')!;
    expect(payment).toMatchObject({ amount: cusd('10').toString(), fee: '90000', reference }); // 0.9% of 10 cUSD

    // Raw events: one row per relevant transaction with its events, in chain order.
    const { rows: raw } = await pool.query<{ transaction_id: string; block_number: string; block_hash: string; events: Array<{ source: string; name: string; eventIndex: number; emitter: string; args: Record<string, unknown> }> }>(
      'select transaction_id, block_number::text, block_hash, events from payment_raw_events',
    );
    expect(new Set(raw.map((r) => r.transaction_id))).toEqual(new Set(receipts.map((r) => r.transactionHash)));
    for (const row of raw) {
      const receipt = receipts.find((r) => r.transactionHash === row.transaction_id)!;
      expect(row.block_hash).toBe(receipt.blockHash);
      expect(row.events.map((e) => ({ source: e.source, name: e.name, eventIndex: e.eventIndex }))).toEqual(expectedRaw.get(row.transaction_id));
    }
    const payRaw = raw.find((r) => r.transaction_id === payment.transaction_id)!;
    expect(payRaw.events.find((e) => e.name === 'PaymentMade')!.args).toEqual({ payer: ben.wallet.address, merchant: shop.wallet.address, amount: '10000000', fee: '90000', paymentReference: reference });

    // The processing log: each handler once per transaction, first attempt, processed where it made records.
    const { rows: log } = await pool.query<{ transaction_id: string; handler: string; outcome: string; attempt: number; error: string | null }>(
      'select transaction_id, handler, outcome, attempt, error from payment_processing_log order by id',
    );
    const expectedLog = receipts.flatMap((receipt) =>
      ['pay', 'p2p', 'cusd'].map((handler) => {
        const made = expectedRecords.some((r) => r.transaction_id === receipt.transactionHash && (handler === 'pay' ? r.kind === 'payment' : handler === 'p2p' ? r.kind.startsWith('escrow_') : r.kind === 'transfer'));
        return { transaction_id: receipt.transactionHash, handler, outcome: made ? 'processed' : 'nothing', attempt: 1, error: null };
      }),
    );
    expect(sortLog(log)).toEqual(sortLog(expectedLog));

    // Balances of every account touched are marked stale (the world runs no balance schedule that could refresh them).
    const { rows: stale } = await pool.query<{ account_id: string }>('select account_id::text from payment_balances where stale order by account_id');
    expect(stale.map((r) => r.account_id)).toEqual([...accountOf.values()].sort());

    // Pushes: one per record to each recipient with a device, in Spanish.
    const expectedPushes = [
      { to: 'device-ana', body: 'Recibiste 100,00 cUSD' },
      { to: 'device-ben', body: 'Recibiste 40,00 cUSD' },
      { to: 'device-ben', body: 'Recibiste 5,00 cUSD' },
      { to: 'device-ben', body: 'Recibiste 12,50 cUSD de Ana' },
      { to: 'device-shop', body: 'Recibiste un pago de 10,00 cUSD de Ben (ref. INV-42)' },
      { to: 'device-ben', body: '20,00 cUSD quedaron en custodia para tu intercambio' },
      { to: 'device-ben', body: 'Se liberaron 20,00 cUSD de la custodia' },
      { to: 'device-ana', body: '3,00 cUSD quedaron en custodia para tu intercambio' },
      { to: 'device-ben', body: 'Se devolvieron 3,00 cUSD de la custodia' },
      // trade 3: created, disputed by Ben (Ana is told), released to Ben by the resolution (the resolution itself pushes nothing more)
      { to: 'device-ben', body: '8,00 cUSD quedaron en custodia para tu intercambio' },
      { to: 'device-ana', body: 'Tu intercambio de 8,00 cUSD está en disputa; lo revisaremos' },
      { to: 'device-ben', body: 'Se liberaron 8,00 cUSD de la custodia' },
      // trade 4: Carla has no device; the escrow goes back to Ben
      { to: 'device-ben', body: 'Se devolvieron 2,00 cUSD de la custodia' },
    ];
    await until(() => world.notifications.length >= expectedPushes.length, 'the pushes delivered', 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up
    const pushes = () => world.notifications.map((n) => ({ to: n.to, body: n.body }));
    expect(sortPushes(pushes())).toEqual(sortPushes(expectedPushes));
    const shopPush = world.notifications.find((n) => n.to === 'device-shop')!;
    expect(shopPush.title).toBe('Nuevo pago en tu negocio');
    expect(shopPush.data).toMatchObject({ chain: EVM_CHAIN, transactionId: payment.transaction_id, eventIndex: String(payment.event_index), kind: 'merchant_payment_received' });
    expect(new Set(world.notifications.map((n) => n.idempotencyKey)).size).toBe(world.notifications.length);

    // An account added while the indexer runs: its next incoming payment is caught, no restart.
    const dave = await world.wallet();
    const daveUser = await ensureUser(pool, { externalRef: 'dave', push: { provider: 'webhook', target: 'device-dave' } });
    const daveAccount = await addAccount(pool, { userId: daveUser.id, chain: EVM_CHAIN, address: dave.address });
    const toDave = await outsider.transfer(dave.address, cusd('7'));
    await until(() => world.notifications.some((n) => n.to === 'device-dave'), 'the push to the new account', 30_000);
    expect((await records(world)).filter((r) => r.transaction_id === toDave.transactionHash)).toEqual([
      expect.objectContaining({ kind: 'transfer', amount: cusd('7').toString(), sender_address: outsider.address, recipient_address: dave.address, recipient_account: daveAccount.id, sender_account: null }),
    ]);
    expect(world.notifications.find((n) => n.to === 'device-dave')!.body).toBe('Recibiste 7,00 cUSD');

    // A handler the database refuses for one transaction (a trigger the test adds): that handler fails alone.
    const magic = cusd('4.040404');
    await pool.query(`create function test_refuse_magic() returns trigger language plpgsql as $$
      begin if new.amount = ${magic} then raise exception 'test: amount % refused', new.amount; end if; return new; end $$`);
    await pool.query('create trigger test_refuse_magic before insert on payment_transactions for each row execute function test_refuse_magic()');
    const [refused, accepted] = await Promise.all([ana.wallet.transfer(ben.wallet.address, magic), carla.wallet.transfer(ana.wallet.address, cusd('0.5'))]);
    const failedRow = await until(
      async () => (await pool.query<{ attempt: number; error: string }>(`select attempt, error from payment_processing_log where transaction_id = $1 and handler = 'cusd' and outcome = 'failed'`, [refused.transactionHash])).rows[0],
      'the refused handler logged',
      30_000,
      20,
    );
    // Gone before the retry's first run (RETRY_DELAY_SECONDS after the failure).
    await pool.query('drop trigger test_refuse_magic on payment_transactions');
    expect(failedRow).toMatchObject({ attempt: 1, error: expect.stringContaining('test: amount 4040404 refused') });
    expect(RETRY_DELAY_SECONDS).toBeGreaterThanOrEqual(2);
    await until(async () => (await pool.query('select 1 from payment_raw_events where transaction_id = $1', [accepted.transactionHash])).rowCount, 'the other transaction indexed');
    // The other transaction, and the other handlers of the refused one, went through.
    expect((await records(world)).filter((r) => r.transaction_id === accepted.transactionHash)).toHaveLength(1);
    const refusedLog = async () => (await pool.query<{ handler: string; outcome: string; attempt: number }>('select handler, outcome, attempt from payment_processing_log where transaction_id = $1 order by id', [refused.transactionHash])).rows;
    expect(await refusedLog()).toEqual(expect.arrayContaining([{ handler: 'pay', outcome: 'nothing', attempt: 1 }, { handler: 'p2p', outcome: 'nothing', attempt: 1 }, { handler: 'cusd', outcome: 'failed', attempt: 1 }]));
    expect((await records(world)).filter((r) => r.transaction_id === refused.transactionHash)).toEqual([]);

    // The retry job processes it once the cause is gone: attempt 2, the record, and its push.
    await until(async () => (await refusedLog()).some((l) => l.handler === 'cusd' && l.outcome === 'processed'), 'the retry', 60_000);
    expect((await refusedLog()).filter((l) => l.handler === 'cusd')).toEqual([
      { handler: 'cusd', outcome: 'failed', attempt: 1 },
      { handler: 'cusd', outcome: 'processed', attempt: 2 },
    ]);
    expect((await records(world)).filter((r) => r.transaction_id === refused.transactionHash)).toEqual([
      expect.objectContaining({ kind: 'transfer', amount: magic.toString(), sender_account: accountOf.get(ana.wallet.address), recipient_account: accountOf.get(ben.wallet.address) }),
    ]);
    await until(() => world.notifications.some((n) => n.body === 'Recibiste 4,040404 cUSD de Ana'), 'the retried record pushed');

    // Replay: `ledgersync reindex payments` rebuilds the same records and raw rows, pushes nothing again, and tells
    // the subscription feed nothing (its payments are not news).
    await new Promise((r) => setTimeout(r, 1000));
    // What the feed would publish: its notices, not the API's heartbeats on the same channel.
    const feed: ReceivedNotice[] = [];
    const listening = await pool.connect();
    onTestFinished(() => listening.release());
    listening.on('notification', (message) => {
      const notice = parseNotice(message.payload);
      if (notice) feed.push(notice);
    });
    await listening.query('listen payments_received');
    const before = { records: await records(world), raw: (await pool.query('select chain, transaction_id, block_number, block_hash, block_timestamp, events from payment_raw_events order by transaction_id')).rows };
    const pushedBefore = world.notifications.length;
    const { rows: queuedBefore } = await pool.query<{ n: string }>('select count(*)::text as n from payment_notifications');
    const reindexed = await runCli(['reindex', 'payments', '--chain', EVM_CHAIN], { cwd: world.cwd, env: world.env, script: CLI_WITH_TS_CONFIG });
    expect(reindexed.code, reindexed.stderr).toBe(0);
    expect(await records(world)).toEqual(before.records);
    expect((await pool.query('select chain, transaction_id, block_number, block_hash, block_timestamp, events from payment_raw_events order by transaction_id')).rows).toEqual(before.raw);
    await new Promise((r) => setTimeout(r, 3000));
    expect(world.notifications.length).toBe(pushedBefore);
    expect((await pool.query<{ n: string }>('select count(*)::text as n from payment_notifications')).rows).toEqual(queuedBefore);
    // The replay ran every handler again: logged as a further attempt, never failed.
    const { rows: replayLog } = await pool.query<{ outcome: string; n: string }>(`select outcome, count(*)::text as n from payment_processing_log where attempt > 1 and handler <> 'cusd' group by outcome`);
    expect(replayLog.every((r) => r.outcome !== 'failed')).toBe(true);
    expect(feed).toEqual([]);
    // While a payment made now is news.
    await did(ben.wallet.transfer(ana.wallet.address, cusd('0.25')));
    await until(() => feed.length === 1, 'the new payment on the feed');
    expect(feed[0]).toMatchObject({ accountId: accountOf.get(ana.wallet.address), amount: cusd('0.25').toString(), sender: ben.wallet.address });
  }, 240_000);
});

function sortLog<T extends { transaction_id: string; handler: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.transaction_id.localeCompare(b.transaction_id) || a.handler.localeCompare(b.handler));
}

function sortPushes<T extends { to: string; body: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.to.localeCompare(b.to) || a.body.localeCompare(b.body));
}
