import { describe, expect, it } from 'vitest';
import { createWalletClient, http as viemHttp, parseAbiItem } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { IdempotencyConflictError } from '../../../src/engine/index.js';
import { cusdAbi } from '../../../src/apps/payments/contracts.js';
import { CUSD_CONTRACT } from '../../../src/apps/payments/settings.js';
import { cachedBalance } from '../../../src/apps/payments/balances/index.js';
import { findSend, InsufficientFundsError, InvalidSendError, NotCustodialError, sendCusd, type Send } from '../../../src/apps/payments/sends/index.js';
import { paymentsWorld } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';
import { DEV_KEYS } from './dev-keys.js';
import { evmAccount, paymentsPorts } from './balance-ports.js';

const AMOUNT = 1_000_000n; // 1 cUSD
const token = 'cUSD';

/**
 * Custodial sends (seed 004's critical path): the balance is read from the chain
 * and the amount reserved in the same transaction that records the send and
 * puts its intent in the outbox, so parallel sends can never spend the same
 * money twice; the relayer's outcome settles each and releases its reservation.
 * One world per file (the config module reads the environment once).
 */
describe('payments sends (custodial)', () => {
  it('reserves atomically under 20 parallel sends, settles what the relayer sends, and releases a failed send', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start([]);
    const { ports } = await paymentsPorts(world);
    const pool = world.pool();
    const ana = await evmAccount(world, 'ana', { key: 1 });
    const outsider = await world.wallet();
    const ben = await evmAccount(world, 'ben', { address: outsider.address });
    await world.mint(ana.address, 10n * AMOUNT);

    // Refused before anything is reserved: not custodial, bad amount, to itself.
    await expect(sendCusd(ports, { accountId: ben.id, to: ana.address, amount: AMOUNT, idempotencyKey: 'from-ben' })).rejects.toThrow(NotCustodialError);
    await expect(sendCusd(ports, { accountId: ana.id, to: ben.address, amount: 0n, idempotencyKey: 'zero' })).rejects.toThrow(InvalidSendError);
    await expect(sendCusd(ports, { accountId: ana.id, to: ana.address, amount: AMOUNT, idempotencyKey: 'self' })).rejects.toThrow(InvalidSendError);

    // 20 at once, money for 10: the row lock serialises the reservations.
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => sendCusd(ports, { accountId: ana.id, to: ben.address, amount: AMOUNT, idempotencyKey: `parallel-${i}` })),
    );
    const reserveMs = Date.now() - started;
    const accepted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(10);
    for (const error of refused) {
      expect(error).toBeInstanceOf(InsufficientFundsError);
      expect((error as InsufficientFundsError).available).toBe(0n);
    }
    expect(accepted.every((r) => r.created && r.send.state === 'pending' && r.send.recipientAccount === ben.id)).toBe(true);
    expect((await cachedBalance(pool, ana.id, token))!.pendingOut).toBe(10n * AMOUNT);
    expect((await cachedBalance(pool, ben.id, token))!.pendingIn).toBe(10n * AMOUNT);
    console.log(`20 parallel sends reserved/refused in ${reserveMs} ms`);

    // The same key again: the same send, nothing more reserved; the key for another request is a conflict.
    const first = accepted[0]!.send;
    const again = await sendCusd(ports, { accountId: ana.id, to: ben.address, amount: AMOUNT, idempotencyKey: first.idempotencyKey });
    expect(again).toEqual({ send: first, created: false });
    await expect(sendCusd(ports, { accountId: ana.id, to: ben.address, amount: 2n * AMOUNT, idempotencyKey: first.idempotencyKey })).rejects.toThrow(IdempotencyConflictError);
    expect((await cachedBalance(pool, ana.id, token))!.pendingOut).toBe(10n * AMOUNT);
    expect((await pool.query('select count(*)::int as n from payment_sends')).rows[0].n).toBe(10);

    // The worker's relayer sends them, signed by Ana's key; each final outcome settles its send.
    await world.start(['worker']);
    const settled = await until(async () => {
      const sends = await Promise.all(accepted.map((r) => findSend(pool, r.send.id)));
      return sends.every((s) => s!.state !== 'pending') && (sends as Send[]);
    }, 'the 10 sends to settle', 60_000);
    expect(settled.map((s) => s.state)).toEqual(Array(10).fill('confirmed'));
    expect(new Set(settled.map((s) => s.transactionId)).size).toBe(10);
    const transfers = await world.publicClient.getLogs({
      address: world.contract(CUSD_CONTRACT),
      event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'),
      args: { from: ana.address },
      fromBlock: 0n,
    });
    expect(transfers).toHaveLength(10);
    expect(transfers.every((t) => t.args.to!.toLowerCase() === ben.address && t.args.value === AMOUNT)).toBe(true);
    expect(await world.balanceOf(ana.address)).toBe(0n);
    expect(await world.balanceOf(ben.address)).toBe(10n * AMOUNT);
    const [anaRow, benRow] = [(await cachedBalance(pool, ana.id, token))!, (await cachedBalance(pool, ben.id, token))!];
    expect([anaRow.pendingOut, anaRow.stale, benRow.pendingIn, benRow.stale]).toEqual([0n, true, 0n, true]);

    // A send that reverts (cUSD paused by its admin before it is sent) is failed with the reason, its reservation released.
    const cara = await evmAccount(world, 'cara', { key: 2 });
    await world.mint(cara.address, 3n * AMOUNT);
    const admin = createWalletClient({ chain: foundry, transport: viemHttp(world.anvil.rpcUrl), account: privateKeyToAccount(DEV_KEYS[0]) });
    await world.publicClient.waitForTransactionReceipt({ hash: await admin.writeContract({ address: world.contract(CUSD_CONTRACT), abi: cusdAbi, functionName: 'pause' }) });
    const { send: doomed } = await sendCusd(ports, { accountId: cara.id, to: outsider.address, amount: 2n * AMOUNT, idempotencyKey: 'while-paused' });
    expect((await cachedBalance(pool, cara.id, token))!.pendingOut).toBe(2n * AMOUNT);
    const failed = await until(async () => {
      const send = await findSend(pool, doomed.id);
      return send!.state !== 'pending' && send;
    }, 'the paused send to settle', 60_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/EnforcedPause/);
    expect(failed.settledAt).toBeInstanceOf(Date);
    const caraRow = (await cachedBalance(pool, cara.id, token))!;
    expect([caraRow.pendingOut, caraRow.pendingIn, caraRow.stale]).toEqual([0n, 0n, true]);
    expect(await world.balanceOf(cara.address)).toBe(3n * AMOUNT);
  }, 120_000);
});
