import { describe, expect, it, onTestFinished } from 'vitest';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { connectDatabase } from '../../../src/db/client.js';
import { CLI_WITH_TS_CONFIG, RunningCli } from '../../harness/cli.js';
import { paymentsWorld, SUI_CHAIN } from '../../harness/payments-world.js';
import { mulberry32 } from '../../harness/rpc-proxy.js';
import { RECONCILE_TASK } from '../../../src/apps/payments/balances/index.js';
import { runJob } from './jobs.js';
import { until } from '../../harness/until.js';
import { between } from './evm-traffic.js';
import { CUSD, suiAddress, SuiTraffic, type ExpectedRecord } from './sui-traffic.js';

/** PAYMENTS_E2E_USERS and PAYMENTS_E2E_KILLS shrink the run while working on it; the suite runs 200 and 20. */
const USERS = Number(process.env.PAYMENTS_E2E_USERS ?? 200);
const KILLS = Number(process.env.PAYMENTS_E2E_KILLS ?? 20);
const MERCHANTS = 3;
/**
 * The traffic comes in ticks, TICK_MS apart, spread over the poller's lives and while one
 * is at work: tick t waits for t × KILLS / TICKS kills and a poller that has moved since its
 * start, so that every life has fresh traffic to work on when it is killed.
 * Each tick, SENDERS customers send (a transfer, or one time in 7 a Pay payment) and, one
 * tick in 3, an outsider pays a user in (up to 49 cUSD).
 */
const TICKS = Math.max(60, 8 * KILLS);
const TICK_MS = 100;
const SENDERS = 3;
/** A checkpoint this often, traffic or not: the simulator runs in this process and the chain must go on while the poller is down. */
const CHECKPOINT_MS = 200;
/** Reproduce a run with PAYMENTS_CRASH_SEED=<the seed it logged>. */
const SEED = Number(process.env.PAYMENTS_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 32));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The push each record kind gives its recipient (handlers/{cusd,pay,p2p}.ts); escrow_paid tells no one, escrow_created has no recipient on Sui. */
const PUSHED: Record<string, string | undefined> = {
  transfer: 'payment_received',
  payment: 'merchant_payment_received',
  escrow_released: 'escrow_released',
  escrow_cancelled: 'escrow_cancelled',
};

const keyOf = (r: ExpectedRecord) => `${r.transaction}|${r.eventIndex}|${r.kind}|${r.sender ?? '-'}|${r.recipient ?? '-'}|${r.amount}|${r.fee}|${r.reference ?? '-'}`;

/**
 * Confío payments on the Sui simulator with the app's roles as separate processes
 * (`ledgersync api`, `indexer`, `worker`): 200 users, cUSD minted to them and sent
 * to them by outsiders, plain transfers between them (no event: balance changes
 * only), Pay payments to merchants, one P2P trade released and one cancelled,
 * while the poller (the indexer process) is SIGKILLed at 20 random moments and
 * restarted. The expected records come from what the test asked the simulator's
 * Confío helpers to do (sui-traffic.ts), not from the app's handlers; at the end the
 * records, raw rows, notifications and balances equal them and the simulator's state,
 * and every recipient got exactly one notification per payment.
 */
describe('payments end to end on the Sui simulator', () => {
  it(`${USERS} users: records, balances and notifications equal the chain through ${KILLS} SIGKILLs of the poller`, async () => {
    const started = Date.now();
    const killRandom = mulberry32(SEED);
    const flowRandom = mulberry32(SEED ^ 0x9e3779b9);
    const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
    log(`payments e2e (Sui): seed ${SEED} (PAYMENTS_CRASH_SEED=${SEED} repeats its lives, pauses and traffic)`);

    const world = await paymentsWorld({ withSui: true });
    const ledger = world.sui!.ledger;
    const { confio } = ledger;
    // The EVM chain of the config too: the api is ready once every configured chain is indexed. Deploying applies the migrations.
    expect(await world.deploy()).toMatch(/P2PTrade deployed at 0x/);
    log('deployed and migrated');
    const { pool, close } = connectDatabase(world.database.url, { max: 4 });
    onTestFinished(close);

    // The users, as the app's sign-up makes them: each with a device to notify and a Sui address of their own.
    const addresses = Array.from({ length: USERS }, (_, i) => suiAddress(SEED, `user-${i}`));
    const userOf = new Map<string, { id: string; device: string }>();
    for (const [i, address] of addresses.entries()) {
      const user = await ensureUser(pool, { externalRef: `user-${i}`, locale: i % 4 === 0 ? 'en' : 'es', push: { provider: 'webhook', target: `device-${i}` } });
      await addAccount(pool, { userId: user.id, chain: SUI_CHAIN, address });
      userOf.set(address, { id: user.id, device: `device-${i}` });
    }
    const outsiders = [suiAddress(SEED, 'outsider-0'), suiAddress(SEED, 'outsider-1')];
    const traffic = new SuiTraffic(ledger, new Set(addresses));
    log(`${USERS} users signed up`);

    // The chain goes on by itself, as a network does, whatever the poller's state.
    ledger.startAutoCheckpoints(CHECKPOINT_MS);
    onTestFinished(() => ledger.stopAutoCheckpoints());

    const spawn = (role: 'api' | 'indexer' | 'worker') => new RunningCli([role], { cwd: world.cwd, env: world.env, script: CLI_WITH_TS_CONFIG });
    const api = spawn('api');
    const worker = spawn('worker');
    let poller = spawn('indexer');
    onTestFinished((context) => {
      if (context.task.result?.state === 'fail') console.log(`worker output:\n${worker.output.slice(-5000)}\nindexer output:\n${poller.output.slice(-5000)}`);
    });
    await api.waitForReady(`${world.base}/ready`);
    log('the api is ready');
    const indexed = async () => {
      const { rows } = await pool.query<{ n: string | null }>(`select max(block_number)::text as n from indexer_checkpoints where chain = $1`, [SUI_CHAIN]).catch(() => ({ rows: [{ n: null }] }));
      return rows[0]?.n ? Number(rows[0].n) : -1;
    };

    // The killer: once the poller has moved since its start, it lives a random while more, is killed, and is back after a random pause.
    let kills = 0;
    /** A poller is up and has moved since its start: traffic flows only then, so that each kill interrupts work. */
    let working = false;
    const killer = (async () => {
      while (kills < KILLS) {
        const from = await indexed();
        await until(async () => (await indexed()) > from, 'the poller never moved after its start', 60_000);
        log(`poller ${kills + 1} moved past ${from}`);
        working = true;
        await sleep(between(killRandom, 200, 2500));
        working = false;
        await poller.kill();
        kills++;
        await sleep(between(killRandom, 100, 1200));
        poller = spawn('indexer');
      }
    })();
    const afterKills = (n: number) => until(() => kills >= n && (working || kills >= KILLS), `${n} kills and a poller at work`, 300_000, 10);

    // The traffic, spread over the poller's lives: each wallet one transaction at a time, as a device sends.
    for (const address of addresses) traffic.mint(address, 100n * CUSD);
    for (const address of outsiders) traffic.mint(address, 10_000n * CUSD);
    log(`minted to ${USERS} users and 2 outsiders`);
    // Every balance read once, fresh, before the traffic: from here on only the poller's stale marks tell the cache that
    // money moved, across the kills. The last reconcile finds any mark missed as a drift.
    const minted = ledger.height + 1;
    await until(async () => (await indexed()) >= minted, 'the poller reaching the mints', 120_000);
    await runJob(pool, RECONCILE_TASK);
    expect((await pool.query(`select count(*)::int as n from payment_balances where not stale and height >= $1`, [minted])).rows[0].n).toBe(USERS);
    log('every balance read and fresh');
    const merchants = addresses.slice(0, MERCHANTS);
    const customers = addresses.slice(MERCHANTS);
    const [seller, buyer] = customers.slice(-2) as [string, string];
    // The trades' steps, each at its tick: created, accepted, released; created, cancelled.
    const at = (share: number) => Math.floor(TICKS * share);
    const trades = new Map<number, () => string>([
      [at(0.2), () => traffic.createTrade(seller, 'trade-released', 5n * CUSD)],
      [at(0.35), () => traffic.acceptTrade(buyer, 'trade-released')],
      [at(0.5), () => traffic.releaseTrade(seller, 'trade-released')],
      [at(0.6), () => traffic.createTrade(seller, 'trade-cancelled', 3n * CUSD)],
      [at(0.75), () => traffic.cancelTrade(seller, 'trade-cancelled')],
    ]);
    let sent = 0;
    for (let tick = 0; tick < TICKS; tick++) {
      await Promise.all([afterKills(Math.floor((tick * KILLS) / TICKS)), sleep(TICK_MS)]);
      for (let i = 0; i < SENDERS; i++) {
        const from = customers[between(flowRandom, 0, customers.length)]!;
        const to = addresses[between(flowRandom, 0, USERS)]!;
        const amount = BigInt(between(flowRandom, 1, 300)) * 10_000n;
        const pay = flowRandom() < 1 / 7;
        // The trades' seller keeps its money for them.
        if (to === from || from === seller || traffic.balance(from) < amount) continue;
        if (pay) traffic.pay(from, merchants[between(flowRandom, 0, MERCHANTS)]!, amount, `order-${tick}-${i}`);
        else traffic.transfer(from, to, amount);
        sent++;
      }
      if (tick % 3 === 0) traffic.transfer(outsiders[tick % 2]!, addresses[between(flowRandom, 0, USERS)]!, BigInt(between(flowRandom, 1, 50)) * CUSD);
      trades.get(tick)?.();
      if (tick % 20 === 0) log(`tick ${tick}/${TICKS}: ${sent} sent by customers; kills so far ${kills}, checkpoint ${ledger.height}, poller at ${await indexed()}`);
    }
    log(`traffic done: ${traffic.digests.length} transactions`);

    await killer;
    log(`${kills} kills done`);
    const head = ledger.makeCheckpoint();
    await until(async () => (await indexed()) >= head, 'the poller did not catch up', 120_000);
    log(`the poller reached checkpoint ${head}`);

    // Records: exactly those the test's transactions justify, each at its item's position.
    const expected = traffic.records();
    const { rows } = await pool.query<{ transaction_id: string; event_index: number; kind: string; sender_address: string | null; recipient_address: string | null; amount: string; fee: string; reference: string | null; token: string }>(
      `select transaction_id, event_index, kind, sender_address, recipient_address, amount::text, fee::text, reference, token from payment_transactions where chain = $1`,
      [SUI_CHAIN],
    );
    expect(rows.every((r) => r.token === 'cUSD')).toBe(true);
    const records = rows.map((r): ExpectedRecord => ({ transaction: r.transaction_id, eventIndex: r.event_index, kind: r.kind, sender: r.sender_address, recipient: r.recipient_address, amount: r.amount, fee: r.fee, reference: r.reference }));
    expect(records.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
    log(`${records.length} records equal the test's transactions`);

    // Raw rows: every transaction the test made (each touches a user or calls Confío's packages) once, as the simulator's own ground truth says.
    const truth = ledger.truth({ packages: [confio.packages.cusd, confio.packages.pay, confio.packages.p2pTrade], addresses, to: head });
    expect(new Set(truth.transactions.map((t) => t.digest))).toEqual(new Set(traffic.digests));
    const { rows: raw } = await pool.query<{ transaction_id: string }>(`select transaction_id from payment_raw_events where chain = $1`, [SUI_CHAIN]);
    expect(raw.map((r) => r.transaction_id).sort()).toEqual([...traffic.digests].sort());

    // No handler failed, whatever the kills interrupted.
    const { rows: failed } = await pool.query(`select * from payment_processing_log where outcome = 'failed'`);
    expect(failed).toEqual([]);

    // Notifications: one per record received by a user, to that user's device, delivered once across all the kills.
    const notifiable = expected.filter((r) => r.recipient && userOf.has(r.recipient) && PUSHED[r.kind]);
    const expectedKeys = notifiable.map((r) => `${SUI_CHAIN}:${r.transaction}:${r.eventIndex}:${userOf.get(r.recipient!)!.id}:${PUSHED[r.kind]}`);
    await until(() => world.notifications.length >= notifiable.length, `${notifiable.length} notifications (have ${world.notifications.length})`, 120_000);
    await sleep(2000);
    expect(world.notifications.map((n) => n.idempotencyKey).sort()).toEqual(expectedKeys.sort());
    const deviceOf = new Map([...userOf.values()].map((u) => [u.id, u.device]));
    for (const n of world.notifications) expect(n.to, n.idempotencyKey).toBe(deviceOf.get(n.idempotencyKey.split(':').at(-2)!));
    log(`${world.notifications.length} notifications, each once`);

    // Balances: refreshed from the chain by the app's own task, then equal to the simulator's (and to what the test moved).
    await runJob(pool, RECONCILE_TASK);
    expect((await pool.query(`select count(*)::int as n from payment_balances where not stale and height >= $1`, [head])).rows[0].n).toBe(USERS);
    // The poller marked every balance it touched: the reconcile found not one drift.
    expect((await pool.query('select account_id::text, cached::text, on_chain::text, height::text from payment_balance_drifts')).rows).toEqual([]);
    const { rows: balances } = await pool.query<{ address: string; amount: string }>(
      `select a.address, b.amount::text from payment_balances b join payment_accounts a on a.id = b.account_id where a.chain = $1`,
      [SUI_CHAIN],
    );
    expect(balances).toHaveLength(USERS);
    for (const { address, amount } of balances) {
      const onChain = ledger.balance(address, confio.cusdType).total;
      expect(onChain, address).toBe(traffic.balance(address));
      expect(BigInt(amount), address).toBe(onChain);
    }
    // The poller marked every balance it touched stale: the reconciliation found no drift.
    const { rows: drifts } = await pool.query(`select * from payment_balance_drifts`);
    expect(drifts).toEqual([]);
    log('balances equal the simulator');
  }, 900_000);
});
