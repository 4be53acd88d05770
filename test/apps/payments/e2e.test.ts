import { describe, expect, it, onTestFinished } from 'vitest';
import { parseEventLogs, type Address, type Log } from 'viem';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { cusdAbi, p2PTradeAbi, payAbi } from '../../../src/apps/payments/contracts.js';
import { CUSD_CONTRACT, P2P_CONTRACT, PAY_CONTRACT } from '../../../src/apps/payments/settings.js';
import { connectDatabase } from '../../../src/db/client.js';
import { CLI_WITH_TS_CONFIG, RunningCli, runCli } from '../../harness/cli.js';
import { EVM_CHAIN, paymentsWorld } from '../../harness/payments-world.js';
import { mulberry32 } from '../../harness/rpc-proxy.js';
import { until } from '../../harness/until.js';
import { DEV_KEYS } from './dev-keys.js';
import { runJob } from './jobs.js';
import { RECONCILE_TASK } from '../../../src/apps/payments/balances/index.js';
import { between, CUSD, mintAll, ref32, type Wallet } from './evm-traffic.js';

/** PAYMENTS_E2E_USERS and PAYMENTS_E2E_KILLS shrink the run while working on it; the suite runs 200 and 20. */
const USERS = Number(process.env.PAYMENTS_E2E_USERS ?? 200);
const KILLS = Number(process.env.PAYMENTS_E2E_KILLS ?? 20);
const MERCHANTS = 3;
/** Reproduce a run with PAYMENTS_CRASH_SEED=<the seed it logged>. */
const SEED = Number(process.env.PAYMENTS_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 32));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RecordKey {
  transaction: string;
  kind: string;
  sender: string | null;
  recipient: string | null;
  amount: string;
}
const keyOf = (r: RecordKey) => `${r.transaction}|${r.kind}|${r.sender ?? '-'}|${r.recipient ?? '-'}|${r.amount}`;

/**
 * Confío payments on anvil with its roles as separate processes (`ledgersync api`,
 * `indexer`, `worker`): 200 users with wallets of their own, money minted to them
 * and sent to them by outsiders, transfers between them, Pay payments to
 * merchants, one P2P escrow released and one cancelled, while the poller (the
 * indexer process) is SIGKILLed at 20 random moments and restarted. At the end
 * the records, balances and notifications equal what the chain says, and every
 * recipient got exactly one notification per payment.
 */
describe('payments end to end on anvil', () => {
  it(`${USERS} users: records, balances and notifications equal the chain through ${KILLS} SIGKILLs of the poller`, async () => {
    const started = Date.now();
    const killRandom = mulberry32(SEED);
    const flowRandom = mulberry32(SEED ^ 0x9e3779b9);
    const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
    log(`payments e2e: seed ${SEED} (PAYMENTS_CRASH_SEED=${SEED} repeats its lives, pauses and traffic)`);

    const world = await paymentsWorld({ blockTime: 1, finality: 2 });
    expect(await world.deploy()).toMatch(/P2PTrade deployed at 0x/);
    expect((await runCli(['migrate'], { cwd: world.cwd, env: world.env, script: CLI_WITH_TS_CONFIG })).code).toBe(0);
    const { pool, close } = connectDatabase(world.database.url, { max: 4 });
    onTestFinished(close);

    // The users, as the app's sign-up makes them: each with a device to notify and an address of their own.
    const platform = await world.wallet(DEV_KEYS[0]);
    const wallets: Wallet[] = [];
    for (let i = 0; i < USERS; i++) wallets.push(await world.wallet());
    const userOf = new Map<string, string>();
    for (const [i, wallet] of wallets.entries()) {
      const user = await ensureUser(pool, { externalRef: `user-${i}`, locale: i % 4 === 0 ? 'en' : 'es', push: { provider: 'webhook', target: `device-${i}` } });
      await addAccount(pool, { userId: user.id, chain: EVM_CHAIN, address: wallet.address });
      userOf.set(wallet.address, user.id);
    }
    const outsiders = [await world.wallet(), await world.wallet()];

    const spawn = (role: 'api' | 'indexer' | 'worker') => new RunningCli([role], { cwd: world.cwd, env: world.env, script: CLI_WITH_TS_CONFIG });
    const api = spawn('api');
    const worker = spawn('worker');
    onTestFinished((context) => {
      if (context.task.result?.state === 'fail') console.log(`worker output:\n${worker.output.slice(-5000)}`);
    });
    let poller = spawn('indexer');
    await api.waitForReady(`${world.base}/ready`);
    const indexed = async () => {
      const { rows } = await pool.query<{ n: string | null }>(`select max(block_number)::text as n from indexer_checkpoints where chain = $1`, [EVM_CHAIN]).catch(() => ({ rows: [{ n: null }] }));
      return rows[0]?.n ? BigInt(rows[0].n) : -1n;
    };

    // The killer: once the poller has moved since its start, it lives a random while more, is killed, and is back after a random pause.
    let kills = 0;
    const killer = (async () => {
      while (kills < KILLS) {
        const from = await indexed();
        await until(async () => (await indexed()) > from, 'the poller never moved after its start', 60_000);
        await sleep(between(killRandom, 200, 2500));
        await poller.kill();
        kills++;
        await sleep(between(killRandom, 100, 1200));
        poller = spawn('indexer');
      }
    })();

    // The traffic, as devices and outsiders send it.
    await mintAll(world, platform, wallets.map((w) => w.address), 100n * CUSD);
    await mintAll(world, platform, outsiders.map((w) => w.address), 1000n * CUSD);
    log('minted to 200 users and 2 outsiders');
    // Every balance read once, fresh, before the traffic: from here on only the poller's stale marks tell the cache that
    // money moved, across the kills. The last reconcile finds any mark missed as a drift.
    const minted = await world.publicClient.getBlockNumber();
    await until(async () => (await indexed()) >= minted, 'the poller reaching the mints', 120_000);
    await runJob(pool, RECONCILE_TASK);
    expect((await pool.query(`select count(*)::int as n from payment_balances where not stale and height >= $1`, [minted])).rows[0].n).toBe(USERS);
    log('every balance read and fresh');
    const merchants = wallets.slice(0, MERCHANTS);
    const customers = wallets.slice(MERCHANTS);
    for (let round = 0; round < 6; round++) {
      // Each wallet sends at most one transaction at a time, as a device does.
      const senders = customers.filter(() => flowRandom() < 0.3);
      await Promise.all([
        ...senders.map((from, i) => {
          const to = wallets[between(flowRandom, 0, USERS)]!;
          const amount = BigInt(between(flowRandom, 1, 300)) * 10_000n;
          if (to.address === from.address) return Promise.resolve();
          return i % 7 === 0
            ? from.pay(merchants[i % MERCHANTS]!.address, amount, ref32(`order-${round}-${i}`))
            : from.transfer(to.address, amount);
        }),
        ...outsiders.map((o) => o.transfer(wallets[between(flowRandom, 0, USERS)]!.address, BigInt(between(flowRandom, 1, 50)) * CUSD)),
      ]);
      log(`round ${round}: ${senders.length} customers sent, outsiders paid in; kills so far ${kills}`);
    }
    // One escrow released, one cancelled.
    const [seller, buyer, other] = customers.slice(-3) as [Wallet, Wallet, Wallet];
    await seller.createEscrow(ref32('trade-released'), buyer.address, 5n * CUSD);
    await buyer.markPaid(ref32('trade-released'));
    await seller.release(ref32('trade-released'));
    await seller.createEscrow(ref32('trade-cancelled'), other.address, 3n * CUSD);
    await seller.cancel(ref32('trade-cancelled'));
    log('escrows done');

    await killer;
    log(`${kills} kills done`);
    const head = await world.publicClient.getBlockNumber();
    await until(async () => (await indexed()) >= head - 2n, 'the poller did not catch up', 120_000);

    // What the chain says: every log of the three contracts, read straight from anvil.
    const logs = (await world.publicClient.getLogs({ address: [world.contract(CUSD_CONTRACT), world.contract(PAY_CONTRACT), world.contract(P2P_CONTRACT)], fromBlock: 0n, toBlock: head - 2n })) as Log[];
    const expected = expectedRecords(logs, new Set(userOf.keys()), { pay: world.contract(PAY_CONTRACT), p2p: world.contract(P2P_CONTRACT) });
    const { rows: records } = await pool.query<RecordKey>(
      `select transaction_id as transaction, kind, sender_address as sender, recipient_address as recipient, amount::text from payment_transactions where chain = $1 and block_number <= $2`,
      [EVM_CHAIN, head - 2n],
    );
    expect(records.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
    log(`${records.length} records equal the chain's`);

    // Every relevant transaction kept once as a raw event row.
    const { rows: raw } = await pool.query<{ transaction_id: string }>(`select transaction_id from payment_raw_events where chain = $1 and block_number <= $2`, [EVM_CHAIN, head - 2n]);
    expect(new Set(raw.map((r) => r.transaction_id))).toEqual(new Set(expected.map((r) => r.transaction)));

    // Notifications: one per payment received by a user, delivered once, across all the kills.
    const notifiable = expected.filter((r) => r.recipient && userOf.has(r.recipient) && ['transfer', 'payment', 'escrow_created', 'escrow_released', 'escrow_cancelled'].includes(r.kind));
    await until(async () => world.notifications.length >= notifiable.length, `${notifiable.length} notifications (have ${world.notifications.length})`, 120_000);
    await sleep(2000);
    const keys = world.notifications.map((n) => n.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(world.notifications).toHaveLength(notifiable.length);
    for (const record of notifiable) {
      const user = userOf.get(record.recipient!)!;
      const matching = world.notifications.filter((n) => n.idempotencyKey.startsWith(`${EVM_CHAIN}:${record.transaction}:`) && n.idempotencyKey.includes(`:${user}:`));
      expect(matching.length, `notifications of ${keyOf(record)}`).toBeGreaterThanOrEqual(1);
    }
    log(`${keys.length} notifications, each once`);

    // Balances: refreshed from the chain by the app's own task, then equal to balanceOf for every user.
    await runJob(pool, RECONCILE_TASK);
    expect((await pool.query(`select count(*)::int as n from payment_balances where not stale and height >= $1`, [head - 2n])).rows[0].n).toBe(USERS);
    // The poller marked every balance it touched: the reconcile found not one drift.
    expect((await pool.query('select account_id::text, cached::text, on_chain::text, height::text from payment_balance_drifts')).rows).toEqual([]);
    const { rows: balances } = await pool.query<{ address: string; amount: string }>(
      `select a.address, b.amount::text from payment_balances b join payment_accounts a on a.id = b.account_id where a.chain = $1`,
      [EVM_CHAIN],
    );
    for (const { address, amount } of balances) expect(BigInt(amount), address).toBe(await world.balanceOf(address as Address));
    log('balances equal balanceOf');
  }, 900_000);
});

/**
 * The records the chain's logs justify: a Pay payment or a P2P step per event of those contracts (the
 * cUSD moves inside them are part of it); in other transactions, each cUSD Transfer touching a user.
 */
function expectedRecords(logs: Log[], users: Set<string>, contracts: { pay: Address; p2p: Address }): RecordKey[] {
  const decoded = parseEventLogs({ abi: [...cusdAbi, ...payAbi, ...p2PTradeAbi], logs: logs as never });
  const byTransaction = new Map<string, typeof decoded>();
  for (const event of decoded) byTransaction.set(event.transactionHash, [...(byTransaction.get(event.transactionHash) ?? []), event]);
  const out: RecordKey[] = [];
  const trades = new Map<string, { seller: string; amount: bigint }>();
  const lower = (a: unknown) => String(a).toLowerCase();
  const ESCROW_KINDS: Record<string, string> = {
    EscrowCreated: 'escrow_created',
    EscrowMarkedPaid: 'escrow_paid',
    EscrowReleased: 'escrow_released',
    EscrowCancelled: 'escrow_cancelled',
    EscrowDisputed: 'escrow_disputed',
    DisputeResolved: 'escrow_resolved',
  };
  for (const [transaction, events] of byTransaction) {
    const app = events.filter((e) => lower(e.address) === lower(contracts.pay) || lower(e.address) === lower(contracts.p2p));
    if (app.length === 0) {
      for (const e of events) {
        if (e.eventName !== 'Transfer') continue;
        const { from, to, value } = e.args as { from: Address; to: Address; value: bigint };
        if (!users.has(lower(from)) && !users.has(lower(to))) continue;
        out.push({ transaction, kind: 'transfer', sender: BigInt(from) === 0n ? null : lower(from), recipient: BigInt(to) === 0n ? null : lower(to), amount: value.toString() });
      }
      continue;
    }
    for (const e of app) {
      const args = e.args as Record<string, unknown>;
      const trade = trades.get(String(args.tradeId));
      const push = (kind: string, sender: unknown, recipient: unknown, amount: unknown) =>
        out.push({ transaction, kind, sender: sender ? lower(sender) : null, recipient: recipient ? lower(recipient) : null, amount: String(amount ?? 0) });
      if (e.eventName === 'PaymentMade') push('payment', args.payer, args.merchant, args.amount);
      else if (e.eventName === 'EscrowCreated') {
        trades.set(String(args.tradeId), { seller: String(args.seller), amount: args.amount as bigint });
        push(ESCROW_KINDS[e.eventName]!, args.seller, args.buyer, args.amount);
      }
      // A step names the parties as it concerns them: paying goes from the buyer to the seller, a cancel returns to the seller.
      else if (e.eventName === 'EscrowMarkedPaid') push('escrow_paid', args.buyer, trade?.seller, trade?.amount);
      else if (e.eventName === 'EscrowReleased') push('escrow_released', args.seller, args.buyer, args.amount);
      else if (e.eventName === 'EscrowCancelled') push('escrow_cancelled', args.buyer, args.seller, args.amount);
      else if (ESCROW_KINDS[e.eventName]) throw new Error(`the e2e makes no ${e.eventName}`);
    }
  }
  return out;
}
