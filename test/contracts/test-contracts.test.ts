import { beforeEach, describe, expect, it } from 'vitest';
import {
  BaseError,
  decodeErrorResult,
  getAddress,
  getContractAddress,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { testChain } from '../harness/chain.js';
import { expectRevert, revertData } from '../harness/reverts.js';
import { testLedgerAbi, testLedgerBytecode } from '../../contracts/artifacts/TestLedger.js';
import { testFactoryAbi, testFactoryBytecode } from '../../contracts/artifacts/TestFactory.js';
import { testChildAbi, testChildBytecode } from '../../contracts/artifacts/TestChild.js';

const { publicClient, newAccount } = testChain();

type Actor = Awaited<ReturnType<typeof newAccount>>;

const key = (label: string): Hex => keccak256(toHex(`key:${label}`));
const salt = (label: string): Hex => keccak256(toHex(`salt:${label}`));
const same = (a: string, b: string) => expect(a.toLowerCase()).toBe(b.toLowerCase());

async function mined(hash: Hex): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return receipt;
}

/** Waits for a transaction that is expected to be mined as reverted. */
async function minedReverted(hash: Hex): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('reverted');
  expect(receipt.logs).toHaveLength(0);
  return receipt;
}

async function deploy(by: Actor, abi: typeof testLedgerAbi | typeof testFactoryAbi, bytecode: Hex): Promise<Address> {
  const receipt = await mined(await by.wallet.deployContract({ abi, bytecode }));
  expect(receipt.contractAddress).toBeTruthy();
  return getAddress(receipt.contractAddress!);
}

describe('TestLedger', () => {
  const abi = testLedgerAbi;
  let alice: Actor;
  let bob: Actor;
  let ledger: Address;

  const read = (k: Hex) => publicClient.readContract({ address: ledger, abi, functionName: 'read', args: [k] });
  const isWritten = (k: Hex) => publicClient.readContract({ address: ledger, abi, functionName: 'isWritten', args: [k] });

  const simulateWrite = (by: Actor, k: Hex, value: bigint) =>
    publicClient.simulateContract({ account: by.account, address: ledger, abi, functionName: 'write', args: [k, value] });
  const write = async (by: Actor, k: Hex, value: bigint) =>
    mined(await by.wallet.writeContract((await simulateWrite(by, k, value)).request));

  const simulateWriteMany = (by: Actor, keys: Hex[], values: bigint[]) =>
    publicClient.simulateContract({ account: by.account, address: ledger, abi, functionName: 'writeMany', args: [keys, values] });
  const writeMany = async (by: Actor, keys: Hex[], values: bigint[]) =>
    mined(await by.wallet.writeContract((await simulateWriteMany(by, keys, values)).request));

  const simulateWriteOnce = (by: Actor, k: Hex, value: bigint) =>
    publicClient.simulateContract({ account: by.account, address: ledger, abi, functionName: 'writeOnce', args: [k, value] });
  const writeOnce = async (by: Actor, k: Hex, value: bigint) =>
    mined(await by.wallet.writeContract((await simulateWriteOnce(by, k, value)).request));

  const simulateRefuse = (by: Actor, reason: string) =>
    publicClient.simulateContract({ account: by.account, address: ledger, abi, functionName: 'refuse', args: [reason] });

  beforeEach(async () => {
    [alice, bob] = await Promise.all([newAccount(), newAccount()]);
    ledger = await deploy(alice, abi, testLedgerBytecode);
  });

  describe('write and read', () => {
    it('write stores the value and emits Written(key, value, writer)', async () => {
      expect(await read(key('a'))).toBe(0n);
      expect(await isWritten(key('a'))).toBe(false);

      const receipt = await write(alice, key('a'), 42n);
      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Written' });
      expect(logs).toHaveLength(1);
      same(logs[0]!.address, ledger);
      expect(logs[0]!.args).toEqual({ key: key('a'), value: 42n, writer: alice.address });
      expect(receipt.logs).toHaveLength(1);
      // key and writer are indexed: topics are [topic0, key, writer]
      expect(receipt.logs[0]!.topics).toHaveLength(3);
      expect(receipt.logs[0]!.topics[1]).toBe(key('a'));

      expect(await read(key('a'))).toBe(42n);
      expect(await isWritten(key('a'))).toBe(true);
      expect(await read(key('b'))).toBe(0n);
    });

    it('write overwrites, by any account; the event names the writer', async () => {
      await write(alice, key('a'), 1n);
      const receipt = await write(bob, key('a'), 2n ** 256n - 1n);
      const [log] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Written' });
      expect(log!.args).toEqual({ key: key('a'), value: 2n ** 256n - 1n, writer: bob.address });
      expect(await read(key('a'))).toBe(2n ** 256n - 1n);
    });

    it('writing 0 counts as written', async () => {
      await write(alice, key('zero'), 0n);
      expect(await read(key('zero'))).toBe(0n);
      expect(await isWritten(key('zero'))).toBe(true);
    });
  });

  describe('writeMany', () => {
    it('writes 100 pairs in one transaction: 100 Written events, in order', async () => {
      const keys = Array.from({ length: 100 }, (_, i) => key(`many-${i}`));
      const values = keys.map((_, i) => BigInt(i * 1000 + 7));
      const receipt = await writeMany(alice, keys, values);

      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Written' });
      expect(logs).toHaveLength(100);
      expect(logs.map((l) => l.args)).toEqual(keys.map((k, i) => ({ key: k, value: values[i], writer: alice.address })));
      expect(new Set(logs.map((l) => l.transactionHash))).toEqual(new Set([receipt.transactionHash]));
      const indexes = logs.map((l) => l.logIndex);
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
      expect(new Set(indexes).size).toBe(100);

      for (const i of [0, 1, 50, 99]) expect(await read(keys[i]!)).toBe(values[i]);
    });

    it('a key repeated in one call emits twice; the last value wins', async () => {
      const receipt = await writeMany(bob, [key('r'), key('s'), key('r')], [1n, 2n, 3n]);
      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Written' });
      expect(logs.map((l) => [l.args.key, l.args.value])).toEqual([
        [key('r'), 1n],
        [key('s'), 2n],
        [key('r'), 3n],
      ]);
      expect(await read(key('r'))).toBe(3n);
    });

    it('empty arrays are a no-op', async () => {
      const receipt = await writeMany(alice, [], []);
      expect(receipt.logs).toHaveLength(0);
    });

    it('rejects arrays of different lengths with LengthMismatch(keys, values)', async () => {
      await expectRevert(simulateWriteMany(alice, [key('x'), key('y')], [1n]), 'LengthMismatch', [2n, 1n]);
      await expectRevert(simulateWriteMany(alice, [], [1n]), 'LengthMismatch', [0n, 1n]);
      await expectRevert(simulateWriteMany(alice, [key('x')], []), 'LengthMismatch', [1n, 0n]);
      expect(await isWritten(key('x'))).toBe(false);
    });
  });

  describe('refuse', () => {
    it('reverts with Refused(reason), decoded with its reason', async () => {
      await expectRevert(simulateRefuse(alice, 'no thanks'), 'Refused', ['no thanks']);
      const long = `a reason longer than one 32-byte word, with unicode: ñandú ✓ ${'x'.repeat(100)}`;
      await expectRevert(simulateRefuse(alice, long), 'Refused', [long]);
      await expectRevert(simulateRefuse(alice, ''), 'Refused', ['']);
    });

    it('the raw revert data decodes against the ABI; a gas estimate fails the same way', async () => {
      let caught: unknown;
      try {
        await publicClient.estimateContractGas({
          account: alice.account,
          address: ledger,
          abi,
          functionName: 'refuse',
          args: ['estimate'],
        });
      } catch (err) {
        caught = err;
      }
      const decoded = decodeErrorResult({ abi, data: revertData(caught) });
      expect(decoded.errorName).toBe('Refused');
      expect(decoded.args).toEqual(['estimate']);
    });

    it('sent anyway (fixed gas skips estimation), it is mined as reverted, value included', async () => {
      const before = await publicClient.getBalance({ address: ledger });
      const hash = await alice.wallet.writeContract({
        address: ledger,
        abi,
        functionName: 'refuse',
        args: ['mined'],
        value: 1n,
        gas: 100_000n,
      });
      await minedReverted(hash);
      expect(await publicClient.getBalance({ address: ledger })).toBe(before);
    });
  });

  describe('writeOnce', () => {
    it('succeeds once (emitting Written), then reverts with AlreadyWritten(key)', async () => {
      const receipt = await writeOnce(alice, key('once'), 5n);
      const [log] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Written' });
      expect(log!.args).toEqual({ key: key('once'), value: 5n, writer: alice.address });
      expect(await read(key('once'))).toBe(5n);

      await expectRevert(simulateWriteOnce(alice, key('once'), 5n), 'AlreadyWritten', [key('once')]);
      await expectRevert(simulateWriteOnce(bob, key('once'), 6n), 'AlreadyWritten', [key('once')]);

      // The same transaction sent twice: the second is mined as reverted and changes nothing.
      const hash = await alice.wallet.writeContract({
        address: ledger,
        abi,
        functionName: 'writeOnce',
        args: [key('once'), 9n],
        gas: 100_000n,
      });
      await minedReverted(hash);
      expect(await read(key('once'))).toBe(5n);
    });

    it('a key written by write or writeMany (even with 0) counts as written', async () => {
      await write(alice, key('w'), 0n);
      await writeMany(alice, [key('m1'), key('m2')], [1n, 0n]);
      for (const k of [key('w'), key('m1'), key('m2')]) {
        await expectRevert(simulateWriteOnce(bob, k, 1n), 'AlreadyWritten', [k]);
      }
      expect((await simulateWriteOnce(bob, key('fresh'), 1n)).result).toBeUndefined();
    });

    it('write may still overwrite a key written once', async () => {
      await writeOnce(alice, key('k'), 1n);
      await write(bob, key('k'), 2n);
      expect(await read(key('k'))).toBe(2n);
    });
  });
});

describe('TestFactory and TestChild', () => {
  const abi = testFactoryAbi;
  const bothAbis = [...testFactoryAbi, ...testChildAbi] as const;
  let alice: Actor;
  let bob: Actor;
  let factory: Address;

  const predict = (s: Hex, at: Address = factory) =>
    publicClient.readContract({ address: at, abi, functionName: 'predict', args: [s] });
  const simulateCreate = (by: Actor, s: Hex) =>
    publicClient.simulateContract({ account: by.account, address: factory, abi, functionName: 'create', args: [s] });
  const create = async (by: Actor, s: Hex) => {
    const { request, result } = await simulateCreate(by, s);
    const receipt = await mined(await by.wallet.writeContract(request));
    return { child: result, receipt };
  };
  const childRead = (child: Address, functionName: 'factory' | 'creator' | 'pings') =>
    publicClient.readContract({ address: child, abi: testChildAbi, functionName });
  const ping = async (by: Actor, child: Address, n: bigint) => {
    const { request } = await publicClient.simulateContract({
      account: by.account,
      address: child,
      abi: testChildAbi,
      functionName: 'ping',
      args: [n],
    });
    return mined(await by.wallet.writeContract(request));
  };

  beforeEach(async () => {
    [alice, bob] = await Promise.all([newAccount(), newAccount()]);
    factory = await deploy(alice, abi, testFactoryBytecode);
  });

  it('predict gives the CREATE2 address before creation; create deploys there', async () => {
    const predicted = await predict(salt('one'));
    // The usual CREATE2 formula over the TestChild artifact's bytecode gives the same address.
    same(predicted, getContractAddress({ opcode: 'CREATE2', from: factory, salt: salt('one'), bytecode: testChildBytecode }));
    expect(await publicClient.getCode({ address: predicted })).toBeUndefined();

    const { child, receipt } = await create(bob, salt('one'));
    same(child, predicted);
    expect(await publicClient.getCode({ address: child })).toMatch(/^0x[0-9a-f]+$/);
    expect(await predict(salt('one'))).toBe(predicted);

    const [created] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'ChildCreated' });
    same(created!.args.child, predicted);
  });

  it('the creation receipt holds Born (from the child) then ChildCreated (from the factory)', async () => {
    const { child, receipt } = await create(bob, salt('born'));
    const logs = parseEventLogs({ abi: bothAbis, logs: receipt.logs });
    expect(logs.map((l) => l.eventName)).toEqual(['Born', 'ChildCreated']);
    const [born, created] = logs;
    expect(born!.logIndex).toBeLessThan(created!.logIndex);

    same(born!.address, child);
    expect(born!.args).toEqual({ factory, creator: bob.address });
    same(created!.address, factory);
    expect(created!.args).toEqual({ child, creator: bob.address, salt: salt('born') });

    expect(await childRead(child, 'factory')).toBe(factory);
    expect(await childRead(child, 'creator')).toBe(bob.address);
    expect(await childRead(child, 'pings')).toBe(0n);
    // The creator is only handed over during create.
    expect(await publicClient.readContract({ address: factory, abi, functionName: 'pendingCreator' })).toBe(zeroAddress);
  });

  it('the address depends on the factory and the salt only, not on the creator', async () => {
    const other = await deploy(alice, abi, testFactoryBytecode);
    const [p1, p2, pOther] = await Promise.all([predict(salt('a')), predict(salt('b')), predict(salt('a'), other)]);
    expect(new Set([p1, p2, pOther]).size).toBe(3);
    expect((await simulateCreate(alice, salt('a'))).result).toBe(p1);
    expect((await simulateCreate(bob, salt('a'))).result).toBe(p1);
  });

  it('a child counts pings and emits Pinged(n, by)', async () => {
    const { child } = await create(alice, salt('pinged'));
    const r1 = await ping(alice, child, 7n);
    const r2 = await ping(bob, child, 2n ** 256n - 1n);
    const logs = [r1, r2].map((r) => parseEventLogs({ abi: testChildAbi, logs: r.logs, eventName: 'Pinged' }));
    expect(logs.map((l) => l.length)).toEqual([1, 1]);
    same(logs[0]![0]!.address, child);
    expect(logs[0]![0]!.args).toEqual({ n: 7n, by: alice.address });
    expect(logs[1]![0]!.args).toEqual({ n: 2n ** 256n - 1n, by: bob.address });
    expect(await childRead(child, 'pings')).toBe(2n);

    // Children are independent.
    const { child: sibling } = await create(alice, salt('sibling'));
    expect(await childRead(sibling, 'pings')).toBe(0n);
  });

  it('a repeated salt reverts with ChildExists(child), whoever asks', async () => {
    const { child } = await create(alice, salt('dup'));
    await expectRevert(simulateCreate(alice, salt('dup')), 'ChildExists', [child]);
    await expectRevert(simulateCreate(bob, salt('dup')), 'ChildExists', [child]);

    const hash = await bob.wallet.writeContract({
      address: factory,
      abi,
      functionName: 'create',
      args: [salt('dup')],
      gas: 500_000n,
    });
    await minedReverted(hash);
    expect(await childRead(child, 'creator')).toBe(alice.address);
  });

  it('a TestChild cannot be deployed directly from an account', async () => {
    let caught: unknown;
    try {
      await publicClient.call({ account: alice.account, data: testChildBytecode });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BaseError);
  });
});
