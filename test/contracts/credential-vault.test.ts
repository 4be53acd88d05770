import { beforeEach, describe, expect, it } from 'vitest';
import {
  BaseError,
  decodeErrorResult,
  encodeDeployData,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
  zeroHash,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { testChain } from '../harness/chain.js';
import { expectRevert } from '../harness/reverts.js';
import {
  blockProofCredentialVaultAbi as abi,
  blockProofCredentialVaultBytecode as bytecode,
} from '../../contracts/artifacts/BlockProofCredentialVault.js';

const { publicClient, testClient, newAccount } = testChain();

type Actor = Awaited<ReturnType<typeof newAccount>>;

interface IssueRequest {
  student: Address;
  fingerprint: Hex;
  metadataURI: string;
  expiresAt: bigint;
}

const DEFAULT_ADMIN_ROLE = zeroHash;
const REASON_FRAUD = keccak256(toHex('fraud'));

const fp = (label: string): Hex => keccak256(toHex(`diploma:${label}`));
const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address;

async function mined(hash: Hex): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return receipt;
}

async function deployVault(admin: Actor): Promise<Address> {
  const hash = await admin.wallet.deployContract({ abi, bytecode, args: [admin.address] });
  const receipt = await mined(hash);
  expect(receipt.contractAddress).toBeTruthy();
  return receipt.contractAddress!;
}

async function latestTimestamp(): Promise<bigint> {
  return (await publicClient.getBlock({ blockTag: 'latest' })).timestamp;
}

async function blockTimestamp(receipt: TransactionReceipt): Promise<bigint> {
  return (await publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
}

describe('BlockProofCredentialVault', () => {
  let admin: Actor;
  let uniA: Actor;
  let uniB: Actor;
  let vault: Address;
  let student: Address;

  // --- thin wrappers: simulate (which also yields the return value), then send and wait ---

  const upsert = async (by: Actor, account: Address, active = true, name = 'University', uri = 'ipfs://uni') => {
    const { request } = await publicClient.simulateContract({
      account: by.account,
      address: vault,
      abi,
      functionName: 'upsertInstitution',
      args: [account, name, uri, active],
    });
    return mined(await by.wallet.writeContract(request));
  };

  const simulateIssue = (by: Actor, req: IssueRequest) =>
    publicClient.simulateContract({ account: by.account, address: vault, abi, functionName: 'issueCredential', args: [req] });

  const issue = async (by: Actor, req: IssueRequest) => {
    const { request, result } = await simulateIssue(by, req);
    const receipt = await mined(await by.wallet.writeContract(request));
    return { id: result, receipt };
  };

  const simulateIssueBatch = (by: Actor, reqs: IssueRequest[]) =>
    publicClient.simulateContract({ account: by.account, address: vault, abi, functionName: 'issueCredentials', args: [reqs] });

  const issueBatch = async (by: Actor, reqs: IssueRequest[]) => {
    const { request, result } = await simulateIssueBatch(by, reqs);
    const receipt = await mined(await by.wallet.writeContract(request));
    return { ids: result, receipt };
  };

  const simulateRevoke = (by: Actor, id: bigint, reason: Hex = REASON_FRAUD) =>
    publicClient.simulateContract({ account: by.account, address: vault, abi, functionName: 'revokeCredential', args: [id, reason] });

  const revoke = async (by: Actor, id: bigint, reason: Hex = REASON_FRAUD) => {
    const { request } = await simulateRevoke(by, id, reason);
    return mined(await by.wallet.writeContract(request));
  };

  const status = (id: bigint) => publicClient.readContract({ address: vault, abi, functionName: 'credentialStatus', args: [id] });
  const verify = (id: bigint, fingerprint: Hex) =>
    publicClient.readContract({ address: vault, abi, functionName: 'verifyFingerprint', args: [id, fingerprint] });
  const idByFingerprint = (fingerprint: Hex) =>
    publicClient.readContract({ address: vault, abi, functionName: 'credentialIdByFingerprint', args: [fingerprint] });
  const count = () => publicClient.readContract({ address: vault, abi, functionName: 'credentialCount' });
  const institution = (account: Address) =>
    publicClient.readContract({ address: vault, abi, functionName: 'institution', args: [account] });

  const req = (label: string, overrides: Partial<IssueRequest> = {}): IssueRequest => ({
    student,
    fingerprint: fp(label),
    metadataURI: `ipfs://credential/${label}`,
    expiresAt: 0n,
    ...overrides,
  });

  beforeEach(async () => {
    [admin, uniA, uniB] = await Promise.all([newAccount(), newAccount(), newAccount()]);
    student = randomAddress();
    vault = await deployVault(admin);
    await upsert(admin, uniA.address, true, 'University A', 'ipfs://uni-a');
    await upsert(admin, uniB.address, true, 'University B', 'ipfs://uni-b');
  });

  describe('deployment', () => {
    it('grants DEFAULT_ADMIN_ROLE to the constructor argument and starts empty', async () => {
      const deployer = await newAccount();
      const otherAdmin = randomAddress();
      const hash = await deployer.wallet.deployContract({ abi, bytecode, args: [otherAdmin] });
      const address = (await mined(hash)).contractAddress!;
      const hasRole = (who: Address) =>
        publicClient.readContract({ address, abi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, who] });
      expect(await hasRole(otherAdmin)).toBe(true);
      expect(await hasRole(deployer.address)).toBe(false);
      expect(await publicClient.readContract({ address, abi, functionName: 'credentialCount' })).toBe(0n);
    });

    it('rejects the zero address as admin with InvalidAdmin()', async () => {
      const deployer = await newAccount();
      let caught: unknown;
      try {
        await publicClient.call({
          account: deployer.account,
          data: encodeDeployData({ abi, bytecode, args: [zeroAddress] }),
        });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BaseError);
      // A constructor revert has no function to decode against: take the raw revert data.
      const withData = (caught as BaseError).walk(
        (e) => typeof (e as { data?: unknown }).data === 'string' && ((e as { data: string }).data).startsWith('0x'),
      ) as (Error & { data: Hex }) | null;
      expect(withData).not.toBeNull();
      const decoded = decodeErrorResult({ abi, data: withData!.data });
      expect(decoded.errorName).toBe('InvalidAdmin');
      expect(decoded.args ?? []).toEqual([]);
    });

    it('runs on a pre-Shanghai EVM: no PUSH0 in the deployed code', async () => {
      // paris target: checked by walking the runtime code opcode by opcode (skipping PUSH data).
      const code = await publicClient.getCode({ address: vault });
      expect(code).toBeDefined();
      const bytes = Buffer.from(code!.slice(2), 'hex');
      const opcodes = new Set<number>();
      for (let i = 0; i < bytes.length; i++) {
        const op = bytes[i]!;
        opcodes.add(op);
        if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
      }
      expect(opcodes.has(0x5f)).toBe(false); // PUSH0
      expect(opcodes.has(0x5e)).toBe(false); // MCOPY
      expect(opcodes.has(0x5c)).toBe(false); // TLOAD
      expect(opcodes.has(0x5d)).toBe(false); // TSTORE
    });
  });

  describe('institutions', () => {
    it('upsertInstitution registers, emits InstitutionUpserted and is readable', async () => {
      const uni = randomAddress();
      const receipt = await upsert(admin, uni, true, 'Universidad de Chile', 'ipfs://uchile');
      const ts = await blockTimestamp(receipt);
      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'InstitutionUpserted' });
      expect(logs).toHaveLength(1);
      expect(logs[0]!.address.toLowerCase()).toBe(vault.toLowerCase());
      expect(logs[0]!.args).toEqual({
        institution: uni,
        name: 'Universidad de Chile',
        metadataURI: 'ipfs://uchile',
        active: true,
        updatedAt: ts,
      });
      expect(await institution(uni)).toEqual({
        name: 'Universidad de Chile',
        metadataURI: 'ipfs://uchile',
        active: true,
        exists: true,
        updatedAt: ts,
      });
    });

    it('upsertInstitution updates an existing record (rename, deactivate)', async () => {
      const receipt = await upsert(admin, uniA.address, false, 'University A (closed)', 'ipfs://uni-a-2');
      const ts = await blockTimestamp(receipt);
      const [log] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'InstitutionUpserted' });
      expect(log!.args).toEqual({
        institution: uniA.address,
        name: 'University A (closed)',
        metadataURI: 'ipfs://uni-a-2',
        active: false,
        updatedAt: ts,
      });
      expect(await institution(uniA.address)).toEqual({
        name: 'University A (closed)',
        metadataURI: 'ipfs://uni-a-2',
        active: false,
        exists: true,
        updatedAt: ts,
      });
    });

    it('an unregistered address reads as exists=false', async () => {
      expect(await institution(randomAddress())).toEqual({
        name: '',
        metadataURI: '',
        active: false,
        exists: false,
        updatedAt: 0n,
      });
    });

    it('a non-admin cannot upsert: AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE)', async () => {
      const stranger = await newAccount();
      for (const caller of [stranger, uniA]) {
        await expectRevert(
          publicClient.simulateContract({
            account: caller.account,
            address: vault,
            abi,
            functionName: 'upsertInstitution',
            args: [caller.address, 'Me', 'ipfs://me', true],
          }),
          'AccessControlUnauthorizedAccount',
          [caller.address, DEFAULT_ADMIN_ROLE],
        );
      }
    });

    it('rejects the zero address with InvalidInstitution()', async () => {
      await expectRevert(
        publicClient.simulateContract({
          account: admin.account,
          address: vault,
          abi,
          functionName: 'upsertInstitution',
          args: [zeroAddress, 'Nobody', '', true],
        }),
        'InvalidInstitution',
        [],
      );
    });
  });

  describe('issueCredential', () => {
    it('returns the id, emits CredentialIssued with exact args and stores the credential', async () => {
      const expiresAt = (await latestTimestamp()) + 365n * 24n * 3600n;
      const request = req('alice-bsc', { expiresAt });
      const { result: simulatedId } = await simulateIssue(uniA, request);
      expect(simulatedId).toBe(1n);

      const { id, receipt } = await issue(uniA, request);
      expect(id).toBe(1n);
      const issuedAt = await blockTimestamp(receipt);
      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'CredentialIssued' });
      expect(logs).toHaveLength(1);
      expect(logs[0]!.args).toEqual({
        id: 1n,
        institution: uniA.address,
        student,
        fingerprint: fp('alice-bsc'),
        metadataURI: 'ipfs://credential/alice-bsc',
        issuedAt,
        expiresAt,
      });
      expect(await count()).toBe(1n);
      expect(await idByFingerprint(fp('alice-bsc'))).toBe(1n);
      expect(await status(1n)).toEqual({
        exists: true,
        valid: true,
        revoked: false,
        expired: false,
        institution: uniA.address,
        institutionActive: true,
        student,
        fingerprint: fp('alice-bsc'),
        metadataURI: 'ipfs://credential/alice-bsc',
        issuedAt,
        expiresAt,
        revokedAt: 0n,
        revocationReason: zeroHash,
      });
    });

    it('assigns sequential ids across institutions', async () => {
      expect((await issue(uniA, req('one'))).id).toBe(1n);
      expect((await issue(uniB, req('two'))).id).toBe(2n);
      expect((await issue(uniA, req('three'))).id).toBe(3n);
      expect(await count()).toBe(3n);
      expect((await status(2n)).institution).toBe(uniB.address);
      expect(await idByFingerprint(fp('three'))).toBe(3n);
      expect(await idByFingerprint(fp('never-issued'))).toBe(0n);
    });

    it('accepts an empty metadataURI', async () => {
      const { id, receipt } = await issue(uniA, req('no-uri', { metadataURI: '' }));
      const [log] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'CredentialIssued' });
      expect(log!.args.metadataURI).toBe('');
      expect((await status(id)).metadataURI).toBe('');
    });

    it('rejects a zero student with InvalidStudent()', async () => {
      await expectRevert(simulateIssue(uniA, req('x', { student: zeroAddress })), 'InvalidStudent', []);
    });

    it('rejects a zero fingerprint with InvalidFingerprint()', async () => {
      await expectRevert(simulateIssue(uniA, req('x', { fingerprint: zeroHash })), 'InvalidFingerprint', []);
    });

    it('rejects an expiry that is not in the future with InvalidExpiry(expiresAt)', async () => {
      const now = await latestTimestamp();
      await expectRevert(simulateIssue(uniA, req('x', { expiresAt: now })), 'InvalidExpiry', [now]);
      await expectRevert(simulateIssue(uniA, req('x', { expiresAt: 1n })), 'InvalidExpiry', [1n]);
      // expiresAt 0 means "never": accepted.
      expect((await simulateIssue(uniA, req('x', { expiresAt: 0n }))).result).toBe(1n);
    });

    it('rejects a used fingerprint with FingerprintAlreadyUsed(fingerprint, existingId), from any institution', async () => {
      await issue(uniA, req('first'));
      const { id } = await issue(uniA, req('dup'));
      expect(id).toBe(2n);
      await expectRevert(simulateIssue(uniA, req('dup')), 'FingerprintAlreadyUsed', [fp('dup'), 2n]);
      await expectRevert(simulateIssue(uniB, req('dup', { student: randomAddress() })), 'FingerprintAlreadyUsed', [
        fp('dup'),
        2n,
      ]);
    });

    it('rejects a fingerprint even after its credential was revoked', async () => {
      const { id } = await issue(uniA, req('revoked-then-reused'));
      await revoke(uniA, id);
      await expectRevert(simulateIssue(uniA, req('revoked-then-reused')), 'FingerprintAlreadyUsed', [
        fp('revoked-then-reused'),
        id,
      ]);
      expect(await idByFingerprint(fp('revoked-then-reused'))).toBe(id);
    });

    it('an unregistered address cannot issue: InstitutionNotActive(caller)', async () => {
      const stranger = await newAccount();
      await expectRevert(simulateIssue(stranger, req('x')), 'InstitutionNotActive', [stranger.address]);
    });

    it('the admin cannot issue unless it is itself an institution', async () => {
      await expectRevert(simulateIssue(admin, req('x')), 'InstitutionNotActive', [admin.address]);
      await upsert(admin, admin.address, true, 'Admin University');
      expect((await issue(admin, req('x'))).id).toBe(1n);
    });

    it('a deactivated institution cannot issue, and can again once reactivated', async () => {
      await upsert(admin, uniA.address, false);
      await expectRevert(simulateIssue(uniA, req('x')), 'InstitutionNotActive', [uniA.address]);
      await upsert(admin, uniA.address, true);
      expect((await issue(uniA, req('x'))).id).toBe(1n);
    });
  });

  describe('issueCredentials (batch)', () => {
    it('returns sequential ids and emits one CredentialIssued per item, in order', async () => {
      await issue(uniB, req('before'));
      const students = [randomAddress(), randomAddress(), randomAddress()];
      const expiresAt = (await latestTimestamp()) + 10_000n;
      const requests = students.map((s, i) => req(`batch-${i}`, { student: s, expiresAt: i === 1 ? expiresAt : 0n }));

      const { result: simulated } = await simulateIssueBatch(uniA, requests);
      expect(simulated).toEqual([2n, 3n, 4n]);

      const { ids, receipt } = await issueBatch(uniA, requests);
      expect(ids).toEqual([2n, 3n, 4n]);
      const issuedAt = await blockTimestamp(receipt);
      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'CredentialIssued' });
      expect(logs.map((l) => l.args)).toEqual(
        requests.map((r, i) => ({
          id: BigInt(i + 2),
          institution: uniA.address,
          student: r.student,
          fingerprint: r.fingerprint,
          metadataURI: r.metadataURI,
          issuedAt,
          expiresAt: r.expiresAt,
        })),
      );
      expect(await count()).toBe(4n);
      for (const [i, r] of requests.entries()) {
        const s = await status(BigInt(i + 2));
        expect(s.valid).toBe(true);
        expect(s.student).toBe(r.student);
        expect(s.expiresAt).toBe(r.expiresAt);
        expect(await idByFingerprint(r.fingerprint)).toBe(BigInt(i + 2));
      }
      // the sequence continues after a batch
      expect((await issue(uniB, req('after'))).id).toBe(5n);
    });

    it('handles a larger batch (many events in one transaction)', async () => {
      const requests = Array.from({ length: 40 }, (_, i) => req(`big-${i}`, { student: randomAddress() }));
      const { ids, receipt } = await issueBatch(uniA, requests);
      expect(ids).toEqual(requests.map((_, i) => BigInt(i + 1)));
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: 'CredentialIssued' })).toHaveLength(40);
      expect(await count()).toBe(40n);
    });

    it('rejects an empty batch with EmptyBatch()', async () => {
      await expectRevert(simulateIssueBatch(uniA, []), 'EmptyBatch', []);
    });

    it('is all-or-nothing when a fingerprint repeats inside the batch', async () => {
      await issue(uniA, req('existing'));
      const requests = [req('b-1'), req('b-2'), req('b-1')];
      // The repeat collides with the id the same batch just gave it.
      await expectRevert(simulateIssueBatch(uniA, requests), 'FingerprintAlreadyUsed', [fp('b-1'), 2n]);

      // Send it anyway (fixed gas skips estimation) to see the mined transaction revert as a whole.
      const hash = await uniA.wallet.writeContract({
        address: vault,
        abi,
        functionName: 'issueCredentials',
        args: [requests],
        gas: 2_000_000n,
      });
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).toBe('reverted');
      expect(receipt.logs).toHaveLength(0);
      expect(await count()).toBe(1n);
      expect(await idByFingerprint(fp('b-1'))).toBe(0n);
      expect(await idByFingerprint(fp('b-2'))).toBe(0n);
      expect((await status(2n)).exists).toBe(false);
      // Nothing was consumed: the same fingerprints issue fine afterwards.
      expect((await issueBatch(uniA, [req('b-1'), req('b-2')])).ids).toEqual([2n, 3n]);
    });

    it('rejects a batch containing an already-used fingerprint', async () => {
      const { id } = await issue(uniB, req('taken'));
      await expectRevert(simulateIssueBatch(uniA, [req('fresh'), req('taken')]), 'FingerprintAlreadyUsed', [
        fp('taken'),
        id,
      ]);
    });

    it('validates every item (invalid student / fingerprint / expiry in the middle)', async () => {
      await expectRevert(
        simulateIssueBatch(uniA, [req('a'), req('b', { student: zeroAddress }), req('c')]),
        'InvalidStudent',
        [],
      );
      await expectRevert(simulateIssueBatch(uniA, [req('a'), req('b', { fingerprint: zeroHash })]), 'InvalidFingerprint', []);
      await expectRevert(simulateIssueBatch(uniA, [req('a'), req('b', { expiresAt: 5n })]), 'InvalidExpiry', [5n]);
    });

    it('requires an active institution', async () => {
      const stranger = await newAccount();
      await expectRevert(simulateIssueBatch(stranger, [req('a')]), 'InstitutionNotActive', [stranger.address]);
      await expectRevert(simulateIssueBatch(admin, [req('a')]), 'InstitutionNotActive', [admin.address]);
      await upsert(admin, uniA.address, false);
      await expectRevert(simulateIssueBatch(uniA, [req('a')]), 'InstitutionNotActive', [uniA.address]);
    });
  });

  describe('revokeCredential', () => {
    it('emits CredentialRevoked with exact args and updates the status', async () => {
      const { id, receipt: issued } = await issue(uniA, req('to-revoke'));
      const issuedAt = await blockTimestamp(issued);
      const receipt = await revoke(uniA, id, REASON_FRAUD);
      const revokedAt = await blockTimestamp(receipt);
      const logs = parseEventLogs({ abi, logs: receipt.logs, eventName: 'CredentialRevoked' });
      expect(logs).toHaveLength(1);
      expect(logs[0]!.args).toEqual({ id, institution: uniA.address, reason: REASON_FRAUD, revokedAt });
      expect(await status(id)).toEqual({
        exists: true,
        valid: false,
        revoked: true,
        expired: false,
        institution: uniA.address,
        institutionActive: true,
        student,
        fingerprint: fp('to-revoke'),
        metadataURI: 'ipfs://credential/to-revoke',
        issuedAt,
        expiresAt: 0n,
        revokedAt,
        revocationReason: REASON_FRAUD,
      });
      expect(await verify(id, fp('to-revoke'))).toBe(false);
      expect(await idByFingerprint(fp('to-revoke'))).toBe(id);
      expect(await count()).toBe(1n);
    });

    it('accepts a zero reason', async () => {
      const { id } = await issue(uniA, req('r0'));
      await revoke(uniA, id, zeroHash);
      const s = await status(id);
      expect(s.revoked).toBe(true);
      expect(s.revocationReason).toBe(zeroHash);
    });

    it('rejects a second revocation with CredentialAlreadyRevoked(id)', async () => {
      const { id } = await issue(uniA, req('twice'));
      await revoke(uniA, id);
      await expectRevert(simulateRevoke(uniA, id), 'CredentialAlreadyRevoked', [id]);
    });

    it('rejects an unknown id with CredentialNotFound(id)', async () => {
      await expectRevert(simulateRevoke(uniA, 0n), 'CredentialNotFound', [0n]);
      await expectRevert(simulateRevoke(uniA, 99n), 'CredentialNotFound', [99n]);
    });

    it("institution B cannot revoke A's credential: NotCredentialIssuer(id, caller)", async () => {
      const { id } = await issue(uniA, req('a-owned'));
      await expectRevert(simulateRevoke(uniB, id), 'NotCredentialIssuer', [id, uniB.address]);
      expect((await status(id)).revoked).toBe(false);
    });

    it('a deactivated institution cannot revoke its own credential: InstitutionNotActive(caller)', async () => {
      const { id } = await issue(uniA, req('orphan'));
      await upsert(admin, uniA.address, false);
      await expectRevert(simulateRevoke(uniA, id), 'InstitutionNotActive', [uniA.address]);
    });

    it('an unregistered address or the admin cannot revoke: InstitutionNotActive(caller)', async () => {
      const { id } = await issue(uniA, req('x'));
      const stranger = await newAccount();
      await expectRevert(simulateRevoke(stranger, id), 'InstitutionNotActive', [stranger.address]);
      await expectRevert(simulateRevoke(admin, id), 'InstitutionNotActive', [admin.address]);
    });
  });

  describe('credentialStatus and verifyFingerprint', () => {
    it('unknown id: exists=false, all zero, no revert; verify is false', async () => {
      const empty = {
        exists: false,
        valid: false,
        revoked: false,
        expired: false,
        institution: zeroAddress,
        institutionActive: false,
        student: zeroAddress,
        fingerprint: zeroHash,
        metadataURI: '',
        issuedAt: 0n,
        expiresAt: 0n,
        revokedAt: 0n,
        revocationReason: zeroHash,
      };
      expect(await status(0n)).toEqual(empty);
      expect(await status(1n)).toEqual(empty);
      expect(await status(2n ** 256n - 1n)).toEqual(empty);
      expect(await verify(0n, zeroHash)).toBe(false);
      expect(await verify(1n, fp('anything'))).toBe(false);
      await issue(uniA, req('one'));
      expect(await status(2n)).toEqual(empty);
      expect(await verify(2n, fp('one'))).toBe(false);
    });

    it('valid: verify is true for the right fingerprint only', async () => {
      const { id } = await issue(uniA, req('good'));
      const { id: other } = await issue(uniA, req('other'));
      expect(await verify(id, fp('good'))).toBe(true);
      expect(await verify(id, fp('wrong'))).toBe(false);
      expect(await verify(id, zeroHash)).toBe(false);
      // right fingerprint, wrong id
      expect(await verify(other, fp('good'))).toBe(false);
      const s = await status(id);
      expect([s.exists, s.valid, s.revoked, s.expired]).toEqual([true, true, false, false]);
    });

    it('expired: valid=false, expired=true once block.timestamp >= expiresAt; verify is false', async () => {
      const expiresAt = (await latestTimestamp()) + 60n;
      const { id } = await issue(uniA, req('short-lived', { expiresAt }));
      const before = await status(id);
      expect([before.valid, before.expired]).toEqual([true, false]);
      expect(await verify(id, fp('short-lived'))).toBe(true);

      await testClient.increaseTime({ seconds: 120 });
      await testClient.mine({ blocks: 1 });
      expect(await latestTimestamp()).toBeGreaterThanOrEqual(expiresAt);

      const after = await status(id);
      expect(after).toMatchObject({ exists: true, valid: false, revoked: false, expired: true, expiresAt });
      expect(await verify(id, fp('short-lived'))).toBe(false);
      // a never-expiring credential is unaffected by time
      const { id: forever } = await issue(uniA, req('forever'));
      expect((await status(forever)).valid).toBe(true);
    });

    it('expired and revoked are reported independently', async () => {
      const expiresAt = (await latestTimestamp()) + 60n;
      const { id } = await issue(uniA, req('both', { expiresAt }));
      await testClient.increaseTime({ seconds: 120 });
      await testClient.mine({ blocks: 1 });
      await revoke(uniA, id);
      expect(await status(id)).toMatchObject({ exists: true, valid: false, revoked: true, expired: true });
    });

    it('a deactivated issuer does not invalidate its credentials; institutionActive reports it', async () => {
      const { id } = await issue(uniA, req('still-valid'));
      await upsert(admin, uniA.address, false);
      expect(await status(id)).toMatchObject({ exists: true, valid: true, institution: uniA.address, institutionActive: false });
      expect(await verify(id, fp('still-valid'))).toBe(true);
      await upsert(admin, uniA.address, true);
      expect((await status(id)).institutionActive).toBe(true);
    });
  });
});
