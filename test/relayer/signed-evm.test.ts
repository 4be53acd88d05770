import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWalletClient, encodeFunctionData, http, serializeTransaction, type Address, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { cusdAbi, cusdBytecode } from '../../contracts/artifacts/CUSD.js';
import { testLedgerAbi } from '../../contracts/artifacts/TestLedger.js';
import { evmIntent } from '../../src/chain/evm/app.js';
import { recordDeployment } from '../../src/chain/evm/deployments.js';
import { IdempotencyConflictError, IntentRejectedError, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import type { SettledIntent } from '../../src/core/relayer/types.js';
import { intentRoutes } from '../../src/core/relayer/routes.js';
import { createApiKey } from '../../src/http/api-keys.js';
import { buildServer } from '../../src/http/server.js';
import { createLogger } from '../../src/runtime/logger.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { inTransaction } from '../../src/db/transaction.js';
import { ledgerIntents } from '../app/index.js';
import { RunningCli, scratchDir } from '../harness/cli.js';
import { RELAYER_KEY, ledgerRelayerWorld } from '../harness/ledger-relayer.js';
import type { FaultPlan } from '../harness/rpc-proxy.js';
import { until } from '../harness/until.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
const user = (index: number) => mnemonicToAccount(MNEMONIC, { addressIndex: index });
const FEES = { type: 'eip1559' as const, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

/**
 * A world with the test ledger and a cUSD contract (CUSD, minted to users by anvil's
 * first account), whose `cusd.send` kind users sign transfers of on their devices.
 */
async function cusdWorld(options: { blockTime?: number; node?: FaultPlan } = {}) {
  const told: Array<{ hook: string; intent: SettledIntent }> = [];
  const cusdKind = evmIntent({
    name: 'cusd.send',
    chain: 'evm:31337',
    abi: cusdAbi,
    contract: 'CUSD',
    onConfirmed: async (intent) => void told.push({ hook: 'onConfirmed', intent }),
    onFailed: async (intent) => void told.push({ hook: 'onFailed', intent }),
  });
  const w = await ledgerRelayerWorld({ kinds: [...ledgerIntents('evm:31337'), cusdKind], blockTime: options.blockTime ?? 0.2, ...(options.node ? { node: options.node } : {}) });
  const admin = createWalletClient({ account: user(0), chain: foundry, transport: http(w.world.rpcUrl) });
  const deployed = await w.world.publicClient.waitForTransactionReceipt({
    hash: await admin.deployContract({ abi: cusdAbi, bytecode: cusdBytecode, args: [user(0).address, user(0).address] }),
    pollingInterval: 50,
  });
  const cusd = deployed.contractAddress!.toLowerCase() as Address;
  recordDeployment(w.world.deploymentsFile, 'evm:31337', 'CUSD', { address: cusd, blockNumber: Number(deployed.blockNumber) });
  const mint = async (to: Address, amount: bigint) =>
    w.world.publicClient.waitForTransactionReceipt({ hash: await admin.writeContract({ address: cusd, abi: cusdAbi, functionName: 'mint', args: [to, amount] }), pollingInterval: 50 });

  /** A transfer of cUSD the user `from` signs at `nonce` (what a wallet app on the user's phone makes). */
  const signTransfer = (from: number, nonce: number, to: Address, amount: bigint, overrides: { chainId?: number; to?: Address; data?: Hex } = {}) =>
    user(from).signTransaction({
      chainId: overrides.chainId ?? 31337,
      nonce,
      to: overrides.to ?? cusd,
      data: overrides.data ?? encodeFunctionData({ abi: cusdAbi, functionName: 'transfer', args: [to, amount] }),
      gas: 100_000n,
      ...FEES,
    });
  const balanceOf = (address: Address) => w.world.publicClient.readContract({ address: cusd, abi: cusdAbi, functionName: 'balanceOf', args: [address] });
  const nonceOf = (address: Address) => w.world.publicClient.getTransactionCount({ address, blockTag: 'latest' });
  const signed = (idempotencyKey: string, transaction: Hex, kind = 'cusd.send'): SubmitIntent => ({ idempotencyKey, kind, signed: { transaction } });
  return { ...w, told, cusd, mint, signTransfer, balanceOf, nonceOf, signed };
}

describe('user-signed EVM transactions through the outbox', () => {
  it('sends a user-signed cUSD transfer exactly once, submitted twice under one key, and follows it to confirmed', async () => {
    const w = await cusdWorld();
    const alice = user(3).address;
    const bob = user(4).address.toLowerCase() as Address;
    await w.mint(alice, 1_000_000n);
    const raw = await w.signTransfer(3, 0, bob, 250_000n);
    const relayerNonce = await w.nonceOnChain();

    const [first] = await w.submit([w.signed('send-1', raw)]);
    const [again] = await w.submit([w.signed('send-1', raw)]);
    expect(first).toMatchObject({ state: 'signed', created: true });
    expect(again).toEqual({ id: first!.id, state: 'signed', created: false });
    // The same bytes under another key are the same transaction: refused, it is sent once.
    await expect(w.submit([w.signed('send-1-other-key', raw)])).rejects.toThrow(/already submitted \(idempotency key send-1\)/);
    // Refused, it leaves nothing behind even in a transaction the app goes on to commit.
    await inTransaction(w.database.pool, async (client) => {
      await expect(w.outbox.submit(client, w.signed('orphan', raw))).rejects.toBeInstanceOf(IntentRejectedError);
    });
    expect(await w.intent('orphan')).toBeUndefined();
    // Another transaction under the key is another request.
    await expect(w.submit([w.signed('send-1', await w.signTransfer(3, 1, bob, 1n))])).rejects.toBeInstanceOf(IdempotencyConflictError);

    const intent = await w.intent('send-1');
    expect(intent).toMatchObject({
      kind: 'cusd.send',
      signer: w.account.address.toLowerCase(),
      sender: alice.toLowerCase(),
      target: w.cusd,
      contract: 'CUSD',
      function_name: 'transfer',
      args: [bob, '250000'],
      sequence: 0n,
      state: 'signed',
    });
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 1 });
    const transactions = await w.transactionsOf('send-1');
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.status).toBe('mined');
    expect((await w.intent('send-1')).transaction_id).toBe(transactions[0]!.hash);
    expect(await w.balanceOf(bob)).toBe(250_000n);
    expect(await w.nonceOf(alice)).toBe(1);
    // The platform's signer sent nothing of its own for it.
    expect(await w.nonceOnChain()).toBe(relayerNonce);
    const { rows: nonces } = await w.database.pool.query('select signer, next_nonce from evm_nonces');
    expect(nonces).toEqual([{ signer: w.account.address.toLowerCase(), next_nonce: BigInt(relayerNonce) }]);
    // The app is told as for any intent, with the decoded event and the sender.
    expect(w.told).toHaveLength(1);
    expect(w.told[0]).toMatchObject({ hook: 'onConfirmed', intent: { sender: alice.toLowerCase(), functionName: 'transfer', args: [bob, '250000'] } });
    expect(w.told[0]!.intent.events).toMatchObject([{ name: 'Transfer', args: { from: alice.toLowerCase(), to: bob, value: '250000' } }]);
    // GET /api/tx/:id shows it as any intent, with its sender.
    const server = await buildServer({ logger: createLogger('silent'), readiness: [], version: 'test', routes: [(app) => intentRoutes(app, w.database.pool)] });
    const admin = await createApiKey(w.database.pool, { roles: ['admin'] }, 'operations');
    const shown = (await server.inject({ url: `/api/tx/${first!.id}`, headers: { authorization: `Bearer ${admin.key}` } })).json();
    await server.close();
    expect(shown).toMatchObject({
      state: 'confirmed',
      sender: alice.toLowerCase(),
      signer: w.account.address.toLowerCase(),
      functionName: 'transfer',
      args: [bob, '250000'],
      transactions: [{ id: transactions[0]!.hash, sequence: '0', status: 'mined' }],
    });
  });

  it('refuses malformed bytes, another chain, another contract or function, unsigned bytes and the platform signer own, storing nothing', async () => {
    const w = await cusdWorld();
    const bob = user(4).address;
    const refused = async (transaction: string, kind = 'cusd.send') => {
      const error = await w.submit([{ idempotencyKey: `bad-${Math.random()}`, kind, signed: { transaction } }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IntentRejectedError);
      return (error as Error).message;
    };
    expect(await refused('not hex')).toContain('0x-hex');
    expect(await refused('0x1234')).toContain('not a transaction');
    expect(await refused(await w.signTransfer(3, 0, bob, 1n, { chainId: 1 }))).toContain('signed for chain 1, not 31337');
    expect(await refused(await w.signTransfer(3, 0, bob, 1n, { to: w.world.ledger }))).toContain(`not cusd.send's contract ${w.cusd}`);
    const ledgerCall = encodeFunctionData({ abi: testLedgerAbi, functionName: 'write', args: [w.world.key('x'), 1n] });
    expect(await refused(await w.signTransfer(3, 0, bob, 1n, { data: ledgerCall }))).toContain("is not a function of cusd.send's ABI");
    const unsigned = serializeTransaction({ chainId: 31337, nonce: 0, to: w.cusd, data: '0x', gas: 50_000n, ...FEES });
    expect(await refused(unsigned)).toContain('not signed');
    const platform = await privateKeyToAccount(RELAYER_KEY).signTransaction({
      chainId: 31337,
      nonce: 0,
      to: w.cusd,
      data: encodeFunctionData({ abi: cusdAbi, functionName: 'transfer', args: [bob, 1n] }),
      gas: 100_000n,
      ...FEES,
    });
    expect(await refused(platform)).toContain('a signer of this platform');
    await expect(w.submit([{ idempotencyKey: 'both', kind: 'cusd.send', signed: { transaction: platform }, functionName: 'transfer', args: [bob, 1n] }])).rejects.toThrow(/either signed or functionName/);
    expect((await w.database.pool.query('select count(*)::int as n from relayer_intents')).rows[0].n).toBe(0);
    expect((await w.database.pool.query('select count(*)::int as n from relayer_transactions')).rows[0].n).toBe(0);
  });

  it('fails the intent, telling the app, when the user spends its nonce on another transaction', async () => {
    const w = await cusdWorld();
    const alice = user(3);
    const bob = user(4).address;
    await w.mint(alice.address, 1_000n);
    await w.submit([w.signed('replaced', await w.signTransfer(3, 0, bob, 600n))]);
    // The user sends something else at nonce 0 from their wallet, before the platform relays the transfer.
    const wallet = createWalletClient({ account: alice, chain: foundry, transport: http(w.world.rpcUrl) });
    await w.world.publicClient.waitForTransactionReceipt({ hash: await wallet.sendTransaction({ to: alice.address, value: 0n, nonce: 0, ...FEES }), pollingInterval: 50 });
    // And a later transfer the user signs at nonce 1 goes through.
    await w.submit([w.signed('after', await w.signTransfer(3, 1, bob, 300n))]);
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 1, failed: 1 });
    const failed = await w.intent('replaced');
    expect(failed).toMatchObject({ state: 'failed', error: { name: 'SupersededBySender' }, transaction_id: null });
    expect(failed.error.message).toContain(alice.address.toLowerCase());
    expect(w.told.map((t) => [t.hook, t.intent.idempotencyKey]).sort()).toEqual([
      ['onConfirmed', 'after'],
      ['onFailed', 'replaced'],
    ]);
    expect(await w.balanceOf(bob)).toBe(300n);
    expect(await w.nonceOf(alice.address)).toBe(2);
  });

  it('fails the intent, telling the app, when the node refuses the user\'s transaction all along (no money for gas)', async () => {
    const w = await cusdWorld();
    const broke = privateKeyToAccount(generatePrivateKey());
    const bob = user(4).address.toLowerCase() as Address;
    await w.mint(broke.address, 1_000n);
    const raw = await broke.signTransaction({
      chainId: 31337,
      nonce: 0,
      to: w.cusd,
      data: encodeFunctionData({ abi: cusdAbi, functionName: 'transfer', args: [bob, 400n] }),
      gas: 100_000n,
      ...FEES,
    });
    await w.submit([w.signed('no-gas-money', raw)]);
    const started = Date.now();
    await w.startRelayer({ refusedSignedMs: 1_500 });
    expect(await w.settled()).toEqual({ failed: 1 });
    // Not at the first refusal: the node refused every send for the whole window.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    const failed = await w.intent('no-gas-money');
    expect(failed).toMatchObject({ state: 'failed', error: { name: 'RefusedByNode' }, transaction_id: null });
    expect(failed.error.message).toContain(broke.address.toLowerCase());
    expect(failed.error.message).toMatch(/insufficient funds/i);
    expect((await w.transactionsOf('no-gas-money')).map((t) => t.status)).toEqual(['signed']);
    expect(w.told.map((t) => [t.hook, t.intent.idempotencyKey])).toEqual([['onFailed', 'no-gas-money']]);
    expect(await w.nonceOf(broke.address)).toBe(0);
    expect(await w.balanceOf(bob)).toBe(0n);
  });

  it('keeps sending a user-signed transaction while the node fails in itself (HTTP 5xx, internal errors), however long', async () => {
    const w = await cusdWorld({ node: { methods: ['eth_sendRawTransaction'], serverErrorRate: 1 } });
    const alice = user(3).address;
    const bob = user(4).address.toLowerCase() as Address;
    await w.mint(alice, 1_000n);
    await w.submit([w.signed('through-an-outage', await w.signTransfer(3, 0, bob, 700n))]);
    await w.startRelayer({ refusedSignedMs: 500 });
    await until(async () => (await w.intent('through-an-outage')).attempts >= 2, 'two sends to meet HTTP 500s', 20_000);
    w.node!.setPlan({ methods: ['eth_sendRawTransaction'], errorRate: 1 });
    const before = (await w.intent('through-an-outage')).attempts;
    await until(async () => (await w.intent('through-an-outage')).attempts > before, 'a send to meet an internal error', 20_000);
    expect(await w.intent('through-an-outage')).toMatchObject({ state: 'signed', error: { name: 'BroadcastError' } });
    w.node!.setPlan({});
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect(await w.balanceOf(bob)).toBe(700n);
    expect(w.told.map((t) => t.hook)).toEqual(['onConfirmed']);
  });

  it('sends a user-signed transaction exactly once through relayers killed right after they broadcast it', async () => {
    // Blocks every second: a kill lands between the broadcast and the inclusion.
    const w = await cusdWorld({ blockTime: 1 });
    const carol = user(5);
    const KEYS = Array.from({ length: 4 }, (_, i) => `killed-${i}`);
    const signedWrite = (key: string, nonce: number) =>
      carol.signTransaction({
        chainId: 31337,
        nonce,
        to: w.world.ledger,
        data: encodeFunctionData({ abi: testLedgerAbi, functionName: 'writeOnce', args: [w.world.key(key), 7n] }),
        gas: 200_000n,
        ...FEES,
      });
    const env = { DATABASE_URL: w.database.url, RPC_URL: w.world.rpcUrl, DEPLOYMENTS_FILE: w.world.deploymentsFile, RELAYER_PRIVATE_KEY: RELAYER_KEY, FINALITY_DEPTH: '2' };
    const cwd = scratchDir();
    const script = ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(packageRoot, 'test', 'harness', 'relayer-child.ts')];
    await w.database.pool.query('create table handled (seq bigserial primary key, key text not null); create table failing_keys (key text primary key)');
    const stateOf = async (key: string) => (await w.intent(key)).state as string;

    let killedAfterBroadcast = 0;
    for (const [nonce, key] of KEYS.entries()) {
      await w.submit([w.signed(key, await signedWrite(key, nonce), 'ledger.write')]);
      const worker = new RunningCli([], { cwd, env, script });
      await until(() => worker.output.includes('relayer started'), 'the relayer to start', 30_000, 10);
      // Killed the moment the intent is recorded as broadcast: sent, not yet seen mined.
      await until(async () => (await stateOf(key)) !== 'signed', `${key} to be sent`, 30_000, 2);
      await worker.kill();
      if ((await stateOf(key)) === 'broadcast') killedAfterBroadcast++;
    }
    const last = new RunningCli([], { cwd, env, script });
    const settled = await w.settled(60_000).catch((error) => {
      throw new Error(`${(error as Error).message}\n${last.output}`);
    });
    expect(settled).toEqual({ confirmed: KEYS.length });
    expect(await last.stop('SIGTERM')).toBe(0);
    expect(killedAfterBroadcast).toBeGreaterThanOrEqual(2);
    // One transaction per intent, one effect per key, and the user's nonces used once each.
    for (const key of KEYS) expect(await w.transactionsOf(key)).toMatchObject([{ status: 'mined' }]);
    const written = await w.world.publicClient.getContractEvents({ address: w.world.ledger, abi: testLedgerAbi, eventName: 'Written', fromBlock: 0n });
    expect(written.map((e) => e.args.key).sort()).toEqual(KEYS.map((k) => w.world.key(k)).sort());
    expect(written.every((e) => e.args.writer!.toLowerCase() === carol.address.toLowerCase())).toBe(true);
    expect(await w.nonceOf(carol.address)).toBe(KEYS.length);
    expect((await w.database.pool.query("select count(*)::int as n from handled")).rows[0].n).toBe(KEYS.length);
  });
});
