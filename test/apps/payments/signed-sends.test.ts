import { describe, expect, it } from 'vitest';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { fromBase64, normalizeSuiAddress } from '@mysten/sui/utils';
import { bcs } from '@mysten/sui/bcs';
import { encodeFunctionData, parseAbiItem, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { addAccount, ensureUser } from '../../../src/apps/payments/accounts.js';
import { cachedBalance } from '../../../src/apps/payments/balances/index.js';
import { CUSD_CONTRACT } from '../../../src/apps/payments/settings.js';
import { cusdAbi } from '../../../src/apps/payments/contracts.js';
import { SUI_TYPE } from '../../../src/chain/sui/simulator/index.js';
import { createApiKey } from '../../../src/http/api-keys.js';
import { EVM_CHAIN, paymentsWorld, SUI_CHAIN, type PaymentsWorld } from '../../harness/payments-world.js';
import { until } from '../../harness/until.js';

const CUSD = (units: number) => BigInt(Math.round(units * 1_000_000));
const SUI = 1_000_000_000n;
const token = 'cUSD';

interface Prepared {
  account: string;
  chain: string;
  to: string;
  amount: string;
  amountFormatted: string;
  evm: { type: string; chainId: number; to: Address; data: Hex; value: string; nonce: number; gas: string; maxFeePerGas: string; maxPriorityFeePerGas: string } | null;
  sui: { transaction: string; digest: string; sponsor: string; gasBudget: string; expiresAt: string } | null;
}
interface SendShape {
  id: string;
  account: string;
  state: string;
  to: string;
  amount: string;
  idempotencyKey: string;
}
/** What the mutations of this file answer. */
interface Answer {
  prepareSend: Prepared;
  sendSigned: SendShape;
  send: SendShape;
}

interface GraphqlResponse {
  status: number;
  data: Answer | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

function graphqlClient(world: PaymentsWorld) {
  return async (key: string, query: string, variables?: Record<string, unknown>): Promise<GraphqlResponse> => {
    const response = await fetch(`${world.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as Omit<GraphqlResponse, 'status'>) };
  };
}
const codes = (response: GraphqlResponse) => (response.errors ?? []).map((e) => e.extensions?.code);

const PREPARE = `mutation ($input: PrepareSendInput!) { prepareSend(input: $input) {
  account chain to amount amountFormatted
  evm { type chainId to data value nonce gas maxFeePerGas maxPriorityFeePerGas }
  sui { transaction digest sponsor gasBudget expiresAt } } }`;
const SEND_SIGNED = `mutation ($input: SendSignedInput!) { sendSigned(input: $input) { id account state mode to amount idempotencyKey intentId transactionId error } }`;
const SEND = `mutation ($input: SendInput!) { send(input: $input) { id state mode to amount } }`;

const platformSui = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(31));
const custodialSui = Ed25519Keypair.fromSecretKey(new Uint8Array(32).fill(32));

/**
 * Sends the user signs on their device (issue 13): the platform prepares what to
 * sign (EVM: the call and suggestions; Sui: a transaction whose gas it pays), the
 * device signs, and sendSigned reserves the amount as custodial sends do and puts
 * the bytes in the outbox, which sends them once. One world for the file (the
 * config module reads the environment once): anvil and the Sui simulator.
 */
describe('payments sends the user signs', () => {
  it('sends user-signed cUSD on EVM and sponsored on Sui once each, refuses what does not fit, fails a replaced one, and sends from a custodial Sui account', async () => {
    const world = await paymentsWorld({
      withSui: true,
      extraEnv: { PAYMENTS_SUI_KEY: platformSui.getSecretKey(), PAYMENTS_SUI_CUSTODIAL_KEY: custodialSui.getSecretKey() },
    });
    const ledger = world.sui!.ledger;
    ledger.fund(platformSui.toSuiAddress(), SUI_TYPE, 100n * SUI, 1);
    ledger.fund(custodialSui.toSuiAddress(), SUI_TYPE, 100n * SUI, 1);
    ledger.fund(custodialSui.toSuiAddress(), ledger.confio.cusdType, CUSD(50), 1);
    ledger.makeCheckpoint();
    ledger.startAutoCheckpoints(100);
    await world.deploy();
    await world.start(['api', 'worker']);
    const pool = world.pool();
    const gql = graphqlClient(world);
    const sendState = (id: string) => until(async () => {
      const { rows } = await pool.query<{ state: string; transaction_id: string | null; error: string | null }>('select state, transaction_id, error from payment_sends where id = $1', [id]);
      return rows[0]!.state !== 'pending' && rows[0]!;
    }, `send ${id} to settle`, 60_000);
    const counts = async () => (await pool.query<{ sends: number; intents: number }>('select (select count(*)::int from payment_sends) as sends, (select count(*)::int from relayer_intents) as intents')).rows[0]!;
    const person = async (ref: string, chain: string, address: string, custody: 'user' | 'custodial' = 'user') => {
      const user = await ensureUser(pool, { externalRef: ref });
      const account = await addAccount(pool, { userId: user.id, chain, address, custody });
      return { account, key: (await createApiKey(pool, { roles: ['payments.user'], scope: { user: user.id } }, ref)).key };
    };

    // ---- EVM: Ana holds her key on her phone; she pays her own gas.
    const started = Date.now();
    const anaWallet = await world.wallet();
    const anaDevice = privateKeyToAccount(anaWallet.key);
    const ana = await person('ana', EVM_CHAIN, anaWallet.address);
    const ben = (await world.wallet()).address;
    await world.mint(anaWallet.address, CUSD(10));
    const cusd = world.contract(CUSD_CONTRACT);

    const prepared = await gql(ana.key, PREPARE, { input: { account: ana.account.id, to: ben, amountFormatted: '2.5' } });
    expect(prepared.errors).toBeUndefined();
    const request = { ...prepared.data!.prepareSend, evm: prepared.data!.prepareSend.evm! };
    expect(request).toMatchObject({ chain: EVM_CHAIN, to: ben, amount: '2500000', amountFormatted: '2.50', sui: null, evm: { type: 'eip1559', chainId: 31337, to: cusd, value: '0', nonce: 0 } });
    const sign = (fields: { nonce: number; data?: Hex; to?: Address }, device = anaDevice) =>
      device.signTransaction({
        type: 'eip1559',
        chainId: request.evm.chainId,
        nonce: fields.nonce,
        to: fields.to ?? request.evm.to,
        data: fields.data ?? request.evm.data,
        value: 0n,
        gas: BigInt(request.evm.gas),
        maxFeePerGas: BigInt(request.evm.maxFeePerGas),
        maxPriorityFeePerGas: BigInt(request.evm.maxPriorityFeePerGas),
      });
    const raw = await sign({ nonce: request.evm.nonce });
    const input = { account: ana.account.id, transaction: raw, idempotencyKey: 'ana-1' };
    const first = await gql(ana.key, SEND_SIGNED, { input });
    expect(first.errors).toBeUndefined();
    expect(first.data!.sendSigned).toMatchObject({ account: ana.account.id, state: 'PENDING', mode: 'USER_SIGNED', to: ben, amount: '2500000', idempotencyKey: 'ana-1' });
    // Submitted again (the phone retried): the same send, nothing more reserved; other bytes under the key conflict.
    const again = await gql(ana.key, SEND_SIGNED, { input });
    expect(again.data!.sendSigned.id).toBe(first.data!.sendSigned.id);
    expect((await cachedBalance(pool, ana.account.id, token))!.pendingOut).toBe(CUSD(2.5));
    const settled = await sendState(first.data!.sendSigned.id);
    expect(settled.state).toBe('confirmed');
    const transfers = await world.publicClient.getLogs({ address: cusd, event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)'), args: { from: anaWallet.address }, fromBlock: 0n });
    expect(transfers.map((t) => [t.transactionHash, t.args.to!.toLowerCase(), t.args.value])).toEqual([[settled.transaction_id, ben, CUSD(2.5)]]);
    expect(await world.balanceOf(ben)).toBe(CUSD(2.5));
    expect((await cachedBalance(pool, ana.account.id, token))!.pendingOut).toBe(0n);
    expect(await world.publicClient.getTransactionCount({ address: anaWallet.address })).toBe(1);

    // The key again with another transaction (nonce 1): a conflict, not a second send.
    const conflict = await gql(ana.key, SEND_SIGNED, { input: { ...input, transaction: await sign({ nonce: 1 }) } });
    expect(codes(conflict)).toEqual(['IDEMPOTENCY_CONFLICT']);

    // More than the balance (7.5 left): INSUFFICIENT_FUNDS, nothing stored.
    const before = await counts();
    const prepareTooMuch = await gql(ana.key, PREPARE, { input: { account: ana.account.id, to: ben, amount: CUSD(8).toString() } });
    expect(codes(prepareTooMuch)).toEqual(['INSUFFICIENT_FUNDS']);
    const tooMuch = await gql(ana.key, SEND_SIGNED, { input: { account: ana.account.id, idempotencyKey: 'too-much', transaction: await sign({ nonce: 1, data: encodeTransfer(ben, CUSD(8)) }) } });
    expect(codes(tooMuch)).toEqual(['INSUFFICIENT_FUNDS']);
    // Bytes of another sender, bytes that are no transaction, a call to another contract: BAD_USER_INPUT, nothing stored.
    const mallory = privateKeyToAccount(`0x${'11'.repeat(32)}`);
    const foreign = await gql(ana.key, SEND_SIGNED, { input: { account: ana.account.id, idempotencyKey: 'foreign', transaction: await sign({ nonce: 0 }, mallory) } });
    expect(codes(foreign)).toEqual(['BAD_USER_INPUT']);
    expect(foreign.errors![0]!.message).toContain(`signed by ${mallory.address.toLowerCase()}`);
    expect(codes(await gql(ana.key, SEND_SIGNED, { input: { account: ana.account.id, idempotencyKey: 'garbage', transaction: '0x1234' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(ana.key, SEND_SIGNED, { input: { account: ana.account.id, idempotencyKey: 'elsewhere', transaction: await sign({ nonce: 1, to: ben }) } }))).toEqual(['BAD_USER_INPUT']);
    expect(await counts()).toEqual(before);
    expect((await cachedBalance(pool, ana.account.id, token))!.pendingOut).toBe(0n);

    // Ana spends nonce 1 from her own wallet first; her signed transfer at nonce 1 then fails, its reservation released.
    const own = await anaWallet.client.sendTransaction({ to: anaWallet.address, value: 0n, nonce: 1 });
    await world.publicClient.waitForTransactionReceipt({ hash: own });
    const nextPrepared = (await gql(ana.key, PREPARE, { input: { account: ana.account.id, to: ben, amount: '1000000' } })).data!.prepareSend;
    expect(nextPrepared.evm!.nonce).toBe(2);
    const replaced = await gql(ana.key, SEND_SIGNED, { input: { account: ana.account.id, idempotencyKey: 'replaced', transaction: await sign({ nonce: 1, data: encodeTransfer(ben, CUSD(1)) }) } });
    expect(replaced.errors).toBeUndefined();
    expect((await cachedBalance(pool, ana.account.id, token))!.pendingOut).toBe(CUSD(1));
    const failed = await sendState(replaced.data!.sendSigned.id);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/SupersededBySender/);
    expect((await cachedBalance(pool, ana.account.id, token))!.pendingOut).toBe(0n);
    expect(await world.balanceOf(ben)).toBe(CUSD(2.5));
    console.log(`EVM user-signed sends: ${Date.now() - started} ms`);

    // ---- Sui: Sol holds an Ed25519 key and no SUI; the platform pays the gas.
    const suiStarted = Date.now();
    const solKey = Ed25519Keypair.generate();
    const sol = await person('sol', SUI_CHAIN, solKey.toSuiAddress());
    ledger.fund(sol.account.address, ledger.confio.cusdType, CUSD(6), 1);
    ledger.fund(sol.account.address, ledger.confio.cusdType, CUSD(4), 1);
    const rosa = normalizeSuiAddress('0xabc123');
    // The platform signer's gas pool is recorded once its relayer has listed its coins.
    await until(async () => (await pool.query("select 1 from sui_owned_objects where signer = $1 and coin_type = $2 and state = 'free'", [normalizeSuiAddress(platformSui.toSuiAddress()), SUI_TYPE])).rows.length > 0, 'the sponsor gas pool', 30_000);
    const suiPrepared = await gql(sol.key, PREPARE, { input: { account: sol.account.id, to: rosa, amountFormatted: '7' } });
    expect(suiPrepared.errors).toBeUndefined();
    const sponsored = { ...suiPrepared.data!.prepareSend, sui: suiPrepared.data!.prepareSend.sui! };
    expect(sponsored).toMatchObject({ chain: SUI_CHAIN, amount: '7000000', evm: null, sui: { sponsor: normalizeSuiAddress(platformSui.toSuiAddress()) } });
    const data = bcs.TransactionData.parse(fromBase64(sponsored.sui.transaction)).V1!;
    expect(normalizeSuiAddress(data.sender)).toBe(sol.account.address);
    expect(normalizeSuiAddress(data.gasData.owner)).toBe(sponsored.sui.sponsor);
    const { signature } = await solKey.signTransaction(fromBase64(sponsored.sui.transaction));
    const suiInput = { account: sol.account.id, transaction: sponsored.sui.transaction, signatures: [signature], idempotencyKey: 'sol-1' };
    // Signed by someone else: refused by the outbox's signature check, nothing stored.
    const beforeSui = await counts();
    const forged = await gql(sol.key, SEND_SIGNED, { input: { ...suiInput, idempotencyKey: 'forged', signatures: [(await Ed25519Keypair.generate().signTransaction(fromBase64(sponsored.sui.transaction))).signature] } });
    expect(codes(forged)).toEqual(['BAD_USER_INPUT']);
    expect(await counts()).toEqual(beforeSui);
    const suiSend = await gql(sol.key, SEND_SIGNED, { input: suiInput });
    expect(suiSend.errors).toBeUndefined();
    expect(suiSend.data!.sendSigned).toMatchObject({ state: 'PENDING', to: rosa, amount: '7000000' });
    expect((await gql(sol.key, SEND_SIGNED, { input: suiInput })).data!.sendSigned.id).toBe(suiSend.data!.sendSigned.id);
    expect((await cachedBalance(pool, sol.account.id, token))!.pendingOut).toBe(CUSD(7));
    const suiSettled = await sendState(suiSend.data!.sendSigned.id);
    expect(suiSettled).toMatchObject({ state: 'confirmed', transaction_id: sponsored.sui.digest });
    // Executed once: one transaction of the intent, one coin at the recipient (Sol's two coins merged, then split).
    const sent = await pool.query('select t.id from relayer_transactions t join payment_sends s on s.intent_id = t.intent_id where s.id = $1', [suiSend.data!.sendSigned.id]);
    expect(sent.rows).toEqual([{ id: sponsored.sui.digest }]);
    expect(ledger.coins(rosa, ledger.confio.cusdType).map((c) => c.balance)).toEqual([CUSD(7)]);
    expect(ledger.balance(sol.account.address, ledger.confio.cusdType).total).toBe(CUSD(3));
    expect(ledger.coins(sol.account.address, SUI_TYPE)).toEqual([]);
    expect((await cachedBalance(pool, sol.account.id, token))!.pendingOut).toBe(0n);
    // More than the 3 left: refused before anything is signed.
    expect(codes(await gql(sol.key, PREPARE, { input: { account: sol.account.id, to: rosa, amountFormatted: '3.5' } }))).toEqual(['INSUFFICIENT_FUNDS']);

    // ---- Sui custodial: Cruz's key is a signer of the platform; send goes through sendCusd, its relayer pays.
    const cruz = await person('cruz', SUI_CHAIN, custodialSui.toSuiAddress(), 'custodial');
    expect(codes(await gql(cruz.key, PREPARE, { input: { account: cruz.account.id, to: rosa, amount: '1' } }))).toEqual(['BAD_USER_INPUT']);
    const custodial = await gql(cruz.key, SEND, { input: { account: cruz.account.id, to: rosa, amountFormatted: '12.5', idempotencyKey: 'cruz-1' } });
    expect(custodial.errors).toBeUndefined();
    expect(custodial.data!.send).toMatchObject({ state: 'PENDING', mode: 'CUSTODIAL', amount: '12500000' });
    expect((await sendState(custodial.data!.send.id)).state).toBe('confirmed');
    expect(ledger.balance(rosa, ledger.confio.cusdType).total).toBe(CUSD(19.5));
    expect(ledger.balance(cruz.account.address, ledger.confio.cusdType).total).toBe(CUSD(37.5));
    expect((await cachedBalance(pool, cruz.account.id, token))!.pendingOut).toBe(0n);
    console.log(`Sui sponsored and custodial sends: ${Date.now() - suiStarted} ms`);
  }, 120_000);
});

const encodeTransfer = (to: Address, amount: bigint): Hex => encodeFunctionData({ abi: cusdAbi, functionName: 'transfer', args: [to, amount] });
