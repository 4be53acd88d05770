import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ContractFunctionExecutionError,
  decodeErrorResult,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  keccak256,
  maxUint256,
  parseEventLogs,
  parseUnits,
  toHex,
  zeroAddress,
  zeroHash,
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { expectRevert as expectContractRevert, revertData } from '../harness/reverts.js';
import { opcodes, startContractChain, type ContractChain } from '../harness/contract-chain.js';
import { cusdAbi, cusdBytecode } from '../../contracts/artifacts/CUSD.js';
import { payAbi, payBytecode } from '../../contracts/artifacts/Pay.js';
import { p2PTradeAbi, p2PTradeBytecode } from '../../contracts/artifacts/P2PTrade.js';
import { testReentrantTokenAbi, testReentrantTokenBytecode } from '../../contracts/artifacts/TestReentrantToken.js';

/*
 * Confío's EVM contracts (seeds 002 and 004, issue 13): CUSD (the ERC-20 cUSD), Pay (merchant
 * payments with a fee) and P2PTrade (escrow of peer-to-peer trades).
 *
 * They run on a private anvil, as the issuer contracts do, and the whole flow also runs on a
 * Polygon Edge-like anvil (--hardfork berlin --chain-id 100) with legacy (type 0) transactions.
 */

const DEFAULT_ADMIN_ROLE = zeroHash;
const MINTER_ROLE = keccak256(toHex('MINTER_ROLE'));
const ARBITRATOR_ROLE = keccak256(toHex('ARBITRATOR_ROLE'));

const Status = { None: 0, Open: 1, Released: 2, Cancelled: 3, Disputed: 4 } as const;
const FEE_BPS = 100; // 1%, the fee the platform is deployed with here

/** cUSD amounts: 6 decimals. */
const usd = (amount: string): bigint => parseUnits(amount, 6);
const pref = (label: string): Hex => keccak256(toHex(`payment:${label}`));
const tid = (label: string): Hex => keccak256(toHex(`trade:${label}`));
const why = (label: string): Hex => keccak256(toHex(`reason:${label}`));
const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address;

// -------------------------------------------------------------------------------------------------
// Reverts, decoded by name and arguments; which contract's errors were asserted (see the last test)
// -------------------------------------------------------------------------------------------------

/** cUSD's errors, added to Pay's and P2PTrade's ABIs so a revert inside the token decodes by name. */
const tokenErrors = cusdAbi.filter((item): item is Extract<(typeof cusdAbi)[number], { type: 'error' }> => item.type === 'error');
const payCallAbi = [...payAbi, ...tokenErrors];
const p2pCallAbi = [...p2PTradeAbi, ...tokenErrors];

const CONTRACTS = { CUSD: cusdAbi, Pay: payAbi, P2PTrade: p2PTradeAbi } as const;
type ContractName = keyof typeof CONTRACTS;

const asserted = new Set<string>();

const declares = (abi: Abi, errorName: string) => abi.some((item) => item.type === 'error' && item.name === errorName);

/** The contract whose error `errorName` is, given the ABI of the call that reverted. */
function contractOf(abi: unknown, errorName: string): ContractName {
  if (abi === payCallAbi) return declares(payAbi, errorName) ? 'Pay' : 'CUSD';
  if (abi === p2pCallAbi) return declares(p2PTradeAbi, errorName) ? 'P2PTrade' : 'CUSD';
  const found = (Object.keys(CONTRACTS) as ContractName[]).find((name) => CONTRACTS[name] === abi);
  expect(found, 'the reverted call used one of the three ABIs').toBeDefined();
  return found!;
}

/** expectRevert (test/harness/reverts.ts), also noting which contract's error was asserted. */
async function expectRevert(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<void> {
  const caught = await expectContractRevert(promise, errorName, args);
  const execution = caught.walk((e) => e instanceof ContractFunctionExecutionError);
  asserted.add(`${contractOf((execution as ContractFunctionExecutionError | null)?.abi, errorName)}.${errorName}`);
}

/** Events of a receipt as [emitter, name, args], decoded with the three ABIs. */
function eventsOf(receipt: TransactionReceipt): Array<[Address, string, unknown]> {
  const abi = [...cusdAbi, ...payAbi, ...p2PTradeAbi];
  const logs = parseEventLogs({ abi, logs: receipt.logs, strict: true });
  expect(logs).toHaveLength(receipt.logs.length);
  return logs.map((l) => [getAddress(l.address), l.eventName, l.args]);
}

// -------------------------------------------------------------------------------------------------
// A private anvil and its clients
// -------------------------------------------------------------------------------------------------

type Env = ContractChain;
type Actor = Awaited<ReturnType<Env['newAccount']>>;

// -------------------------------------------------------------------------------------------------
// Confío: the three deployed contracts and their cast; thin wrappers (sim* simulates, which also
// yields the return value and the decoded revert; the plain name sends and waits for success)
// -------------------------------------------------------------------------------------------------

async function deployConfio(env: Env, options: { feeBps?: number } = {}) {
  const { publicClient, fees, mined } = env;
  const fresh = env.newAccount;
  const [admin, minter, collector, arbitrator, alice, bob, carol, merchant, stranger] = await Promise.all([
    fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh(),
  ]);
  const deployed = async (hash: Hex) => getAddress((await mined(hash)).contractAddress!);
  const cusd = await deployed(await admin.wallet.deployContract({ abi: cusdAbi, bytecode: cusdBytecode, args: [admin.address, minter.address], ...fees }));
  const pay = await deployed(
    await admin.wallet.deployContract({ abi: payAbi, bytecode: payBytecode, args: [cusd, admin.address, collector.address, options.feeBps ?? FEE_BPS], ...fees }),
  );
  const p2p = await deployed(
    await admin.wallet.deployContract({ abi: p2PTradeAbi, bytecode: p2PTradeBytecode, args: [cusd, admin.address, arbitrator.address], ...fees }),
  );

  // --- CUSD ---
  const simMint = (by: Actor, to: Address, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'mint', args: [to, amount] });
  const mint = async (by: Actor, to: Address, amount: bigint) =>
    mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'mint', args: [to, amount], ...fees }));
  const simBurn = (by: Actor, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'burn', args: [amount] });
  const burn = async (by: Actor, amount: bigint) => mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'burn', args: [amount], ...fees }));
  const simBurnFrom = (by: Actor, from: Address, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'burnFrom', args: [from, amount] });
  const burnFrom = async (by: Actor, from: Address, amount: bigint) =>
    mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'burnFrom', args: [from, amount], ...fees }));
  const simTransfer = (by: Actor, to: Address, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'transfer', args: [to, amount] });
  const transfer = async (by: Actor, to: Address, amount: bigint) =>
    mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'transfer', args: [to, amount], ...fees }));
  const simTransferFrom = (by: Actor, from: Address, to: Address, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'transferFrom', args: [from, to, amount] });
  const transferFrom = async (by: Actor, from: Address, to: Address, amount: bigint) =>
    mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'transferFrom', args: [from, to, amount], ...fees }));
  const simApprove = (by: Actor, spender: Address, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'approve', args: [spender, amount] });
  const approve = async (by: Actor, spender: Address, amount: bigint) =>
    mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'approve', args: [spender, amount], ...fees }));
  const simPause = (by: Actor) => publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'pause' });
  const pause = async (by: Actor) => mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'pause', ...fees }));
  const simUnpause = (by: Actor) => publicClient.simulateContract({ account: by.account, address: cusd, abi: cusdAbi, functionName: 'unpause' });
  const unpause = async (by: Actor) => mined(await by.wallet.writeContract({ address: cusd, abi: cusdAbi, functionName: 'unpause', ...fees }));
  const grantRole = async (by: Actor, contract: Address, role: Hex, who: Address) =>
    mined(await by.wallet.writeContract({ address: contract, abi: cusdAbi, functionName: 'grantRole', args: [role, who], ...fees }));
  const revokeRole = async (by: Actor, contract: Address, role: Hex, who: Address) =>
    mined(await by.wallet.writeContract({ address: contract, abi: cusdAbi, functionName: 'revokeRole', args: [role, who], ...fees }));
  const hasRole = (contract: Address, role: Hex, who: Address) =>
    publicClient.readContract({ address: contract, abi: cusdAbi, functionName: 'hasRole', args: [role, who] });
  const balanceOf = (who: Address) => publicClient.readContract({ address: cusd, abi: cusdAbi, functionName: 'balanceOf', args: [who] });
  const balances = (...who: Address[]) => Promise.all(who.map(balanceOf));
  const allowance = (owner: Address, spender: Address) =>
    publicClient.readContract({ address: cusd, abi: cusdAbi, functionName: 'allowance', args: [owner, spender] });
  const totalSupply = () => publicClient.readContract({ address: cusd, abi: cusdAbi, functionName: 'totalSupply' });
  /** Mints `amount` to `who` and, if given, approves `spender` for `allowed` (default: the amount). */
  const fund = async (who: Actor, amount: bigint, spender?: Address, allowed = amount) => {
    await mint(minter, who.address, amount);
    if (spender) await approve(who, spender, allowed);
  };

  // --- Pay ---
  const simPay = (by: Actor, to: Address, amount: bigint, reference: Hex) =>
    publicClient.simulateContract({ account: by.account, address: pay, abi: payCallAbi, functionName: 'pay', args: [to, amount, reference] });
  const doPay = async (by: Actor, to: Address, amount: bigint, reference: Hex) =>
    mined(await by.wallet.writeContract({ address: pay, abi: payAbi, functionName: 'pay', args: [to, amount, reference], ...fees }));
  const simSetFee = (by: Actor, bps: number) =>
    publicClient.simulateContract({ account: by.account, address: pay, abi: payAbi, functionName: 'setFee', args: [bps] });
  const setFee = async (by: Actor, bps: number) => mined(await by.wallet.writeContract({ address: pay, abi: payAbi, functionName: 'setFee', args: [bps], ...fees }));
  const simSetFeeCollector = (by: Actor, who: Address) =>
    publicClient.simulateContract({ account: by.account, address: pay, abi: payAbi, functionName: 'setFeeCollector', args: [who] });
  const setFeeCollector = async (by: Actor, who: Address) =>
    mined(await by.wallet.writeContract({ address: pay, abi: payAbi, functionName: 'setFeeCollector', args: [who], ...fees }));
  const quoteFee = (amount: bigint) => publicClient.readContract({ address: pay, abi: payAbi, functionName: 'quoteFee', args: [amount] });
  const payerOf = (reference: Hex) => publicClient.readContract({ address: pay, abi: payAbi, functionName: 'payerOf', args: [reference] });
  const feeSettings = async () => ({
    feeBps: await publicClient.readContract({ address: pay, abi: payAbi, functionName: 'feeBps' }),
    feeCollector: await publicClient.readContract({ address: pay, abi: payAbi, functionName: 'feeCollector' }),
  });

  // --- P2PTrade ---
  const simCreate = (by: Actor, tradeId: Hex, buyer: Address, amount: bigint) =>
    publicClient.simulateContract({ account: by.account, address: p2p, abi: p2pCallAbi, functionName: 'createEscrow', args: [tradeId, buyer, amount] });
  const create = async (by: Actor, tradeId: Hex, buyer: Address, amount: bigint) =>
    mined(await by.wallet.writeContract({ address: p2p, abi: p2PTradeAbi, functionName: 'createEscrow', args: [tradeId, buyer, amount], ...fees }));
  const simRelease = (by: Actor, tradeId: Hex) =>
    publicClient.simulateContract({ account: by.account, address: p2p, abi: p2PTradeAbi, functionName: 'release', args: [tradeId] });
  const release = async (by: Actor, tradeId: Hex) =>
    mined(await by.wallet.writeContract({ address: p2p, abi: p2PTradeAbi, functionName: 'release', args: [tradeId], ...fees }));
  const simCancel = (by: Actor, tradeId: Hex) =>
    publicClient.simulateContract({ account: by.account, address: p2p, abi: p2PTradeAbi, functionName: 'cancel', args: [tradeId] });
  const cancel = async (by: Actor, tradeId: Hex) =>
    mined(await by.wallet.writeContract({ address: p2p, abi: p2PTradeAbi, functionName: 'cancel', args: [tradeId], ...fees }));
  const simMarkPaid = (by: Actor, tradeId: Hex) =>
    publicClient.simulateContract({ account: by.account, address: p2p, abi: p2PTradeAbi, functionName: 'markPaid', args: [tradeId] });
  const markPaid = async (by: Actor, tradeId: Hex) =>
    mined(await by.wallet.writeContract({ address: p2p, abi: p2PTradeAbi, functionName: 'markPaid', args: [tradeId], ...fees }));
  const simDispute = (by: Actor, tradeId: Hex, reason: Hex = why('default')) =>
    publicClient.simulateContract({ account: by.account, address: p2p, abi: p2PTradeAbi, functionName: 'dispute', args: [tradeId, reason] });
  const dispute = async (by: Actor, tradeId: Hex, reason: Hex = why('default')) =>
    mined(await by.wallet.writeContract({ address: p2p, abi: p2PTradeAbi, functionName: 'dispute', args: [tradeId, reason], ...fees }));
  const simResolve = (by: Actor, tradeId: Hex, toBuyer: boolean) =>
    publicClient.simulateContract({ account: by.account, address: p2p, abi: p2PTradeAbi, functionName: 'resolve', args: [tradeId, toBuyer] });
  const resolve = async (by: Actor, tradeId: Hex, toBuyer: boolean) =>
    mined(await by.wallet.writeContract({ address: p2p, abi: p2PTradeAbi, functionName: 'resolve', args: [tradeId, toBuyer], ...fees }));
  const escrow = (tradeId: Hex) => publicClient.readContract({ address: p2p, abi: p2PTradeAbi, functionName: 'escrow', args: [tradeId] });
  /** An open escrow of `amount` from `seller` (funded and approved here) to `buyer`. */
  const openEscrow = async (tradeId: Hex, seller: Actor, buyer: Actor, amount: bigint) => {
    await fund(seller, amount, p2p);
    return create(seller, tradeId, buyer.address, amount);
  };

  return {
    env,
    admin,
    minter,
    collector,
    arbitrator,
    alice,
    bob,
    carol,
    merchant,
    stranger,
    cusd,
    pay,
    p2p,
    simMint,
    mint,
    simBurn,
    burn,
    simBurnFrom,
    burnFrom,
    simTransfer,
    transfer,
    simTransferFrom,
    transferFrom,
    simApprove,
    approve,
    simPause,
    pause,
    simUnpause,
    unpause,
    grantRole,
    revokeRole,
    hasRole,
    balanceOf,
    balances,
    allowance,
    totalSupply,
    fund,
    simPay,
    pay_: doPay,
    simSetFee,
    setFee,
    simSetFeeCollector,
    setFeeCollector,
    quoteFee,
    payerOf,
    feeSettings,
    simCreate,
    create,
    simRelease,
    release,
    simCancel,
    cancel,
    simMarkPaid,
    markPaid,
    simDispute,
    dispute,
    simResolve,
    resolve,
    escrow,
    openEscrow,
  };
}

type Confio = Awaited<ReturnType<typeof deployConfio>>;

/**
 * The whole flow, as the app will drive it: cUSD minted to two users, a plain transfer, a payment
 * to a merchant with its fee, and four escrows: released, cancelled, and two disputed ones resolved
 * each way. Asserts the chain's answers as it goes; returns the deployment for further checks.
 */
async function lifecycle(env: Env): Promise<Confio> {
  const c = await deployConfio(env);
  const { minter, arbitrator, alice, bob, carol, merchant, collector } = c;

  await c.mint(minter, alice.address, usd('500'));
  await c.mint(minter, bob.address, usd('100'));
  const moved = await c.transfer(alice, carol.address, usd('25.5'));
  expect(eventsOf(moved)).toEqual([[c.cusd, 'Transfer', { from: alice.address, to: carol.address, value: usd('25.5') }]]);

  await c.approve(carol, c.pay, usd('20'));
  const paid = await c.pay_(carol, merchant.address, usd('20'), pref('lifecycle'));
  expect(eventsOf(paid)).toEqual([
    [c.cusd, 'Transfer', { from: carol.address, to: merchant.address, value: usd('19.8') }],
    [c.cusd, 'Transfer', { from: carol.address, to: collector.address, value: usd('0.2') }],
    [c.pay, 'PaymentMade', { payer: carol.address, merchant: merchant.address, amount: usd('20'), fee: usd('0.2'), paymentReference: pref('lifecycle') }],
  ]);

  await c.approve(alice, c.p2p, usd('400'));
  for (const label of ['released', 'cancelled', 'to-buyer', 'to-seller']) await c.create(alice, tid(label), bob.address, usd('100'));
  expect(await c.balanceOf(c.p2p)).toBe(usd('400'));

  await c.markPaid(bob, tid('released'));
  await c.release(alice, tid('released'));
  await c.cancel(alice, tid('cancelled'));
  await c.dispute(bob, tid('to-buyer'), why('not released'));
  await c.dispute(alice, tid('to-seller'), why('not paid'));
  const toBuyer = await c.resolve(arbitrator, tid('to-buyer'), true);
  expect(eventsOf(toBuyer).map(([, name]) => name)).toEqual(['Transfer', 'EscrowReleased', 'DisputeResolved']);
  const toSeller = await c.resolve(arbitrator, tid('to-seller'), false);
  expect(eventsOf(toSeller).map(([, name]) => name)).toEqual(['Transfer', 'EscrowCancelled', 'DisputeResolved']);

  const statuses = await Promise.all(['released', 'cancelled', 'to-buyer', 'to-seller'].map(async (l) => (await c.escrow(tid(l))).status));
  expect(statuses).toEqual([Status.Released, Status.Cancelled, Status.Released, Status.Cancelled]);
  // alice: 500 - 25.5 - 2 x 100 released; bob: 100 + 2 x 100; the escrow holds nothing.
  expect(await c.balances(alice.address, bob.address, carol.address, merchant.address, collector.address, c.p2p, c.pay)).toEqual([
    usd('274.5'),
    usd('300'),
    usd('5.5'),
    usd('19.8'),
    usd('0.2'),
    0n,
    0n,
  ]);
  expect(await c.totalSupply()).toBe(usd('600'));
  return c;
}

// =================================================================================================

describe('Confío contracts', () => {
  let env: Env;
  let c: Confio;

  beforeAll(async () => {
    env = await startContractChain();
  });
  afterAll(async () => {
    await env?.anvil.stop();
  });
  beforeEach(async () => {
    c = await deployConfio(env);
  });

  describe('deployment', () => {
    it('roles go to the constructor arguments only; role ids are keccak256 of their names; the terms are readable', async () => {
      const { publicClient } = env;
      const read = (address: Address, abi: Abi, functionName: string) => publicClient.readContract({ address, abi, functionName });
      const roles = await Promise.all([
        c.hasRole(c.cusd, DEFAULT_ADMIN_ROLE, c.admin.address),
        c.hasRole(c.cusd, DEFAULT_ADMIN_ROLE, c.minter.address),
        c.hasRole(c.cusd, MINTER_ROLE, c.minter.address),
        c.hasRole(c.cusd, MINTER_ROLE, c.admin.address),
        c.hasRole(c.pay, DEFAULT_ADMIN_ROLE, c.admin.address),
        c.hasRole(c.pay, DEFAULT_ADMIN_ROLE, c.collector.address),
        c.hasRole(c.p2p, DEFAULT_ADMIN_ROLE, c.admin.address),
        c.hasRole(c.p2p, DEFAULT_ADMIN_ROLE, c.arbitrator.address),
        c.hasRole(c.p2p, ARBITRATOR_ROLE, c.arbitrator.address),
        c.hasRole(c.p2p, ARBITRATOR_ROLE, c.admin.address),
      ]);
      expect(roles).toEqual([true, false, true, false, true, false, true, false, true, false]);
      expect(
        await Promise.all([
          read(c.cusd, cusdAbi, 'name'),
          read(c.cusd, cusdAbi, 'symbol'),
          read(c.cusd, cusdAbi, 'decimals'),
          read(c.cusd, cusdAbi, 'totalSupply'),
          read(c.cusd, cusdAbi, 'paused'),
          read(c.cusd, cusdAbi, 'MINTER_ROLE'),
          read(c.pay, payAbi, 'token'),
          read(c.pay, payAbi, 'MAX_FEE_BPS'),
          read(c.pay, payAbi, 'BPS'),
          read(c.p2p, p2PTradeAbi, 'token'),
          read(c.p2p, p2PTradeAbi, 'ARBITRATOR_ROLE'),
        ]),
      ).toEqual(['Confio Dollar', 'cUSD', 6, 0n, false, MINTER_ROLE, c.cusd, 1000, 10000, c.cusd, ARBITRATOR_ROLE]);
      expect(await c.feeSettings()).toEqual({ feeBps: FEE_BPS, feeCollector: c.collector.address });
      expect(await c.escrow(tid('none'))).toEqual({ seller: zeroAddress, createdAt: 0n, status: Status.None, buyer: zeroAddress, paidAt: 0n, amount: 0n });
    });

    it('constructors reject zero addresses and a fee above the cap: InvalidAdmin(), InvalidMinter(), InvalidToken(), InvalidFeeCollector(), FeeTooHigh(fee, max), InvalidArbitrator()', async () => {
      const someone = randomAddress();
      const cusdData = (args: readonly [Address, Address]) => encodeDeployData({ abi: cusdAbi, bytecode: cusdBytecode, args });
      const payData = (args: readonly [Address, Address, Address, number]) => encodeDeployData({ abi: payAbi, bytecode: payBytecode, args });
      const p2pData = (args: readonly [Address, Address, Address]) => encodeDeployData({ abi: p2PTradeAbi, bytecode: p2PTradeBytecode, args });
      const cases: Array<[ContractName, Abi, Hex, string, unknown[]]> = [
        ['CUSD', cusdAbi, cusdData([zeroAddress, someone]), 'InvalidAdmin', []],
        ['CUSD', cusdAbi, cusdData([someone, zeroAddress]), 'InvalidMinter', []],
        ['Pay', payAbi, payData([zeroAddress, someone, someone, 0]), 'InvalidToken', []],
        ['Pay', payAbi, payData([c.cusd, zeroAddress, someone, 0]), 'InvalidAdmin', []],
        ['Pay', payAbi, payData([c.cusd, someone, zeroAddress, 0]), 'InvalidFeeCollector', []],
        ['Pay', payAbi, payData([c.cusd, someone, someone, 1001]), 'FeeTooHigh', [1001, 1000]],
        ['Pay', payAbi, payData([c.cusd, someone, someone, 65535]), 'FeeTooHigh', [65535, 1000]],
        ['P2PTrade', p2PTradeAbi, p2pData([zeroAddress, someone, someone]), 'InvalidToken', []],
        ['P2PTrade', p2PTradeAbi, p2pData([c.cusd, zeroAddress, someone]), 'InvalidAdmin', []],
        ['P2PTrade', p2PTradeAbi, p2pData([c.cusd, someone, zeroAddress]), 'InvalidArbitrator', []],
      ];
      for (const [name, abi, data, errorName, args] of cases) {
        let caught: unknown;
        try {
          await env.publicClient.call({ account: c.admin.account, data });
        } catch (err) {
          caught = err;
        }
        const decoded = decodeErrorResult({ abi, data: revertData(caught) });
        expect([name, decoded.errorName, decoded.args ?? []]).toEqual([name, errorName, args]);
        asserted.add(`${name}.${errorName}`);
      }
      // The cap itself is allowed.
      const atCap = await env.publicClient.call({ account: c.admin.account, data: payData([c.cusd, someone, someone, 1000]) });
      expect(atCap.data).toMatch(/^0x[0-9a-f]+$/);
    });

    it('runs on a pre-Shanghai EVM: no PUSH0, MCOPY, TLOAD or TSTORE in any runtime or creation code', async () => {
      const codes = await Promise.all([c.cusd, c.pay, c.p2p].map((address) => env.publicClient.getCode({ address })));
      for (const code of [...codes, cusdBytecode, payBytecode, p2PTradeBytecode, testReentrantTokenBytecode]) {
        expect(code).toMatch(/^0x[0-9a-f]+$/);
        const ops = opcodes(code!);
        expect([ops.has(0x5f), ops.has(0x5e), ops.has(0x5c), ops.has(0x5d)]).toEqual([false, false, false, false]);
      }
    });
  });

  describe('CUSD', () => {
    it('mint, transfer, transferFrom and burns each emit only the standard Transfer; balances and supply follow', async () => {
      const minted = await c.mint(c.minter, c.alice.address, usd('10'));
      expect(eventsOf(minted)).toEqual([[c.cusd, 'Transfer', { from: zeroAddress, to: c.alice.address, value: usd('10') }]]);
      const moved = await c.transfer(c.alice, c.bob.address, usd('3.25'));
      expect(eventsOf(moved)).toEqual([[c.cusd, 'Transfer', { from: c.alice.address, to: c.bob.address, value: usd('3.25') }]]);
      const approved = await c.approve(c.alice, c.carol.address, usd('2'));
      expect(eventsOf(approved)).toEqual([[c.cusd, 'Approval', { owner: c.alice.address, spender: c.carol.address, value: usd('2') }]]);
      // transferFrom spends the allowance without a second Approval event (OpenZeppelin 5).
      const pulled = await c.transferFrom(c.carol, c.alice.address, c.carol.address, usd('0.5'));
      expect(eventsOf(pulled)).toEqual([[c.cusd, 'Transfer', { from: c.alice.address, to: c.carol.address, value: usd('0.5') }]]);
      expect(await c.allowance(c.alice.address, c.carol.address)).toBe(usd('1.5'));
      // a redemption: the holder sends to the minter, which burns
      await c.transfer(c.bob, c.minter.address, usd('1'));
      const burnt = await c.burn(c.minter, usd('1'));
      expect(eventsOf(burnt)).toEqual([[c.cusd, 'Transfer', { from: c.minter.address, to: zeroAddress, value: usd('1') }]]);
      expect(await c.balances(c.alice.address, c.bob.address, c.carol.address, c.minter.address)).toEqual([usd('6.25'), usd('2.25'), usd('0.5'), 0n]);
      expect(await c.totalSupply()).toBe(usd('9'));
    });

    it('burnFrom burns within the holder\'s allowance to the minter: ERC20InsufficientAllowance(spender, allowance, needed) beyond it, ERC20InsufficientBalance(holder, balance, needed) beyond the balance; an unlimited allowance is not spent', async () => {
      await c.fund(c.alice, usd('5'), c.minter.address, usd('2'));
      await expectRevert(c.simBurnFrom(c.minter, c.alice.address, usd('2.000001')), 'ERC20InsufficientAllowance', [c.minter.address, usd('2'), usd('2.000001')]);
      const burnt = await c.burnFrom(c.minter, c.alice.address, usd('2'));
      expect(eventsOf(burnt)).toEqual([[c.cusd, 'Transfer', { from: c.alice.address, to: zeroAddress, value: usd('2') }]]);
      expect([await c.balanceOf(c.alice.address), await c.allowance(c.alice.address, c.minter.address), await c.totalSupply()]).toEqual([usd('3'), 0n, usd('3')]);
      await c.approve(c.alice, c.minter.address, maxUint256);
      await expectRevert(c.simBurnFrom(c.minter, c.alice.address, usd('3.000001')), 'ERC20InsufficientBalance', [c.alice.address, usd('3'), usd('3.000001')]);
      await c.burnFrom(c.minter, c.alice.address, usd('3'));
      expect([await c.balanceOf(c.alice.address), await c.allowance(c.alice.address, c.minter.address)]).toEqual([0n, maxUint256]);
      await expectRevert(c.simBurn(c.minter, 1n), 'ERC20InsufficientBalance', [c.minter.address, 0n, 1n]);
    });

    it('only MINTER_ROLE mints and burns: AccessControlUnauthorizedAccount(caller, MINTER_ROLE), the admin included; the admin grants and revokes the role', async () => {
      await c.fund(c.alice, usd('1'), c.admin.address);
      for (const caller of [c.admin, c.alice, c.stranger]) {
        await expectRevert(c.simMint(caller, caller.address, 1n), 'AccessControlUnauthorizedAccount', [caller.address, MINTER_ROLE]);
        await expectRevert(c.simBurn(caller, 1n), 'AccessControlUnauthorizedAccount', [caller.address, MINTER_ROLE]);
        await expectRevert(c.simBurnFrom(caller, c.alice.address, 1n), 'AccessControlUnauthorizedAccount', [caller.address, MINTER_ROLE]);
      }
      await c.grantRole(c.admin, c.cusd, MINTER_ROLE, c.stranger.address);
      await c.mint(c.stranger, c.stranger.address, 7n);
      await c.revokeRole(c.admin, c.cusd, MINTER_ROLE, c.minter.address);
      await expectRevert(c.simMint(c.minter, c.minter.address, 1n), 'AccessControlUnauthorizedAccount', [c.minter.address, MINTER_ROLE]);
      // Only the admin manages roles.
      await expectRevert(
        env.publicClient.simulateContract({ account: c.minter.account, address: c.cusd, abi: cusdAbi, functionName: 'grantRole', args: [MINTER_ROLE, c.alice.address] }),
        'AccessControlUnauthorizedAccount',
        [c.minter.address, DEFAULT_ADMIN_ROLE],
      );
    });

    it('balance and allowance edges: the whole balance moves, one unit more is ERC20InsufficientBalance; ERC20InsufficientAllowance; ERC20InvalidReceiver(0) and ERC20InvalidSpender(0)', async () => {
      await c.fund(c.alice, usd('1'), c.bob.address, usd('0.4'));
      await expectRevert(c.simTransfer(c.alice, c.bob.address, usd('1') + 1n), 'ERC20InsufficientBalance', [c.alice.address, usd('1'), usd('1') + 1n]);
      await expectRevert(c.simTransferFrom(c.bob, c.alice.address, c.bob.address, usd('0.4') + 1n), 'ERC20InsufficientAllowance', [
        c.bob.address,
        usd('0.4'),
        usd('0.4') + 1n,
      ]);
      await expectRevert(c.simTransfer(c.alice, zeroAddress, 1n), 'ERC20InvalidReceiver', [zeroAddress]);
      await expectRevert(c.simMint(c.minter, zeroAddress, 1n), 'ERC20InvalidReceiver', [zeroAddress]);
      await expectRevert(c.simApprove(c.alice, zeroAddress, 1n), 'ERC20InvalidSpender', [zeroAddress]);
      await c.transferFrom(c.bob, c.alice.address, c.carol.address, usd('0.4'));
      await c.transfer(c.alice, c.carol.address, usd('0.6'));
      expect(await c.balances(c.alice.address, c.carol.address)).toEqual([0n, usd('1')]);
      expect(await c.allowance(c.alice.address, c.bob.address)).toBe(0n);
      // A zero transfer is allowed and emits a Transfer of 0 (ERC-20).
      expect(eventsOf(await c.transfer(c.alice, c.bob.address, 0n))).toEqual([[c.cusd, 'Transfer', { from: c.alice.address, to: c.bob.address, value: 0n }]]);
    });

    it('the admin pauses every movement (EnforcedPause()) but not approvals; Paused/Unpaused(admin); ExpectedPause() when not paused; only the admin', async () => {
      await c.fund(c.alice, usd('2'), c.bob.address);
      await c.mint(c.minter, c.minter.address, usd('1'));
      for (const caller of [c.minter, c.alice]) {
        await expectRevert(c.simPause(caller), 'AccessControlUnauthorizedAccount', [caller.address, DEFAULT_ADMIN_ROLE]);
      }
      await expectRevert(c.simUnpause(c.admin), 'ExpectedPause', []);
      expect(eventsOf(await c.pause(c.admin))).toEqual([[c.cusd, 'Paused', { account: c.admin.address }]]);
      await expectRevert(c.simPause(c.admin), 'EnforcedPause', []);
      await expectRevert(c.simTransfer(c.alice, c.bob.address, 1n), 'EnforcedPause', []);
      await expectRevert(c.simTransferFrom(c.bob, c.alice.address, c.bob.address, 1n), 'EnforcedPause', []);
      await expectRevert(c.simMint(c.minter, c.alice.address, 1n), 'EnforcedPause', []);
      await expectRevert(c.simBurn(c.minter, 1n), 'EnforcedPause', []);
      await c.approve(c.alice, c.carol.address, 5n);
      await expectRevert(c.simUnpause(c.alice), 'AccessControlUnauthorizedAccount', [c.alice.address, DEFAULT_ADMIN_ROLE]);
      expect(eventsOf(await c.unpause(c.admin))).toEqual([[c.cusd, 'Unpaused', { account: c.admin.address }]]);
      await c.transfer(c.alice, c.bob.address, 1n);
      expect(await c.balances(c.alice.address, c.bob.address)).toEqual([usd('2') - 1n, 1n]);
    });
  });

  describe('Pay', () => {
    it('pay sends amount - fee to the merchant and the fee to the collector from the payer, then PaymentMade(payer, merchant, amount, fee, reference); returns the fee', async () => {
      await c.fund(c.alice, usd('100'), c.pay);
      const sim = await c.simPay(c.alice, c.merchant.address, usd('12.34'), pref('a'));
      expect(sim.result).toBe(usd('0.1234'));
      expect(await c.quoteFee(usd('12.34'))).toBe(usd('0.1234'));
      const receipt = await c.pay_(c.alice, c.merchant.address, usd('12.34'), pref('a'));
      expect(eventsOf(receipt)).toEqual([
        [c.cusd, 'Transfer', { from: c.alice.address, to: c.merchant.address, value: usd('12.2166') }],
        [c.cusd, 'Transfer', { from: c.alice.address, to: c.collector.address, value: usd('0.1234') }],
        [c.pay, 'PaymentMade', { payer: c.alice.address, merchant: c.merchant.address, amount: usd('12.34'), fee: usd('0.1234'), paymentReference: pref('a') }],
      ]);
      expect(await c.balances(c.alice.address, c.merchant.address, c.collector.address, c.pay)).toEqual([usd('87.66'), usd('12.2166'), usd('0.1234'), 0n]);
      expect(await c.allowance(c.alice.address, c.pay)).toBe(usd('87.66'));
      expect(await c.payerOf(pref('a'))).toBe(c.alice.address);
      expect(await c.payerOf(pref('b'))).toBe(zeroAddress);
    });

    it('fee arithmetic: amount * feeBps / 10,000 rounded down, at 0, 1, 100 and 1,000 (the cap) basis points; a zero fee makes no second Transfer', async () => {
      await c.fund(c.alice, usd('1000'), c.pay);
      const cases: Array<[number, bigint, bigint]> = [
        // [feeBps, amount, fee]
        [100, 1n, 0n],
        [100, 99n, 0n],
        [100, 100n, 1n],
        [100, 199n, 1n],
        [100, 200n, 2n],
        [100, usd('1'), usd('0.01')],
        [1, 9_999n, 0n],
        [1, 10_000n, 1n],
        [1, 19_999n, 1n],
        [1000, 9n, 0n],
        [1000, 10n, 1n],
        [1000, 19n, 1n],
        [1000, usd('50'), usd('5')],
        [0, usd('7'), 0n],
      ];
      let n = 0;
      for (const [bps, amount, fee] of cases) {
        if ((await c.feeSettings()).feeBps !== bps) await c.setFee(c.admin, bps);
        expect([bps, amount, await c.quoteFee(amount)]).toEqual([bps, amount, fee]);
        const before = await c.balances(c.merchant.address, c.collector.address);
        const receipt = await c.pay_(c.alice, c.merchant.address, amount, pref(`fee-${n++}`));
        const names = eventsOf(receipt).map(([, name]) => name);
        expect([bps, amount, names]).toEqual([bps, amount, fee === 0n ? ['Transfer', 'PaymentMade'] : ['Transfer', 'Transfer', 'PaymentMade']]);
        const [made] = parseEventLogs({ abi: payAbi, logs: receipt.logs, eventName: 'PaymentMade' });
        expect(made!.args.fee).toBe(fee);
        const after = await c.balances(c.merchant.address, c.collector.address);
        expect([after[0]! - before[0]!, after[1]! - before[1]!]).toEqual([amount - fee, fee]);
      }
    });

    it('setFee by the admin emits FeeChanged(old, new) and applies to the next payment; FeeTooHigh(fee, 1000) above the cap; only the admin', async () => {
      expect(eventsOf(await c.setFee(c.admin, 1000))).toEqual([[c.pay, 'FeeChanged', { oldFeeBps: FEE_BPS, newFeeBps: 1000 }]]);
      await expectRevert(c.simSetFee(c.admin, 1001), 'FeeTooHigh', [1001, 1000]);
      await expectRevert(c.simSetFee(c.admin, 65535), 'FeeTooHigh', [65535, 1000]);
      for (const caller of [c.collector, c.minter, c.stranger]) {
        await expectRevert(c.simSetFee(caller, 1), 'AccessControlUnauthorizedAccount', [caller.address, DEFAULT_ADMIN_ROLE]);
      }
      await c.fund(c.alice, usd('10'), c.pay);
      await c.pay_(c.alice, c.merchant.address, usd('10'), pref('capped'));
      expect(await c.balances(c.merchant.address, c.collector.address)).toEqual([usd('9'), usd('1')]);
      expect((await c.feeSettings()).feeBps).toBe(1000);
    });

    it('setFeeCollector by the admin emits FeeCollectorChanged(old, new) and the next fee goes there; InvalidFeeCollector() for zero; only the admin', async () => {
      await expectRevert(c.simSetFeeCollector(c.admin, zeroAddress), 'InvalidFeeCollector', []);
      await expectRevert(c.simSetFeeCollector(c.collector, c.collector.address), 'AccessControlUnauthorizedAccount', [c.collector.address, DEFAULT_ADMIN_ROLE]);
      expect(eventsOf(await c.setFeeCollector(c.admin, c.carol.address))).toEqual([
        [c.pay, 'FeeCollectorChanged', { oldCollector: c.collector.address, newCollector: c.carol.address }],
      ]);
      await c.fund(c.alice, usd('1'), c.pay);
      await c.pay_(c.alice, c.merchant.address, usd('1'), pref('new-collector'));
      expect(await c.balances(c.collector.address, c.carol.address)).toEqual([0n, usd('0.01')]);
    });

    it('a reference pays once: ReferenceUsed(reference, payer) for any payer, merchant or amount, checked before the other arguments; sent anyway it moves nothing', async () => {
      await c.fund(c.alice, usd('10'), c.pay);
      await c.fund(c.bob, usd('10'), c.pay);
      await c.pay_(c.alice, c.merchant.address, usd('1'), pref('once'));
      await expectRevert(c.simPay(c.alice, c.merchant.address, usd('1'), pref('once')), 'ReferenceUsed', [pref('once'), c.alice.address]);
      await expectRevert(c.simPay(c.bob, c.carol.address, usd('2'), pref('once')), 'ReferenceUsed', [pref('once'), c.alice.address]);
      await expectRevert(c.simPay(c.bob, zeroAddress, 0n, pref('once')), 'ReferenceUsed', [pref('once'), c.alice.address]);
      const before = await c.balances(c.alice.address, c.merchant.address, c.collector.address);
      await env.minedReverted(
        await c.alice.wallet.writeContract({
          address: c.pay,
          abi: payAbi,
          functionName: 'pay',
          args: [c.merchant.address, usd('1'), pref('once')],
          gas: 200_000n,
          ...env.fees,
        }),
      );
      expect(await c.balances(c.alice.address, c.merchant.address, c.collector.address)).toEqual(before);
    });

    it('rejects InvalidReference() (zero), InvalidMerchant(merchant) for zero and the Pay contract itself, InvalidAmount() (zero)', async () => {
      await c.fund(c.alice, usd('1'), c.pay);
      await expectRevert(c.simPay(c.alice, c.merchant.address, 1n, zeroHash), 'InvalidReference', []);
      await expectRevert(c.simPay(c.alice, zeroAddress, 1n, pref('m')), 'InvalidMerchant', [zeroAddress]);
      await expectRevert(c.simPay(c.alice, c.pay, 1n, pref('m')), 'InvalidMerchant', [c.pay]);
      await expectRevert(c.simPay(c.alice, c.merchant.address, 0n, pref('m')), 'InvalidAmount', []);
      // Paying oneself or the collector is allowed: nothing is lost.
      await c.pay_(c.alice, c.alice.address, usd('0.5'), pref('self'));
      await c.pay_(c.alice, c.collector.address, usd('0.5'), pref('collector'));
      expect(await c.balances(c.alice.address, c.collector.address)).toEqual([usd('0.495'), usd('0.505')]);
    });

    it('allowance and balance edges: exactly enough pays; one unit short reverts in the token (ERC20InsufficientAllowance / ERC20InsufficientBalance) and moves nothing; an unlimited allowance is not spent', async () => {
      // Allowance one unit short of 100 cUSD: the merchant's leg (99) passes, the fee leg (1) finds 0.999999.
      await c.fund(c.alice, usd('100'), c.pay, usd('100') - 1n);
      await expectRevert(c.simPay(c.alice, c.merchant.address, usd('100'), pref('short')), 'ERC20InsufficientAllowance', [c.pay, usd('1') - 1n, usd('1')]);
      // No allowance at all: the first leg fails.
      await expectRevert(c.simPay(c.bob, c.merchant.address, usd('1'), pref('short')), 'ERC20InsufficientAllowance', [c.pay, 0n, usd('0.99')]);
      // Balance one unit short.
      await c.approve(c.alice, c.pay, maxUint256);
      await c.transfer(c.alice, c.carol.address, 1n);
      await expectRevert(c.simPay(c.alice, c.merchant.address, usd('100'), pref('short')), 'ERC20InsufficientBalance', [c.alice.address, usd('1') - 1n, usd('1')]);
      expect(await c.payerOf(pref('short'))).toBe(zeroAddress);
      // Exactly the balance, with an unlimited allowance.
      await c.pay_(c.alice, c.merchant.address, usd('100') - 1n, pref('short'));
      // fee = floor((100,000,000 - 1) * 100 / 10,000) = 999,999 units; the merchant gets exactly 99 cUSD
      expect(await c.balances(c.alice.address, c.merchant.address, c.collector.address)).toEqual([0n, usd('99'), usd('1') - 1n]);
      expect(await c.allowance(c.alice.address, c.pay)).toBe(maxUint256);
    });

    it('a token with no code: SafeERC20FailedOperation(token)', async () => {
      const noCode = randomAddress();
      const other = getAddress(
        (await env.mined(await c.admin.wallet.deployContract({ abi: payAbi, bytecode: payBytecode, args: [noCode, c.admin.address, c.collector.address, 0], ...env.fees })))
          .contractAddress!,
      );
      await expectRevert(
        env.publicClient.simulateContract({ account: c.alice.account, address: other, abi: payAbi, functionName: 'pay', args: [c.merchant.address, 1n, pref('x')] }),
        'SafeERC20FailedOperation',
        [noCode],
      );
    });
  });

  describe('P2PTrade', () => {
    it('createEscrow pulls the amount from the seller: Transfer(seller, escrow, amount) then EscrowCreated(tradeId, seller, buyer, amount); the escrow is Open', async () => {
      await c.fund(c.alice, usd('50'), c.p2p);
      const receipt = await c.create(c.alice, tid('a'), c.bob.address, usd('30'));
      expect(eventsOf(receipt)).toEqual([
        [c.cusd, 'Transfer', { from: c.alice.address, to: c.p2p, value: usd('30') }],
        [c.p2p, 'EscrowCreated', { tradeId: tid('a'), seller: c.alice.address, buyer: c.bob.address, amount: usd('30') }],
      ]);
      expect(await c.escrow(tid('a'))).toEqual({
        seller: c.alice.address,
        createdAt: await env.timestampOf(receipt),
        status: Status.Open,
        buyer: c.bob.address,
        paidAt: 0n,
        amount: usd('30'),
      });
      expect(await c.balances(c.alice.address, c.p2p)).toEqual([usd('20'), usd('30')]);
    });

    it('rejects InvalidTradeId(), InvalidBuyer(buyer) for zero, the seller and the escrow contract, InvalidAmount(); short allowance or balance reverts in the token', async () => {
      await c.fund(c.alice, usd('5'), c.p2p, usd('4'));
      await expectRevert(c.simCreate(c.alice, zeroHash, c.bob.address, 1n), 'InvalidTradeId', []);
      for (const buyer of [zeroAddress, c.alice.address, c.p2p]) await expectRevert(c.simCreate(c.alice, tid('b'), buyer, 1n), 'InvalidBuyer', [buyer]);
      await expectRevert(c.simCreate(c.alice, tid('b'), c.bob.address, 0n), 'InvalidAmount', []);
      await expectRevert(c.simCreate(c.alice, tid('b'), c.bob.address, usd('4') + 1n), 'ERC20InsufficientAllowance', [c.p2p, usd('4'), usd('4') + 1n]);
      await c.approve(c.alice, c.p2p, usd('6'));
      await expectRevert(c.simCreate(c.alice, tid('b'), c.bob.address, usd('6')), 'ERC20InsufficientBalance', [c.alice.address, usd('5'), usd('6')]);
      await c.create(c.alice, tid('b'), c.bob.address, usd('5'));
      expect(await c.balances(c.alice.address, c.p2p)).toEqual([0n, usd('5')]);
    });

    it('a trade id is used once: EscrowExists(tradeId) while open and after release or cancellation, checked before the other arguments; sent anyway it moves nothing', async () => {
      await c.openEscrow(tid('once'), c.alice, c.bob, usd('1'));
      await c.fund(c.carol, usd('10'), c.p2p);
      await expectRevert(c.simCreate(c.carol, tid('once'), c.bob.address, usd('1')), 'EscrowExists', [tid('once')]);
      await expectRevert(c.simCreate(c.carol, tid('once'), zeroAddress, 0n), 'EscrowExists', [tid('once')]);
      await c.release(c.alice, tid('once'));
      await expectRevert(c.simCreate(c.alice, tid('once'), c.bob.address, usd('1')), 'EscrowExists', [tid('once')]);
      await c.openEscrow(tid('once-c'), c.alice, c.bob, usd('1'));
      await c.cancel(c.alice, tid('once-c'));
      await expectRevert(c.simCreate(c.carol, tid('once-c'), c.bob.address, usd('1')), 'EscrowExists', [tid('once-c')]);
      await env.minedReverted(
        await c.carol.wallet.writeContract({
          address: c.p2p,
          abi: p2PTradeAbi,
          functionName: 'createEscrow',
          args: [tid('once'), c.bob.address, usd('1')],
          gas: 200_000n,
          ...env.fees,
        }),
      );
      expect(await c.balances(c.carol.address, c.p2p)).toEqual([usd('10'), 0n]);
    });

    it('release by the seller pays the buyer: Transfer then EscrowReleased(tradeId, seller, buyer, amount); again, EscrowNotOpen(tradeId, Released); NotSeller(tradeId, caller); EscrowNotFound(tradeId)', async () => {
      await c.openEscrow(tid('r'), c.alice, c.bob, usd('8'));
      for (const caller of [c.bob, c.arbitrator, c.admin, c.stranger]) await expectRevert(c.simRelease(caller, tid('r')), 'NotSeller', [tid('r'), caller.address]);
      const receipt = await c.release(c.alice, tid('r'));
      expect(eventsOf(receipt)).toEqual([
        [c.cusd, 'Transfer', { from: c.p2p, to: c.bob.address, value: usd('8') }],
        [c.p2p, 'EscrowReleased', { tradeId: tid('r'), seller: c.alice.address, buyer: c.bob.address, amount: usd('8') }],
      ]);
      expect((await c.escrow(tid('r'))).status).toBe(Status.Released);
      expect(await c.balances(c.alice.address, c.bob.address, c.p2p)).toEqual([0n, usd('8'), 0n]);
      await expectRevert(c.simRelease(c.alice, tid('r')), 'EscrowNotOpen', [tid('r'), Status.Released]);
      await expectRevert(c.simCancel(c.alice, tid('r')), 'EscrowNotOpen', [tid('r'), Status.Released]);
      await expectRevert(c.simRelease(c.alice, tid('nope')), 'EscrowNotFound', [tid('nope')]);
      await expectRevert(c.simCancel(c.alice, tid('nope')), 'EscrowNotFound', [tid('nope')]);
      await expectRevert(c.simMarkPaid(c.bob, tid('nope')), 'EscrowNotFound', [tid('nope')]);
      await expectRevert(c.simDispute(c.bob, tid('nope')), 'EscrowNotFound', [tid('nope')]);
      await expectRevert(c.simResolve(c.arbitrator, tid('nope'), true), 'EscrowNotFound', [tid('nope')]);
    });

    it('cancel refunds the seller: Transfer then EscrowCancelled(tradeId, seller, buyer, amount); by the seller or the buyer; NotParty(tradeId, caller) for anyone else; again, EscrowNotOpen(tradeId, Cancelled)', async () => {
      await c.openEscrow(tid('cs'), c.alice, c.bob, usd('3'));
      await c.openEscrow(tid('cb'), c.alice, c.bob, usd('4'));
      for (const caller of [c.carol, c.arbitrator, c.admin]) await expectRevert(c.simCancel(caller, tid('cs')), 'NotParty', [tid('cs'), caller.address]);
      const bySeller = await c.cancel(c.alice, tid('cs'));
      expect(eventsOf(bySeller)).toEqual([
        [c.cusd, 'Transfer', { from: c.p2p, to: c.alice.address, value: usd('3') }],
        [c.p2p, 'EscrowCancelled', { tradeId: tid('cs'), seller: c.alice.address, buyer: c.bob.address, amount: usd('3') }],
      ]);
      const byBuyer = await c.cancel(c.bob, tid('cb'));
      expect(eventsOf(byBuyer)).toEqual([
        [c.cusd, 'Transfer', { from: c.p2p, to: c.alice.address, value: usd('4') }],
        [c.p2p, 'EscrowCancelled', { tradeId: tid('cb'), seller: c.alice.address, buyer: c.bob.address, amount: usd('4') }],
      ]);
      for (const id of [tid('cs'), tid('cb')]) {
        expect((await c.escrow(id)).status).toBe(Status.Cancelled);
        await expectRevert(c.simCancel(c.alice, id), 'EscrowNotOpen', [id, Status.Cancelled]);
        await expectRevert(c.simRelease(c.alice, id), 'EscrowNotOpen', [id, Status.Cancelled]);
        await expectRevert(c.simDispute(c.bob, id), 'EscrowNotOpen', [id, Status.Cancelled]);
      }
      expect(await c.balances(c.alice.address, c.bob.address, c.p2p)).toEqual([usd('7'), 0n, 0n]);
    });

    it('markPaid by the buyer emits EscrowMarkedPaid(tradeId, buyer) and records paidAt; then the seller cannot cancel (BuyerMarkedPaid(tradeId, paidAt)) but may release, and the buyer may still cancel; NotBuyer, AlreadyMarkedPaid', async () => {
      await c.openEscrow(tid('p'), c.alice, c.bob, usd('2'));
      await c.openEscrow(tid('p2'), c.alice, c.bob, usd('2'));
      for (const caller of [c.alice, c.stranger, c.arbitrator]) await expectRevert(c.simMarkPaid(caller, tid('p')), 'NotBuyer', [tid('p'), caller.address]);
      const receipt = await c.markPaid(c.bob, tid('p'));
      expect(eventsOf(receipt)).toEqual([[c.p2p, 'EscrowMarkedPaid', { tradeId: tid('p'), buyer: c.bob.address }]]);
      const paidAt = await env.timestampOf(receipt);
      expect(await c.escrow(tid('p'))).toMatchObject({ status: Status.Open, paidAt });
      await expectRevert(c.simMarkPaid(c.bob, tid('p')), 'AlreadyMarkedPaid', [tid('p'), paidAt]);
      await expectRevert(c.simCancel(c.alice, tid('p')), 'BuyerMarkedPaid', [tid('p'), paidAt]);
      // the buyer may still back out; the seller may release
      await c.simCancel(c.bob, tid('p'));
      await c.release(c.alice, tid('p'));
      await expectRevert(c.simMarkPaid(c.bob, tid('p')), 'EscrowNotOpen', [tid('p'), Status.Released]);
      await c.markPaid(c.bob, tid('p2'));
      await c.cancel(c.bob, tid('p2'));
      expect(await c.balances(c.alice.address, c.bob.address, c.p2p)).toEqual([usd('2'), usd('2'), 0n]);
    });

    it('dispute by the buyer or the seller emits EscrowDisputed(tradeId, by, reason) and freezes the escrow: release, cancel, markPaid and a second dispute get EscrowNotOpen(tradeId, Disputed); NotParty otherwise', async () => {
      await c.openEscrow(tid('d1'), c.alice, c.bob, usd('1'));
      await c.openEscrow(tid('d2'), c.alice, c.bob, usd('1'));
      for (const caller of [c.carol, c.arbitrator]) await expectRevert(c.simDispute(caller, tid('d1')), 'NotParty', [tid('d1'), caller.address]);
      expect(eventsOf(await c.dispute(c.bob, tid('d1'), why('no release')))).toEqual([
        [c.p2p, 'EscrowDisputed', { tradeId: tid('d1'), by: c.bob.address, reason: why('no release') }],
      ]);
      await c.markPaid(c.bob, tid('d2'));
      expect(eventsOf(await c.dispute(c.alice, tid('d2'), why('no payment')))).toEqual([
        [c.p2p, 'EscrowDisputed', { tradeId: tid('d2'), by: c.alice.address, reason: why('no payment') }],
      ]);
      for (const id of [tid('d1'), tid('d2')]) {
        expect((await c.escrow(id)).status).toBe(Status.Disputed);
        await expectRevert(c.simRelease(c.alice, id), 'EscrowNotOpen', [id, Status.Disputed]);
        await expectRevert(c.simCancel(c.alice, id), 'EscrowNotOpen', [id, Status.Disputed]);
        await expectRevert(c.simCancel(c.bob, id), 'EscrowNotOpen', [id, Status.Disputed]);
        await expectRevert(c.simDispute(c.alice, id), 'EscrowNotOpen', [id, Status.Disputed]);
        await expectRevert(c.simDispute(c.bob, id), 'EscrowNotOpen', [id, Status.Disputed]);
      }
      await expectRevert(c.simMarkPaid(c.bob, tid('d1')), 'EscrowNotOpen', [tid('d1'), Status.Disputed]);
      expect(await c.balanceOf(c.p2p)).toBe(usd('2'));
    });

    it('resolve by an arbitrator, both ways: Transfer, EscrowReleased or EscrowCancelled, then DisputeResolved(tradeId, arbitrator, toBuyer); EscrowNotDisputed(tradeId, status) otherwise', async () => {
      await c.openEscrow(tid('rb'), c.alice, c.bob, usd('6'));
      await c.openEscrow(tid('rs'), c.alice, c.bob, usd('4'));
      await expectRevert(c.simResolve(c.arbitrator, tid('rb'), true), 'EscrowNotDisputed', [tid('rb'), Status.Open]);
      await c.dispute(c.bob, tid('rb'));
      await c.dispute(c.alice, tid('rs'));
      const toBuyer = await c.resolve(c.arbitrator, tid('rb'), true);
      expect(eventsOf(toBuyer)).toEqual([
        [c.cusd, 'Transfer', { from: c.p2p, to: c.bob.address, value: usd('6') }],
        [c.p2p, 'EscrowReleased', { tradeId: tid('rb'), seller: c.alice.address, buyer: c.bob.address, amount: usd('6') }],
        [c.p2p, 'DisputeResolved', { tradeId: tid('rb'), arbitrator: c.arbitrator.address, toBuyer: true }],
      ]);
      const toSeller = await c.resolve(c.arbitrator, tid('rs'), false);
      expect(eventsOf(toSeller)).toEqual([
        [c.cusd, 'Transfer', { from: c.p2p, to: c.alice.address, value: usd('4') }],
        [c.p2p, 'EscrowCancelled', { tradeId: tid('rs'), seller: c.alice.address, buyer: c.bob.address, amount: usd('4') }],
        [c.p2p, 'DisputeResolved', { tradeId: tid('rs'), arbitrator: c.arbitrator.address, toBuyer: false }],
      ]);
      expect([(await c.escrow(tid('rb'))).status, (await c.escrow(tid('rs'))).status]).toEqual([Status.Released, Status.Cancelled]);
      await expectRevert(c.simResolve(c.arbitrator, tid('rb'), false), 'EscrowNotDisputed', [tid('rb'), Status.Released]);
      await expectRevert(c.simResolve(c.arbitrator, tid('rs'), true), 'EscrowNotDisputed', [tid('rs'), Status.Cancelled]);
      expect(await c.balances(c.alice.address, c.bob.address, c.p2p)).toEqual([usd('4'), usd('6'), 0n]);
    });

    it('only ARBITRATOR_ROLE resolves: AccessControlUnauthorizedAccount(caller, ARBITRATOR_ROLE), the admin and the parties included; the admin grants and revokes it', async () => {
      await c.openEscrow(tid('role'), c.alice, c.bob, usd('1'));
      await c.dispute(c.bob, tid('role'));
      for (const caller of [c.admin, c.alice, c.bob, c.stranger]) {
        await expectRevert(c.simResolve(caller, tid('role'), true), 'AccessControlUnauthorizedAccount', [caller.address, ARBITRATOR_ROLE]);
      }
      await c.revokeRole(c.admin, c.p2p, ARBITRATOR_ROLE, c.arbitrator.address);
      await expectRevert(c.simResolve(c.arbitrator, tid('role'), true), 'AccessControlUnauthorizedAccount', [c.arbitrator.address, ARBITRATOR_ROLE]);
      await c.grantRole(c.admin, c.p2p, ARBITRATOR_ROLE, c.stranger.address);
      await c.resolve(c.stranger, tid('role'), true);
      expect(await c.balanceOf(c.bob.address)).toBe(usd('1'));
    });

    it('a token with no code: SafeERC20FailedOperation(token)', async () => {
      const noCode = randomAddress();
      const other = getAddress(
        (await env.mined(await c.admin.wallet.deployContract({ abi: p2PTradeAbi, bytecode: p2PTradeBytecode, args: [noCode, c.admin.address, c.arbitrator.address], ...env.fees })))
          .contractAddress!,
      );
      await expectRevert(
        env.publicClient.simulateContract({ account: c.alice.account, address: other, abi: p2PTradeAbi, functionName: 'createEscrow', args: [tid('x'), c.bob.address, 1n] }),
        'SafeERC20FailedOperation',
        [noCode],
      );
    });
  });

  describe('checks-effects-interactions (a token that calls back; cUSD never does)', () => {
    /** A reentrant token, a Pay and a P2PTrade on it; the token itself pays and sells. */
    async function reentrantWorld() {
      const { fees, mined } = env;
      const deployed = async (hash: Hex) => getAddress((await mined(hash)).contractAddress!);
      const token = await deployed(await c.admin.wallet.deployContract({ abi: testReentrantTokenAbi, bytecode: testReentrantTokenBytecode, ...fees }));
      const pay = await deployed(await c.admin.wallet.deployContract({ abi: payAbi, bytecode: payBytecode, args: [token, c.admin.address, c.collector.address, FEE_BPS], ...fees }));
      const p2p = await deployed(
        await c.admin.wallet.deployContract({ abi: p2PTradeAbi, bytecode: p2PTradeBytecode, args: [token, c.admin.address, c.arbitrator.address], ...fees }),
      );
      const write = async (functionName: 'mint' | 'execute' | 'arm', args: readonly unknown[]) =>
        mined(
          await c.admin.wallet.writeContract({
            address: token,
            abi: testReentrantTokenAbi,
            functionName,
            args: args as never,
            ...fees,
          }),
        );
      const read = <F extends 'balanceOf' | 'callbackOk' | 'callbackResult' | 'callbacks'>(functionName: F, args: readonly unknown[] = []) =>
        env.publicClient.readContract({ address: token, abi: testReentrantTokenAbi, functionName, args: args as never });
      /** The token, as the caller, calls `target`. */
      const asToken = (target: Address, data: Hex) => write('execute', [target, data]);
      const approveData = (spender: Address) => encodeFunctionData({ abi: testReentrantTokenAbi, functionName: 'approve', args: [spender, maxUint256] });
      await write('mint', [token, usd('100')]);
      await asToken(token, approveData(pay));
      await asToken(token, approveData(p2p));
      return { token, pay, p2p, write, read, asToken };
    }

    it('Pay marks the reference used before moving the token: a payment re-entered with the same reference gets ReferenceUsed, and the merchant is paid once', async () => {
      const w = await reentrantWorld();
      const payData = encodeFunctionData({ abi: payAbi, functionName: 'pay', args: [c.merchant.address, usd('10'), pref('re')] });
      await w.write('arm', [w.pay, payData]);
      await w.asToken(w.pay, payData);
      expect([await w.read('callbacks'), await w.read('callbackOk')]).toEqual([1n, false]);
      const inner = decodeErrorResult({ abi: payAbi, data: (await w.read('callbackResult')) as Hex });
      expect([inner.errorName, inner.args]).toEqual(['ReferenceUsed', [pref('re'), w.token]]);
      const bal = (who: Address) => w.read('balanceOf', [who]);
      expect([await bal(c.merchant.address), await bal(c.collector.address), await bal(w.token)]).toEqual([usd('9.9'), usd('0.1'), usd('90')]);
    });

    it('P2PTrade sets the status before moving the token: a release, a cancel or a resolution re-entered by the seller gets EscrowNotOpen, and the escrow pays out once', async () => {
      const w = await reentrantWorld();
      const call = (functionName: 'release' | 'cancel', id: Hex) => encodeFunctionData({ abi: p2PTradeAbi, functionName, args: [id] });
      const create = (id: Hex) => w.asToken(w.p2p, encodeFunctionData({ abi: p2PTradeAbi, functionName: 'createEscrow', args: [id, c.bob.address, usd('10')] }));
      const bal = (who: Address) => w.read('balanceOf', [who]);
      const innerError = async () => {
        const decoded = decodeErrorResult({ abi: p2PTradeAbi, data: (await w.read('callbackResult')) as Hex });
        return [decoded.errorName, decoded.args];
      };

      // release re-entered with release (to the buyer) and with cancel (back to the seller)
      for (const [label, reentry] of [
        ['rr', 'release'],
        ['rc', 'cancel'],
      ] as const) {
        await create(tid(label));
        await w.write('arm', [w.p2p, call(reentry, tid(label))]);
        await w.asToken(w.p2p, call('release', tid(label)));
        expect([label, await w.read('callbackOk'), await innerError()]).toEqual([label, false, ['EscrowNotOpen', [tid(label), Status.Released]]]);
      }
      // cancel re-entered with cancel
      await create(tid('cc'));
      await w.write('arm', [w.p2p, call('cancel', tid('cc'))]);
      await w.asToken(w.p2p, call('cancel', tid('cc')));
      expect(await innerError()).toEqual(['EscrowNotOpen', [tid('cc'), Status.Cancelled]]);
      // an arbitrator's resolution to the buyer, re-entered by the seller with cancel
      await create(tid('res'));
      await w.asToken(w.p2p, encodeFunctionData({ abi: p2PTradeAbi, functionName: 'dispute', args: [tid('res'), why('re')] }));
      await w.write('arm', [w.p2p, call('cancel', tid('res'))]);
      await env.mined(
        await c.arbitrator.wallet.writeContract({ address: w.p2p, abi: p2PTradeAbi, functionName: 'resolve', args: [tid('res'), true], ...env.fees }),
      );
      expect(await innerError()).toEqual(['EscrowNotOpen', [tid('res'), Status.Released]]);

      expect(await w.read('callbacks')).toBe(4n);
      // 4 escrows of 10: three released to bob, one cancelled back to the token; nothing left inside.
      expect([await bal(c.bob.address), await bal(w.token), await bal(w.p2p)]).toEqual([usd('30'), usd('70'), 0n]);
    });
  });

  it('the whole flow: mints, a transfer, a payment with its fee, escrows released, cancelled and resolved both ways', async () => {
    await lifecycle(env);
  });

  it('every custom error the three contracts declare is asserted above, by name and arguments', () => {
    const expected: Record<ContractName, string[]> = {
      CUSD: [
        'AccessControlUnauthorizedAccount',
        'ERC20InsufficientAllowance',
        'ERC20InsufficientBalance',
        'ERC20InvalidReceiver',
        'ERC20InvalidSpender',
        'EnforcedPause',
        'ExpectedPause',
        'InvalidAdmin',
        'InvalidMinter',
      ],
      Pay: [
        'AccessControlUnauthorizedAccount',
        'FeeTooHigh',
        'InvalidAdmin',
        'InvalidAmount',
        'InvalidFeeCollector',
        'InvalidMerchant',
        'InvalidReference',
        'InvalidToken',
        'ReferenceUsed',
        'SafeERC20FailedOperation',
      ],
      P2PTrade: [
        'AccessControlUnauthorizedAccount',
        'AlreadyMarkedPaid',
        'BuyerMarkedPaid',
        'EscrowExists',
        'EscrowNotDisputed',
        'EscrowNotFound',
        'EscrowNotOpen',
        'InvalidAdmin',
        'InvalidAmount',
        'InvalidArbitrator',
        'InvalidBuyer',
        'InvalidToken',
        'InvalidTradeId',
        'NotBuyer',
        'NotParty',
        'NotSeller',
        'SafeERC20FailedOperation',
      ],
    };
    // Unreachable through these contracts' functions: renounceRole's confirmation (OpenZeppelin's to
    // test), and ERC-20 errors about a zero owner or sender, which no external call can be.
    const unreachable = new Set(['AccessControlBadConfirmation', 'ERC20InvalidApprover', 'ERC20InvalidSender']);
    for (const name of Object.keys(CONTRACTS) as ContractName[]) {
      const declared = (CONTRACTS[name] as Abi)
        .filter((item) => item.type === 'error')
        .map((item) => (item as { name: string }).name)
        .filter((error) => !unreachable.has(error))
        .sort();
      expect([name, declared]).toEqual([name, [...expected[name]].sort()]);
      const missing = expected[name].filter((error) => !asserted.has(`${name}.${error}`));
      expect([name, missing]).toEqual([name, []]);
    }
  });
});

describe('on a Polygon Edge-like chain (anvil --hardfork berlin --chain-id 100, legacy transactions)', () => {
  let env: Env;

  beforeAll(async () => {
    env = await startContractChain({ hardfork: 'berlin', chainId: 100 });
  });
  afterAll(async () => {
    await env?.anvil.stop();
  });

  it('deploys the three contracts and runs the whole flow with type-0 transactions signed for chain 100', async () => {
    expect(env.legacy).toBe(true);
    expect(await env.publicClient.getChainId()).toBe(100);
    expect((await env.publicClient.getBlock()).baseFeePerGas ?? null).toBeNull();

    await lifecycle(env);

    // 3 deployments, 2 mints, 1 transfer, 1 approval and 1 payment, 1 approval and 4 escrows,
    // 1 markPaid, 1 release, 1 cancel, 2 disputes, 2 resolutions
    expect(env.sent).toHaveLength(20);
    for (const hash of env.sent) {
      const tx = await env.publicClient.getTransaction({ hash });
      expect({ hash, type: tx.type, typeHex: tx.typeHex, chainId: tx.chainId }).toEqual({ hash, type: 'legacy', typeHex: '0x0', chainId: 100 });
      expect(tx.maxFeePerGas).toBeUndefined();
    }
  });
});
