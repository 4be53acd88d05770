import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { createApiKey } from '../../../src/http/api-keys.js';
import { RECEIVED_CHANNEL } from '../../../src/apps/payments/graphql/subscriptions.js';
import { cusdAbi } from '../../../src/apps/payments/contracts.js';
import { privateKeyToAccount } from 'viem/accounts';
import { DEV_KEYS } from './dev-keys.js';
import { paymentsWorld, EVM_CHAIN, type PaymentsWorld } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
  at: number;
}

/** A graphql-transport-ws client: what Apollo's and urql's clients speak; every message kept with when it arrived. */
async function subscriber(world: PaymentsWorld, authorization: string | undefined) {
  const socket = new WebSocket(`${world.base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  onTestFinished(() => socket.close());
  const messages: Message[] = [];
  socket.on('message', (data) => messages.push({ ...(JSON.parse(String(data)) as Omit<Message, 'at'>), at: Date.now() }));
  await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: authorization ? { authorization } : {} }));
  await until(() => messages.some((m) => m.type === 'connection_ack'), 'connection_ack');
  let next = 0;
  return {
    messages,
    subscribe(query: string, variables: Record<string, unknown> = {}) {
      const id = String(++next);
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
      return id;
    },
    of: (id: string) => messages.filter((m) => m.id === id),
  };
}

const RECEIVED = 'subscription ($a: ID) { paymentReceived(account: $a) { account chain transactionId eventIndex kind token amount amountFormatted sender reference blockNumber } }';

describe('payments GraphQL subscription', () => {
  it('pushes each payment to its user only, over a WebSocket authenticated by connection_init, and survives a lost LISTEN connection', async () => {
    const world = await paymentsWorld();
    await world.deploy();
    await world.start(['api']);
    const pool = world.pool();
    const ana = await ensureUser(pool, { externalRef: 'user-ana' });
    const ben = await ensureUser(pool, { externalRef: 'user-ben' });
    const anaAccount = await addAccount(pool, { userId: ana.id, chain: EVM_CHAIN, address: '0x00000000000000000000000000000000000a0a0a' });
    const benAccount = await addAccount(pool, { userId: ben.id, chain: EVM_CHAIN, address: '0x00000000000000000000000000000000000b0b0b' });
    const anaKey = (await createApiKey(pool, { roles: ['payments.user'], scope: { user: ana.id } }, 'ana')).key;
    const benKey = (await createApiKey(pool, { roles: ['payments.user'], scope: { user: ben.id } }, 'ben')).key;

    // What the payments projection sends for a record received by one of our accounts (when its block commits).
    let tx = 0;
    const notify = async (account: { id: string; userId: string }, amount: string) => {
      const notice = { accountId: account.id, userId: account.userId, chain: EVM_CHAIN, transactionId: `0x${(++tx).toString(16).padStart(64, '0')}`, eventIndex: 2, kind: 'transfer', token: 'cUSD', amount, sender: '0x00000000000000000000000000000000000000ee', reference: null, blockNumber: String(100 + tx) };
      await pool.query('select pg_notify($1, $2)', [RECEIVED_CHANNEL, JSON.stringify(notice)]);
      return { notice, sentAt: Date.now() };
    };

    // Without a key, with a bad one, or for another user's account: the subscription fails with a code, the connection stays.
    const anonymous = await subscriber(world, undefined);
    const refused = anonymous.subscribe(RECEIVED);
    await until(() => anonymous.of(refused).length > 0, 'an error for the anonymous subscription');
    expect(anonymous.of(refused)[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    const badKey = await subscriber(world, 'Bearer lsk_000000000000_nonsense');
    const refusedToo = badKey.subscribe(RECEIVED);
    await until(() => badKey.of(refusedToo).length > 0, 'an error for the bad key');
    expect(badKey.of(refusedToo)[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    const anaSocket = await subscriber(world, `Bearer ${anaKey}`);
    const snooping = anaSocket.subscribe(RECEIVED, { a: benAccount.id });
    await until(() => anaSocket.of(snooping).length > 0, 'an error for the snooping subscription');
    expect(anaSocket.of(snooping)[0]).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'FORBIDDEN' } }] });

    // Ana's subscriptions (all her accounts, and the one account) and Ben's: each hears its own user's payments only.
    const anaAll = anaSocket.subscribe(RECEIVED);
    const anaOne = anaSocket.subscribe(RECEIVED, { a: anaAccount.id });
    const benSocket = await subscriber(world, `Bearer ${benKey}`);
    const benAll = benSocket.subscribe(RECEIVED);
    // A subscription is live once the server has subscribed it; the only sign is a delivery, so Ana's first is retried until one arrives.
    await until(async () => (await notify(anaAccount, '1'), anaSocket.of(anaAll).length > 0), 'the first delivery to Ana', 30_000, 200);
    await until(async () => (await notify(benAccount, '1'), benSocket.of(benAll).length > 0), 'the first delivery to Ben', 30_000, 200);
    // Priming notices still in flight land before counting starts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = { ana: anaSocket.of(anaAll).length, one: anaSocket.of(anaOne).length, ben: benSocket.of(benAll).length };

    const toAna = await notify(anaAccount, '5000000');
    await until(() => anaSocket.of(anaAll).length > before.ana && anaSocket.of(anaOne).length > before.one, "Ana's payment");
    const delivered = anaSocket.of(anaAll).at(-1)!;
    expect(delivered.at - toAna.sentAt).toBeLessThan(1000);
    expect(delivered).toMatchObject({
      type: 'next',
      payload: {
        data: {
          paymentReceived: {
            account: anaAccount.id,
            chain: EVM_CHAIN,
            transactionId: toAna.notice.transactionId,
            eventIndex: 2,
            kind: 'TRANSFER',
            token: 'cUSD',
            amount: '5000000',
            amountFormatted: '5.00',
            sender: '0x00000000000000000000000000000000000000ee',
            reference: null,
            blockNumber: toAna.notice.blockNumber,
          },
        },
      },
    });
    // Ben heard nothing of Ana's: what he has are his own.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(benSocket.of(benAll).length).toBe(before.ben);
    expect(benSocket.of(benAll).every((m) => (m.payload as { data: { paymentReceived: { account: string } } }).data.paymentReceived.account === benAccount.id)).toBe(true);

    // The LISTEN connection dies (PostgreSQL restarted, a proxy cut it): the feed listens again on a new one.
    const listeners = async () => (await pool.query<{ pid: number }>(`select pid from pg_stat_activity where query = $1`, [`listen ${RECEIVED_CHANNEL}`])).rows.map((r) => r.pid);
    const [killed] = await listeners();
    expect(killed).toBeDefined();
    await pool.query('select pg_terminate_backend($1)', [killed]);
    await until(async () => (await listeners()).some((pid) => pid !== killed), 'a new LISTEN connection', 5000);
    const afterLoss = anaSocket.of(anaAll).length;
    const again = await notify(anaAccount, '7');
    await until(() => anaSocket.of(anaAll).length > afterLoss, 'a payment after the LISTEN connection was lost');
    expect(anaSocket.of(anaAll).at(-1)!.at - again.sentAt).toBeLessThan(1000);

    // End to end: a wallet's transfer mined on anvil, recorded by the poller (indexer role), pushed within a second of its block.
    await world.start(['indexer']);
    const outsider = await world.wallet();
    await world.mint(outsider.address, 50_000_000n);
    const received = () => anaSocket.of(anaAll).filter((m) => (m.payload as { data?: { paymentReceived?: { transactionId: string } } }).data?.paymentReceived?.transactionId === hash);
    let hash: `0x${string}` = '0x';
    for (let i = 0; i < 3; i++) {
      hash = await outsider.client.writeContract({ address: world.contract('CUSD'), abi: cusdAbi, functionName: 'transfer', args: [anaAccount.address as `0x${string}`, 2_000_000n + BigInt(i)] });
      // When the block holding it is mined, as close as the test can see it (anvil mines every second).
      const mined = await until(async () => (await world.publicClient.getTransactionReceipt({ hash }).catch(() => undefined)) && Date.now(), 'the transfer mined', 10_000, 10);
      await until(() => received().length > 0, 'the transfer pushed to Ana', 10_000, 10);
      const push = received()[0]!;
      expect(push.payload).toMatchObject({ data: { paymentReceived: { account: anaAccount.id, kind: 'TRANSFER', amount: String(2_000_000n + BigInt(i)), sender: outsider.address } } });
      expect(push.at - mined, `transfer ${i}: pushed ${push.at - mined} ms after its block was seen`).toBeLessThan(1000);
    }

    // And a send through the API (Carl's custodial account, dev key 1) reaches Ana the same way once the relayer has it mined.
    await world.start(['worker']);
    const carl = await ensureUser(pool, { externalRef: 'user-carl' });
    const carlAccount = await addAccount(pool, { userId: carl.id, chain: EVM_CHAIN, address: privateKeyToAccount(DEV_KEYS[1]).address, custody: 'custodial' });
    const carlKey = (await createApiKey(pool, { roles: ['payments.user'], scope: { user: carl.id } }, 'carl')).key;
    await world.mint(carlAccount.address as `0x${string}`, 3_000_000n);
    const response = await fetch(`${world.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${carlKey}` },
      body: JSON.stringify({ query: 'mutation ($i: SendInput!) { send(input: $i) { id state } }', variables: { i: { account: carlAccount.id, to: anaAccount.address, amountFormatted: '1.5', idempotencyKey: 'carl-to-ana' } } }),
    });
    const sent = (await response.json()) as { data: { send: { id: string; state: string } } };
    expect(sent.data.send.state).toBe('PENDING');
    const fromCarl = await until(() => anaSocket.of(anaAll).find((m) => (m.payload as { data?: { paymentReceived?: { sender: string } } }).data?.paymentReceived?.sender === carlAccount.address), 'the send pushed to Ana', 30_000);
    expect(fromCarl.payload).toMatchObject({ data: { paymentReceived: { account: anaAccount.id, amount: '1500000', amountFormatted: '1.50' } } });
  });
});
