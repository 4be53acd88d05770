import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BaseError,
  ContractFunctionExecutionError,
  decodeErrorResult,
  encodeAbiParameters,
  encodeDeployData,
  getAddress,
  getContractAddress,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
  zeroHash,
  type Abi,
  type Address,
  type Hex,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { expectRevert as expectContractRevert, revertData } from '../harness/reverts.js';
import { opcodes, startContractChain, type ContractChain } from '../harness/contract-chain.js';
import { issuerRegistryAbi, issuerRegistryBytecode } from '../../contracts/artifacts/IssuerRegistry.js';
import { investorRegistryAbi, investorRegistryBytecode } from '../../contracts/artifacts/InvestorRegistry.js';
import { campaignFactoryAbi, campaignFactoryBytecode } from '../../contracts/artifacts/CampaignFactory.js';
import { campaignAbi, campaignBytecode } from '../../contracts/artifacts/Campaign.js';
import { shareCertificateAbi, shareCertificateBytecode } from '../../contracts/artifacts/ShareCertificate.js';

/*
 * The issuer platform's contracts (seed 003, issue 12): IssuerRegistry, InvestorRegistry,
 * CampaignFactory, Campaign and ShareCertificate.
 *
 * They run on a private anvil, not the run's shared one: deadlines are tested by moving the
 * chain's clock (evm_setNextBlockTimestamp), and a clock moved by a day would break other files'
 * expiry checks on the shared chain. The whole lifecycle also runs on a Polygon Edge-like anvil
 * (--hardfork berlin --chain-id 100) with legacy (type 0) transactions.
 */

const DEFAULT_ADMIN_ROLE = zeroHash;
const REGISTRAR_ROLE = keccak256(toHex('REGISTRAR_ROLE'));
const VERIFIER_ROLE = keccak256(toHex('VERIFIER_ROLE'));
const PLATFORM_ROLE = keccak256(toHex('PLATFORM_ROLE'));

const DAY = 24n * 3600n;
const Status = { Open: 0, Successful: 1, Failed: 2 } as const;

const VC_HASH = keccak256(toHex('vc:acme'));
const IPFS = 'ipfs://QmAcmeDocuments';
const REASON = keccak256(toHex('reason:fraud'));
const claim = (label: string): Hex => keccak256(toHex(`claim:${label}`));
const cref = (label: string): Hex => keccak256(toHex(`campaign:${label}`));
const iref = (label: string): Hex => keccak256(toHex(`investment:${label}`));
const randomAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address;
/** ShareCertificate's token id: uint256(keccak256(abi.encode(campaign, investmentReference))). */
const tokenIdOf = (campaign: Address, investmentReference: Hex): bigint =>
  BigInt(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [campaign, investmentReference])));

// -------------------------------------------------------------------------------------------------
// Reverts, decoded by name and arguments; which contract's errors were asserted (see the last test)
// -------------------------------------------------------------------------------------------------

const CONTRACTS = {
  IssuerRegistry: issuerRegistryAbi,
  InvestorRegistry: investorRegistryAbi,
  CampaignFactory: campaignFactoryAbi,
  Campaign: campaignAbi,
  ShareCertificate: shareCertificateAbi,
} as const;
type ContractName = keyof typeof CONTRACTS;

const asserted = new Set<string>();

function contractNamed(abi: unknown): ContractName {
  const found = (Object.keys(CONTRACTS) as ContractName[]).find((name) => CONTRACTS[name] === abi);
  expect(found, 'the reverted call used one of the five ABIs').toBeDefined();
  return found!;
}

/** expectRevert (test/harness/reverts.ts), also noting which contract's error was asserted. */
async function expectRevert(promise: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<void> {
  const caught = await expectContractRevert(promise, errorName, args);
  const execution = caught.walk((e) => e instanceof ContractFunctionExecutionError);
  asserted.add(`${contractNamed((execution as ContractFunctionExecutionError | null)?.abi)}.${errorName}`);
}

// -------------------------------------------------------------------------------------------------
// A private anvil and its clients
// -------------------------------------------------------------------------------------------------

type Env = ContractChain;
type Actor = Awaited<ReturnType<Env['newAccount']>>;

interface Terms {
  issuer: Address;
  target: bigint;
  minimum: bigint;
  deadline: bigint;
  campaignReference: Hex;
}

// -------------------------------------------------------------------------------------------------
// The platform: the four deployed contracts, their roles, one registered issuer and three verified
// investors; thin wrappers (sim* simulates, which also yields the return value and the decoded
// revert; the plain name sends and waits for success)
// -------------------------------------------------------------------------------------------------

async function deployPlatform(env: Env) {
  const { publicClient, fees, mined, minedReverted } = env;
  const fresh = env.newAccount;
  const [admin, registrar, verifier, platform, issuer, alice, bob, carol, stranger] = await Promise.all([
    fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh(), fresh(),
  ]);
  const deployed = async (hash: Hex) => getAddress((await mined(hash)).contractAddress!);
  const issuers = await deployed(
    await admin.wallet.deployContract({ abi: issuerRegistryAbi, bytecode: issuerRegistryBytecode, args: [admin.address, registrar.address], ...fees }),
  );
  const investors = await deployed(
    await admin.wallet.deployContract({ abi: investorRegistryAbi, bytecode: investorRegistryBytecode, args: [admin.address, verifier.address], ...fees }),
  );
  const factory = await deployed(
    await admin.wallet.deployContract({
      abi: campaignFactoryAbi,
      bytecode: campaignFactoryBytecode,
      args: [admin.address, platform.address, issuers, investors],
      ...fees,
    }),
  );
  const certificates = await deployed(
    await admin.wallet.deployContract({ abi: shareCertificateAbi, bytecode: shareCertificateBytecode, args: [factory], ...fees }),
  );

  const grant = {
    registrar: async (who: Address) =>
      mined(await admin.wallet.writeContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'grantRole', args: [REGISTRAR_ROLE, who], ...fees })),
    verifier: async (who: Address) =>
      mined(await admin.wallet.writeContract({ address: investors, abi: investorRegistryAbi, functionName: 'grantRole', args: [VERIFIER_ROLE, who], ...fees })),
    platform: async (who: Address) =>
      mined(await admin.wallet.writeContract({ address: factory, abi: campaignFactoryAbi, functionName: 'grantRole', args: [PLATFORM_ROLE, who], ...fees })),
  };
  const revokePlatform = async (who: Address) =>
    mined(await admin.wallet.writeContract({ address: factory, abi: campaignFactoryAbi, functionName: 'revokeRole', args: [PLATFORM_ROLE, who], ...fees }));

  // --- IssuerRegistry ---
  const simRegisterIssuer = (by: Actor, who: Address, vcHash: Hex = VC_HASH, ipfsHash = IPFS) =>
    publicClient.simulateContract({ account: by.account, address: issuers, abi: issuerRegistryAbi, functionName: 'registerIssuer', args: [who, vcHash, ipfsHash] });
  const registerIssuer = async (by: Actor, who: Address, vcHash: Hex = VC_HASH, ipfsHash = IPFS) =>
    mined(await by.wallet.writeContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'registerIssuer', args: [who, vcHash, ipfsHash], ...fees }));
  const simRevokeIssuer = (by: Actor, who: Address, reason: Hex = REASON) =>
    publicClient.simulateContract({ account: by.account, address: issuers, abi: issuerRegistryAbi, functionName: 'revokeIssuer', args: [who, reason] });
  const revokeIssuer = async (by: Actor, who: Address, reason: Hex = REASON) =>
    mined(await by.wallet.writeContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'revokeIssuer', args: [who, reason], ...fees }));
  const isRegisteredIssuer = (who: Address) =>
    publicClient.readContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'isRegisteredIssuer', args: [who] });
  const issuerRecord = (who: Address) =>
    publicClient.readContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'issuerRecord', args: [who] });

  // --- InvestorRegistry ---
  const simVerifyInvestor = (by: Actor, who: Address, claimHash: Hex) =>
    publicClient.simulateContract({ account: by.account, address: investors, abi: investorRegistryAbi, functionName: 'verifyInvestor', args: [who, claimHash] });
  const verifyInvestor = async (by: Actor, who: Address, claimHash: Hex) =>
    mined(await by.wallet.writeContract({ address: investors, abi: investorRegistryAbi, functionName: 'verifyInvestor', args: [who, claimHash], ...fees }));
  const simRevokeInvestor = (by: Actor, who: Address, reason: Hex = REASON) =>
    publicClient.simulateContract({ account: by.account, address: investors, abi: investorRegistryAbi, functionName: 'revokeInvestor', args: [who, reason] });
  const revokeInvestor = async (by: Actor, who: Address, reason: Hex = REASON) =>
    mined(await by.wallet.writeContract({ address: investors, abi: investorRegistryAbi, functionName: 'revokeInvestor', args: [who, reason], ...fees }));
  const isVerified = (who: Address) =>
    publicClient.readContract({ address: investors, abi: investorRegistryAbi, functionName: 'isVerified', args: [who] });
  const claimOf = (who: Address) => publicClient.readContract({ address: investors, abi: investorRegistryAbi, functionName: 'claimOf', args: [who] });

  // --- CampaignFactory ---
  const simCreateCampaign = (by: Actor, t: Terms) =>
    publicClient.simulateContract({
      account: by.account,
      address: factory,
      abi: campaignFactoryAbi,
      functionName: 'createCampaign',
      args: [t.issuer, t.target, t.minimum, t.deadline, t.campaignReference],
    });
  const createCampaign = async (by: Actor, t: Terms) => {
    const receipt = await mined(
      await by.wallet.writeContract({
        address: factory,
        abi: campaignFactoryAbi,
        functionName: 'createCampaign',
        args: [t.issuer, t.target, t.minimum, t.deadline, t.campaignReference],
        ...fees,
      }),
    );
    const [created] = parseEventLogs({ abi: campaignFactoryAbi, logs: receipt.logs, eventName: 'CampaignCreated' });
    return { campaign: created!.args.campaign, receipt };
  };
  const predictCampaign = (reference: Hex) =>
    publicClient.readContract({ address: factory, abi: campaignFactoryAbi, functionName: 'predictCampaign', args: [reference] });
  const campaignOf = (reference: Hex) =>
    publicClient.readContract({ address: factory, abi: campaignFactoryAbi, functionName: 'campaignOf', args: [reference] });
  const isCampaign = (address: Address) =>
    publicClient.readContract({ address: factory, abi: campaignFactoryAbi, functionName: 'isCampaign', args: [address] });
  const isPlatform = (address: Address) =>
    publicClient.readContract({ address: factory, abi: campaignFactoryAbi, functionName: 'isPlatform', args: [address] });

  /** Terms of a campaign of the registered issuer: target 1,000,000, minimum 400,000, a day to run. */
  const terms = async (label: string, overrides: Partial<Terms> = {}): Promise<Terms> => ({
    issuer: issuer.address,
    target: 1_000_000n,
    minimum: 400_000n,
    deadline: (await env.latestTimestamp()) + DAY,
    campaignReference: cref(label),
    ...overrides,
  });
  /** A new campaign (by the platform) on the default terms. */
  const openCampaign = async (label: string, overrides: Partial<Terms> = {}) => {
    const t = await terms(label, overrides);
    const { campaign, receipt } = await createCampaign(platform, t);
    return { ...t, campaign, receipt };
  };

  // --- Campaign ---
  const simRecord = (by: Actor, campaign: Address, investor: Address, amount: bigint, reference: Hex) =>
    publicClient.simulateContract({ account: by.account, address: campaign, abi: campaignAbi, functionName: 'recordInvestment', args: [investor, amount, reference] });
  const record = async (by: Actor, campaign: Address, investor: Address, amount: bigint, reference: Hex) =>
    mined(await by.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'recordInvestment', args: [investor, amount, reference], ...fees }));
  /** Sent with a fixed gas limit, so that it is mined even if it reverts. */
  const recordUnchecked = (by: Actor, campaign: Address, investor: Address, amount: bigint, reference: Hex) =>
    by.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'recordInvestment', args: [investor, amount, reference], gas: 300_000n, ...fees });
  const simFinalize = (by: Actor, campaign: Address) =>
    publicClient.simulateContract({ account: by.account, address: campaign, abi: campaignAbi, functionName: 'finalize' });
  const finalize = async (by: Actor, campaign: Address) =>
    mined(await by.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'finalize', ...fees }));
  const simRefund = (by: Actor, campaign: Address, reference: Hex) =>
    publicClient.simulateContract({ account: by.account, address: campaign, abi: campaignAbi, functionName: 'refund', args: [reference] });
  const refund = async (by: Actor, campaign: Address, reference: Hex) =>
    mined(await by.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'refund', args: [reference], ...fees }));
  const read = (campaign: Address) => ({
    status: () => publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'status' }),
    raised: () => publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'raised' }),
    isOpen: () => publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'isOpen' }),
    investmentCount: () => publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'investmentCount' }),
    refundedCount: () => publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'refundedCount' }),
    investment: (reference: Hex) =>
      publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'investment', args: [reference] }),
  });
  const state = async (campaign: Address) => {
    const r = read(campaign);
    const [status, raised, isOpen, investmentCount, refundedCount] = await Promise.all([
      r.status(),
      r.raised(),
      r.isOpen(),
      r.investmentCount(),
      r.refundedCount(),
    ]);
    return { status, raised, isOpen, investmentCount, refundedCount };
  };
  /** Moves the chain's clock to `deadline` (one block mined at exactly that time). */
  const passDeadline = (deadline: bigint) => env.mineAt(deadline);

  // --- ShareCertificate ---
  const simMint = (by: Actor, campaign: Address, investor: Address, reference: Hex) =>
    publicClient.simulateContract({ account: by.account, address: certificates, abi: shareCertificateAbi, functionName: 'mint', args: [campaign, investor, reference] });
  const mint = async (by: Actor, campaign: Address, investor: Address, reference: Hex) =>
    mined(await by.wallet.writeContract({ address: certificates, abi: shareCertificateAbi, functionName: 'mint', args: [campaign, investor, reference], ...fees }));
  const simTransfer = (by: Actor, to: Address, tokenId: bigint) =>
    publicClient.simulateContract({
      account: by.account,
      address: certificates,
      abi: shareCertificateAbi,
      functionName: 'transferFrom',
      args: [by.address, to, tokenId],
    });
  const transfer = async (by: Actor, to: Address, tokenId: bigint) =>
    mined(
      await by.wallet.writeContract({ address: certificates, abi: shareCertificateAbi, functionName: 'transferFrom', args: [by.address, to, tokenId], ...fees }),
    );
  const ownerOf = (tokenId: bigint) =>
    publicClient.readContract({ address: certificates, abi: shareCertificateAbi, functionName: 'ownerOf', args: [tokenId] });
  const certificate = (tokenId: bigint) =>
    publicClient.readContract({ address: certificates, abi: shareCertificateAbi, functionName: 'certificate', args: [tokenId] });
  const certificatesMinted = (campaign: Address) =>
    publicClient.readContract({ address: certificates, abi: shareCertificateAbi, functionName: 'certificatesMinted', args: [campaign] });
  const balanceOf = (who: Address) =>
    publicClient.readContract({ address: certificates, abi: shareCertificateAbi, functionName: 'balanceOf', args: [who] });

  // The starting cast (the constructors gave the registrar, verifier and platform their roles):
  // one registered issuer, three verified investors.
  await registerIssuer(registrar, issuer.address);
  for (const [who, label] of [
    [alice, 'alice'],
    [bob, 'bob'],
    [carol, 'carol'],
  ] as const) {
    await verifyInvestor(verifier, who.address, claim(label));
  }

  return {
    env,
    admin,
    registrar,
    verifier,
    platform,
    issuer,
    alice,
    bob,
    carol,
    stranger,
    issuers,
    investors,
    factory,
    certificates,
    mined,
    minedReverted,
    grant,
    revokePlatform,
    simRegisterIssuer,
    registerIssuer,
    simRevokeIssuer,
    revokeIssuer,
    isRegisteredIssuer,
    issuerRecord,
    simVerifyInvestor,
    verifyInvestor,
    simRevokeInvestor,
    revokeInvestor,
    isVerified,
    claimOf,
    simCreateCampaign,
    createCampaign,
    predictCampaign,
    campaignOf,
    isCampaign,
    isPlatform,
    terms,
    openCampaign,
    simRecord,
    record,
    recordUnchecked,
    simFinalize,
    finalize,
    simRefund,
    refund,
    read,
    state,
    passDeadline,
    simMint,
    mint,
    simTransfer,
    transfer,
    ownerOf,
    certificate,
    certificatesMinted,
    balanceOf,
  };
}

type Platform = Awaited<ReturnType<typeof deployPlatform>>;

/**
 * The whole life of two campaigns, as the app will drive it: one succeeds (two investments, two
 * certificates, one certificate changes hands), one fails (one investment, refunded). Asserts the
 * chain's answers as it goes; returns the platform for further checks.
 */
async function lifecycle(env: Env): Promise<Platform> {
  const p = await deployPlatform(env);
  const { platform, alice, bob, carol } = p;

  const good = await p.openCampaign('lifecycle-good', { target: 1_000n, minimum: 500n });
  const bad = await p.openCampaign('lifecycle-bad', { target: 1_000n, minimum: 500n });
  expect(good.campaign).toBe(await p.predictCampaign(cref('lifecycle-good')));
  expect(bad.campaign).toBe(await p.campaignOf(cref('lifecycle-bad')));

  await p.record(platform, good.campaign, alice.address, 300n, iref('good-alice'));
  await p.record(platform, good.campaign, bob.address, 400n, iref('good-bob'));
  await p.record(platform, bad.campaign, carol.address, 100n, iref('bad-carol'));
  await expectRevert(p.simRecord(platform, good.campaign, alice.address, 300n, iref('good-alice')), 'InvestmentAlreadyRecorded', [
    iref('good-alice'),
    alice.address,
    300n,
  ]);

  await p.passDeadline(good.deadline > bad.deadline ? good.deadline : bad.deadline);
  const finalGood = await p.finalize(alice, good.campaign);
  const finalBad = await p.finalize(carol, bad.campaign);
  expect(parseEventLogs({ abi: campaignAbi, logs: finalGood.logs, eventName: 'CampaignFinalized' }).map((l) => l.args)).toEqual([
    { successful: true, raised: 700n },
  ]);
  expect(parseEventLogs({ abi: campaignAbi, logs: finalBad.logs, eventName: 'CampaignFinalized' }).map((l) => l.args)).toEqual([
    { successful: false, raised: 100n },
  ]);

  for (const [who, label] of [
    [alice, 'good-alice'],
    [bob, 'good-bob'],
  ] as const) {
    const receipt = await p.mint(platform, good.campaign, who.address, iref(label));
    const [transferred] = parseEventLogs({ abi: shareCertificateAbi, logs: receipt.logs, eventName: 'Transfer' });
    expect(transferred!.args).toEqual({ from: zeroAddress, to: who.address, tokenId: tokenIdOf(good.campaign, iref(label)) });
  }
  await expectRevert(p.simMint(platform, bad.campaign, carol.address, iref('bad-carol')), 'CampaignNotSuccessful', [bad.campaign, Status.Failed]);
  await p.transfer(alice, carol.address, tokenIdOf(good.campaign, iref('good-alice')));

  const refunded = await p.refund(platform, bad.campaign, iref('bad-carol'));
  expect(parseEventLogs({ abi: campaignAbi, logs: refunded.logs, eventName: 'InvestmentRefunded' }).map((l) => l.args)).toEqual([
    { investor: carol.address, amount: 100n, investmentReference: iref('bad-carol') },
  ]);

  expect(await p.state(good.campaign)).toEqual({ status: Status.Successful, raised: 700n, isOpen: false, investmentCount: 2n, refundedCount: 0n });
  expect(await p.state(bad.campaign)).toEqual({ status: Status.Failed, raised: 100n, isOpen: false, investmentCount: 1n, refundedCount: 1n });
  expect(await p.certificatesMinted(good.campaign)).toBe(2n);
  expect(await p.ownerOf(tokenIdOf(good.campaign, iref('good-alice')))).toBe(carol.address);
  expect(await p.ownerOf(tokenIdOf(good.campaign, iref('good-bob')))).toBe(bob.address);
  expect([await p.balanceOf(alice.address), await p.balanceOf(bob.address), await p.balanceOf(carol.address)]).toEqual([0n, 1n, 1n]);
  return p;
}

// =================================================================================================

describe('issuer platform contracts', () => {
  let env: Env;
  let p: Platform;

  beforeAll(async () => {
    env = await startContractChain();
  });
  afterAll(async () => {
    await env?.anvil.stop();
  });
  beforeEach(async () => {
    p = await deployPlatform(env);
  });

  describe('deployment', () => {
    it('grants DEFAULT_ADMIN_ROLE to the constructor argument only; role ids are keccak256 of their names', async () => {
      const { publicClient } = env;
      const who = [p.admin.address, p.platform.address, p.stranger.address];
      const admins = await Promise.all([
        ...who.map((a) => publicClient.readContract({ address: p.issuers, abi: issuerRegistryAbi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, a] })),
        ...who.map((a) => publicClient.readContract({ address: p.investors, abi: investorRegistryAbi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, a] })),
        ...who.map((a) => publicClient.readContract({ address: p.factory, abi: campaignFactoryAbi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, a] })),
      ]);
      expect(admins).toEqual([true, false, false, true, false, false, true, false, false]);
      // Each operational role went to the account the constructor named, not to the admin.
      const roles = await Promise.all([
        ...[p.registrar.address, p.admin.address].map((a) => publicClient.readContract({ address: p.issuers, abi: issuerRegistryAbi, functionName: 'hasRole', args: [REGISTRAR_ROLE, a] })),
        ...[p.verifier.address, p.admin.address].map((a) => publicClient.readContract({ address: p.investors, abi: investorRegistryAbi, functionName: 'hasRole', args: [VERIFIER_ROLE, a] })),
        ...[p.platform.address, p.admin.address].map((a) => publicClient.readContract({ address: p.factory, abi: campaignFactoryAbi, functionName: 'hasRole', args: [PLATFORM_ROLE, a] })),
      ]);
      expect(roles).toEqual([true, false, true, false, true, false]);
      expect(await publicClient.readContract({ address: p.issuers, abi: issuerRegistryAbi, functionName: 'REGISTRAR_ROLE' })).toBe(REGISTRAR_ROLE);
      expect(await publicClient.readContract({ address: p.investors, abi: investorRegistryAbi, functionName: 'VERIFIER_ROLE' })).toBe(VERIFIER_ROLE);
      expect(await publicClient.readContract({ address: p.factory, abi: campaignFactoryAbi, functionName: 'PLATFORM_ROLE' })).toBe(PLATFORM_ROLE);
      expect(await publicClient.readContract({ address: p.factory, abi: campaignFactoryAbi, functionName: 'issuerRegistry' })).toBe(p.issuers);
      expect(await publicClient.readContract({ address: p.factory, abi: campaignFactoryAbi, functionName: 'investorRegistry' })).toBe(p.investors);
      expect(await publicClient.readContract({ address: p.certificates, abi: shareCertificateAbi, functionName: 'factory' })).toBe(p.factory);
      expect(await p.isPlatform(p.platform.address)).toBe(true);
      expect(await p.isPlatform(p.admin.address)).toBe(false);
    });

    it('constructors reject zero addresses: InvalidAdmin(), InvalidRegistrar(), InvalidVerifier(), InvalidPlatform(), InvalidRegistry(), InvalidFactory()', async () => {
      const someone = randomAddress();
      const issuerRegistry = (args: readonly [Address, Address]) => encodeDeployData({ abi: issuerRegistryAbi, bytecode: issuerRegistryBytecode, args });
      const investorRegistry = (args: readonly [Address, Address]) => encodeDeployData({ abi: investorRegistryAbi, bytecode: investorRegistryBytecode, args });
      const factory = (args: readonly [Address, Address, Address, Address]) => encodeDeployData({ abi: campaignFactoryAbi, bytecode: campaignFactoryBytecode, args });
      const cases: Array<[ContractName, Abi, Hex, string]> = [
        ['IssuerRegistry', issuerRegistryAbi, issuerRegistry([zeroAddress, someone]), 'InvalidAdmin'],
        ['IssuerRegistry', issuerRegistryAbi, issuerRegistry([someone, zeroAddress]), 'InvalidRegistrar'],
        ['InvestorRegistry', investorRegistryAbi, investorRegistry([zeroAddress, someone]), 'InvalidAdmin'],
        ['InvestorRegistry', investorRegistryAbi, investorRegistry([someone, zeroAddress]), 'InvalidVerifier'],
        ['CampaignFactory', campaignFactoryAbi, factory([zeroAddress, someone, p.issuers, p.investors]), 'InvalidAdmin'],
        ['CampaignFactory', campaignFactoryAbi, factory([someone, zeroAddress, p.issuers, p.investors]), 'InvalidPlatform'],
        ['CampaignFactory', campaignFactoryAbi, factory([someone, someone, zeroAddress, p.investors]), 'InvalidRegistry'],
        ['CampaignFactory', campaignFactoryAbi, factory([someone, someone, p.issuers, zeroAddress]), 'InvalidRegistry'],
        ['ShareCertificate', shareCertificateAbi, encodeDeployData({ abi: shareCertificateAbi, bytecode: shareCertificateBytecode, args: [zeroAddress] }), 'InvalidFactory'],
      ];
      for (const [name, abi, data, errorName] of cases) {
        let caught: unknown;
        try {
          await env.publicClient.call({ account: p.admin.account, data });
        } catch (err) {
          caught = err;
        }
        const decoded = decodeErrorResult({ abi, data: revertData(caught) });
        expect([name, decoded.errorName, decoded.args ?? []]).toEqual([name, errorName, []]);
        asserted.add(`${name}.${errorName}`);
      }
    });

    it('a Campaign cannot be deployed from an account (its constructor asks the deployer, a factory, for its terms)', async () => {
      let caught: unknown;
      try {
        await env.publicClient.call({ account: p.admin.account, data: campaignBytecode });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BaseError);
    });

    it('runs on a pre-Shanghai EVM: no PUSH0, MCOPY, TLOAD or TSTORE in any runtime code or in the Campaign creation code', async () => {
      const { campaign } = await p.openCampaign('opcodes');
      const codes = await Promise.all([p.issuers, p.investors, p.factory, p.certificates, campaign].map((address) => env.publicClient.getCode({ address })));
      for (const code of [...codes, campaignBytecode]) {
        expect(code).toMatch(/^0x[0-9a-f]+$/);
        const ops = opcodes(code!);
        expect([ops.has(0x5f), ops.has(0x5e), ops.has(0x5c), ops.has(0x5d)]).toEqual([false, false, false, false]);
      }
    });
  });

  describe('IssuerRegistry', () => {
    it('registerIssuer by the registrar emits IssuerRegistered(issuer, vcHash, ipfsHash, registeredAt) and registers', async () => {
      const company = randomAddress();
      expect(await p.isRegisteredIssuer(company)).toBe(false);
      const receipt = await p.registerIssuer(p.registrar, company, keccak256(toHex('vc:beta')), 'ipfs://QmBeta');
      const registeredAt = (await env.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
      const logs = parseEventLogs({ abi: issuerRegistryAbi, logs: receipt.logs, eventName: 'IssuerRegistered' });
      expect(logs).toHaveLength(1);
      expect(getAddress(logs[0]!.address)).toBe(p.issuers);
      expect(logs[0]!.args).toEqual({ issuer: company, vcHash: keccak256(toHex('vc:beta')), ipfsHash: 'ipfs://QmBeta', registeredAt });
      expect(await p.isRegisteredIssuer(company)).toBe(true);
      expect(await p.issuerRecord(company)).toEqual({
        registered: true,
        registeredAt,
        revokedAt: 0n,
        vcHash: keccak256(toHex('vc:beta')),
        revocationReason: zeroHash,
        ipfsHash: 'ipfs://QmBeta',
      });
      // an empty IPFS location is accepted
      await p.registerIssuer(p.registrar, randomAddress(), VC_HASH, '');
    });

    it('revokeIssuer emits IssuerRevoked(issuer, reason, revokedAt); a revoked issuer may be registered again, which clears the revocation', async () => {
      const receipt = await p.revokeIssuer(p.registrar, p.issuer.address, REASON);
      const revokedAt = (await env.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
      expect(parseEventLogs({ abi: issuerRegistryAbi, logs: receipt.logs, eventName: 'IssuerRevoked' }).map((l) => l.args)).toEqual([
        { issuer: p.issuer.address, reason: REASON, revokedAt },
      ]);
      expect(await p.isRegisteredIssuer(p.issuer.address)).toBe(false);
      expect(await p.issuerRecord(p.issuer.address)).toMatchObject({ registered: false, revokedAt, revocationReason: REASON, vcHash: VC_HASH, ipfsHash: IPFS });

      const again = await p.registerIssuer(p.registrar, p.issuer.address, keccak256(toHex('vc:acme-2')), 'ipfs://QmAcme2');
      const registeredAt = (await env.publicClient.getBlock({ blockNumber: again.blockNumber })).timestamp;
      expect(await p.issuerRecord(p.issuer.address)).toEqual({
        registered: true,
        registeredAt,
        revokedAt: 0n,
        vcHash: keccak256(toHex('vc:acme-2')),
        revocationReason: zeroHash,
        ipfsHash: 'ipfs://QmAcme2',
      });
    });

    it('only REGISTRAR_ROLE registers and revokes: AccessControlUnauthorizedAccount(caller, REGISTRAR_ROLE), the admin included', async () => {
      for (const caller of [p.admin, p.stranger, p.platform, p.verifier, p.issuer]) {
        await expectRevert(p.simRegisterIssuer(caller, randomAddress()), 'AccessControlUnauthorizedAccount', [caller.address, REGISTRAR_ROLE]);
        await expectRevert(p.simRevokeIssuer(caller, p.issuer.address), 'AccessControlUnauthorizedAccount', [caller.address, REGISTRAR_ROLE]);
      }
      expect(await p.isRegisteredIssuer(p.issuer.address)).toBe(true);
      // The admin grants the role: a second registrar may register.
      await p.grant.registrar(p.stranger.address);
      await p.registerIssuer(p.stranger, randomAddress());
    });

    it('rejects InvalidIssuer() and InvalidVcHash(); a retried registration reverts with IssuerAlreadyRegistered(issuer)', async () => {
      await expectRevert(p.simRegisterIssuer(p.registrar, zeroAddress), 'InvalidIssuer', []);
      await expectRevert(p.simRegisterIssuer(p.registrar, randomAddress(), zeroHash), 'InvalidVcHash', []);
      await expectRevert(p.simRegisterIssuer(p.registrar, p.issuer.address), 'IssuerAlreadyRegistered', [p.issuer.address]);
      await expectRevert(p.simRegisterIssuer(p.registrar, p.issuer.address, keccak256(toHex('vc:other'))), 'IssuerAlreadyRegistered', [p.issuer.address]);
      expect((await p.issuerRecord(p.issuer.address)).vcHash).toBe(VC_HASH);
    });

    it('revoking an issuer that is not registered (never, or revoked already) reverts with IssuerNotRegistered(issuer)', async () => {
      const never = randomAddress();
      await expectRevert(p.simRevokeIssuer(p.registrar, never), 'IssuerNotRegistered', [never]);
      await p.revokeIssuer(p.registrar, p.issuer.address);
      await expectRevert(p.simRevokeIssuer(p.registrar, p.issuer.address), 'IssuerNotRegistered', [p.issuer.address]);
    });
  });

  describe('InvestorRegistry', () => {
    it('verifyInvestor emits InvestorVerified(investor, claimHash, verifiedAt); isVerified and claimOf follow; a new claim replaces the old', async () => {
      const dave = randomAddress();
      expect([await p.isVerified(dave), await p.claimOf(dave)]).toEqual([false, zeroHash]);
      const receipt = await p.verifyInvestor(p.verifier, dave, claim('dave'));
      const verifiedAt = (await env.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
      expect(parseEventLogs({ abi: investorRegistryAbi, logs: receipt.logs, eventName: 'InvestorVerified' }).map((l) => l.args)).toEqual([
        { investor: dave, claimHash: claim('dave'), verifiedAt },
      ]);
      expect([await p.isVerified(dave), await p.claimOf(dave)]).toEqual([true, claim('dave')]);

      await p.verifyInvestor(p.verifier, dave, claim('dave-renewed'));
      expect(await p.claimOf(dave)).toBe(claim('dave-renewed'));
      // the same claim again: harmless (a retried verification)
      await p.verifyInvestor(p.verifier, dave, claim('dave-renewed'));
      expect([await p.isVerified(dave), await p.claimOf(dave)]).toEqual([true, claim('dave-renewed')]);
    });

    it('revokeInvestor emits InvestorRevoked(investor, reason, revokedAt) and unverifies; again, InvestorNotVerified(investor)', async () => {
      const receipt = await p.revokeInvestor(p.verifier, p.alice.address, REASON);
      const revokedAt = (await env.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
      expect(parseEventLogs({ abi: investorRegistryAbi, logs: receipt.logs, eventName: 'InvestorRevoked' }).map((l) => l.args)).toEqual([
        { investor: p.alice.address, reason: REASON, revokedAt },
      ]);
      expect([await p.isVerified(p.alice.address), await p.claimOf(p.alice.address)]).toEqual([false, zeroHash]);
      await expectRevert(p.simRevokeInvestor(p.verifier, p.alice.address), 'InvestorNotVerified', [p.alice.address]);
      const never = randomAddress();
      await expectRevert(p.simRevokeInvestor(p.verifier, never), 'InvestorNotVerified', [never]);
    });

    it('only VERIFIER_ROLE verifies and revokes: AccessControlUnauthorizedAccount(caller, VERIFIER_ROLE), the admin included', async () => {
      for (const caller of [p.admin, p.stranger, p.platform, p.registrar, p.alice]) {
        await expectRevert(p.simVerifyInvestor(caller, caller.address, claim('self')), 'AccessControlUnauthorizedAccount', [caller.address, VERIFIER_ROLE]);
        await expectRevert(p.simRevokeInvestor(caller, p.bob.address), 'AccessControlUnauthorizedAccount', [caller.address, VERIFIER_ROLE]);
      }
      expect(await p.isVerified(p.bob.address)).toBe(true);
      // The admin grants the role: a second verifier may verify.
      await p.grant.verifier(p.stranger.address);
      await p.verifyInvestor(p.stranger, p.stranger.address, claim('stranger'));
    });

    it('rejects InvalidInvestor() and InvalidClaimHash()', async () => {
      await expectRevert(p.simVerifyInvestor(p.verifier, zeroAddress, claim('x')), 'InvalidInvestor', []);
      await expectRevert(p.simVerifyInvestor(p.verifier, randomAddress(), zeroHash), 'InvalidClaimHash', []);
    });
  });

  describe('CampaignFactory', () => {
    it('createCampaign deploys the campaign at predictCampaign(reference) (CREATE2) and emits CampaignCreated with exact args; the campaign holds its terms', async () => {
      const t = await p.terms('first', { target: 5_000_000n, minimum: 1_000_000n });
      const predicted = await p.predictCampaign(t.campaignReference);
      // The usual CREATE2 formula over the Campaign artifact (constructor without arguments) agrees.
      expect(predicted).toBe(getContractAddress({ opcode: 'CREATE2', from: p.factory, salt: t.campaignReference, bytecode: campaignBytecode }));
      expect(await env.publicClient.getCode({ address: predicted })).toBeUndefined();
      expect([await p.campaignOf(t.campaignReference), await p.isCampaign(predicted)]).toEqual([zeroAddress, false]);
      expect((await p.simCreateCampaign(p.platform, t)).result).toBe(predicted);

      const { campaign, receipt } = await p.createCampaign(p.platform, t);
      expect(campaign).toBe(predicted);
      expect(receipt.logs).toHaveLength(1);
      const [created] = parseEventLogs({ abi: campaignFactoryAbi, logs: receipt.logs, eventName: 'CampaignCreated' });
      expect(getAddress(created!.address)).toBe(p.factory);
      expect(created!.args).toEqual({
        campaign: predicted,
        issuer: p.issuer.address,
        campaignReference: t.campaignReference,
        target: 5_000_000n,
        minimum: 1_000_000n,
        deadline: t.deadline,
      });
      // campaign, issuer and reference are indexed: topics [topic0, campaign, issuer, reference]
      expect(receipt.logs[0]!.topics).toHaveLength(4);
      expect(receipt.logs[0]!.topics[3]).toBe(t.campaignReference);

      expect([await p.campaignOf(t.campaignReference), await p.isCampaign(campaign)]).toEqual([campaign, true]);
      const at = { address: campaign, abi: campaignAbi } as const;
      const { readContract } = env.publicClient;
      expect({
        factory: await readContract({ ...at, functionName: 'factory' }),
        investorRegistry: await readContract({ ...at, functionName: 'investorRegistry' }),
        issuer: await readContract({ ...at, functionName: 'issuer' }),
        deadline: await readContract({ ...at, functionName: 'deadline' }),
        target: await readContract({ ...at, functionName: 'target' }),
        minimum: await readContract({ ...at, functionName: 'minimum' }),
        campaignReference: await readContract({ ...at, functionName: 'campaignReference' }),
        platform: await readContract({ ...at, functionName: 'isPlatform', args: [p.platform.address] }),
        admin: await readContract({ ...at, functionName: 'isPlatform', args: [p.admin.address] }),
      }).toEqual({
        factory: p.factory,
        investorRegistry: p.investors,
        issuer: p.issuer.address,
        deadline: t.deadline,
        target: 5_000_000n,
        minimum: 1_000_000n,
        campaignReference: t.campaignReference,
        platform: true,
        admin: false,
      });
      expect(await p.state(campaign)).toEqual({ status: Status.Open, raised: 0n, isOpen: true, investmentCount: 0n, refundedCount: 0n });
      // The terms are handed over only during createCampaign.
      expect(await env.publicClient.readContract({ address: p.factory, abi: campaignFactoryAbi, functionName: 'pendingCampaign' })).toEqual({
        issuer: zeroAddress,
        deadline: 0n,
        target: 0n,
        minimum: 0n,
        campaignReference: zeroHash,
      });
    });

    it('a retried createCampaign with the same reference reverts with CampaignExists(reference, campaign), whatever the terms, and even once the issuer is revoked; sent anyway it is mined reverted', async () => {
      const { campaign, campaignReference } = await p.openCampaign('once');
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('once')), 'CampaignExists', [campaignReference, campaign]);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('once', { target: 9n, minimum: 9n })), 'CampaignExists', [campaignReference, campaign]);
      await p.revokeIssuer(p.registrar, p.issuer.address);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('once')), 'CampaignExists', [campaignReference, campaign]);

      const t = await p.terms('once', { target: 7n, minimum: 7n });
      await p.minedReverted(
        await p.platform.wallet.writeContract({
          address: p.factory,
          abi: campaignFactoryAbi,
          functionName: 'createCampaign',
          args: [t.issuer, t.target, t.minimum, t.deadline, t.campaignReference],
          gas: 2_000_000n,
          ...env.fees,
        }),
      );
      expect(await env.publicClient.readContract({ address: campaign, abi: campaignAbi, functionName: 'target' })).toBe(1_000_000n);
      // A different reference is a different campaign, for the same issuer (the one-campaign rules live in the app).
      await p.registerIssuer(p.registrar, p.issuer.address);
      const other = await p.openCampaign('once-more');
      expect(other.campaign).not.toBe(campaign);
    });

    it('the address depends on the factory and the reference only: not on the terms, nor on who creates', async () => {
      const a = await p.predictCampaign(cref('a'));
      expect(a).not.toBe(await p.predictCampaign(cref('b')));
      await p.grant.platform(p.stranger.address);
      expect((await p.simCreateCampaign(p.platform, await p.terms('a'))).result).toBe(a);
      expect((await p.simCreateCampaign(p.stranger, await p.terms('a', { target: 3n, minimum: 1n }))).result).toBe(a);
      const other = await deployPlatform(env);
      expect(await other.predictCampaign(cref('a'))).not.toBe(a);
    });

    it('only PLATFORM_ROLE creates campaigns: AccessControlUnauthorizedAccount(caller, PLATFORM_ROLE), the admin and the issuer included', async () => {
      const t = await p.terms('unauthorized');
      for (const caller of [p.admin, p.stranger, p.registrar, p.verifier, p.issuer]) {
        await expectRevert(p.simCreateCampaign(caller, t), 'AccessControlUnauthorizedAccount', [caller.address, PLATFORM_ROLE]);
      }
      await p.revokePlatform(p.platform.address);
      await expectRevert(p.simCreateCampaign(p.platform, t), 'AccessControlUnauthorizedAccount', [p.platform.address, PLATFORM_ROLE]);
    });

    it('only registered issuers: IssuerNotRegistered(issuer) for one never registered, one revoked, and the zero address', async () => {
      const never = randomAddress();
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { issuer: never })), 'IssuerNotRegistered', [never]);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { issuer: zeroAddress })), 'IssuerNotRegistered', [zeroAddress]);
      await p.revokeIssuer(p.registrar, p.issuer.address);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x')), 'IssuerNotRegistered', [p.issuer.address]);
      await p.registerIssuer(p.registrar, p.issuer.address);
      expect((await p.simCreateCampaign(p.platform, await p.terms('x'))).result).toBe(await p.predictCampaign(cref('x')));
    });

    it('rejects InvalidReference(), InvalidAmounts(target, minimum) unless 0 < minimum <= target, and InvalidDeadline(deadline) unless in the future', async () => {
      const now = await env.latestTimestamp();
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { campaignReference: zeroHash })), 'InvalidReference', []);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { minimum: 0n })), 'InvalidAmounts', [1_000_000n, 0n]);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { target: 0n, minimum: 0n })), 'InvalidAmounts', [0n, 0n]);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { target: 99n, minimum: 100n })), 'InvalidAmounts', [99n, 100n]);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { deadline: now })), 'InvalidDeadline', [now]);
      await expectRevert(p.simCreateCampaign(p.platform, await p.terms('x', { deadline: 1n })), 'InvalidDeadline', [1n]);
      // minimum == target is fine
      expect((await p.simCreateCampaign(p.platform, await p.terms('x', { target: 100n, minimum: 100n }))).result).toBe(await p.predictCampaign(cref('x')));
    });

    it('isCampaign is true only for campaigns this factory created', async () => {
      const { campaign } = await p.openCampaign('mine');
      const other = await deployPlatform(env);
      const theirs = await other.openCampaign('mine');
      expect([await p.isCampaign(campaign), await p.isCampaign(theirs.campaign), await p.isCampaign(p.factory), await p.isCampaign(randomAddress())]).toEqual([
        true,
        false,
        false,
        false,
      ]);
      expect(await p.campaignOf(cref('not-created'))).toBe(zeroAddress);
    });
  });

  describe('Campaign: investments', () => {
    it('recordInvestment by the platform emits InvestmentRecorded(investor, amount, reference) and records it; raised adds up to the target exactly', async () => {
      const { campaign } = await p.openCampaign('invest');
      const receipt = await p.record(p.platform, campaign, p.alice.address, 250_000n, iref('alice-1'));
      const recordedAt = (await env.publicClient.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
      const logs = parseEventLogs({ abi: campaignAbi, logs: receipt.logs, eventName: 'InvestmentRecorded' });
      expect(logs).toHaveLength(1);
      expect(getAddress(logs[0]!.address)).toBe(campaign);
      expect(logs[0]!.args).toEqual({ investor: p.alice.address, amount: 250_000n, investmentReference: iref('alice-1') });
      expect(await p.read(campaign).investment(iref('alice-1'))).toEqual({ investor: p.alice.address, recordedAt, refunded: false, amount: 250_000n });
      expect(await p.read(campaign).investment(iref('unknown'))).toEqual({ investor: zeroAddress, recordedAt: 0n, refunded: false, amount: 0n });

      await p.record(p.platform, campaign, p.bob.address, 700_000n, iref('bob-1'));
      await p.record(p.platform, campaign, p.alice.address, 50_000n, iref('alice-2'));
      expect(await p.state(campaign)).toEqual({ status: Status.Open, raised: 1_000_000n, isOpen: true, investmentCount: 3n, refundedCount: 0n });
    });

    it('a repeated investment reference reverts with InvestmentAlreadyRecorded(reference, investor, amount), even after the deadline or with the investor revoked; sent anyway it records nothing', async () => {
      const { campaign, deadline } = await p.openCampaign('dup');
      await p.record(p.platform, campaign, p.alice.address, 100n, iref('once'));
      const expected = [iref('once'), p.alice.address, 100n];
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 100n, iref('once')), 'InvestmentAlreadyRecorded', expected);
      await expectRevert(p.simRecord(p.platform, campaign, p.bob.address, 5n, iref('once')), 'InvestmentAlreadyRecorded', expected);
      await p.minedReverted(await p.recordUnchecked(p.platform, campaign, p.alice.address, 100n, iref('once')));
      expect(await p.state(campaign)).toMatchObject({ raised: 100n, investmentCount: 1n });

      await p.revokeInvestor(p.verifier, p.alice.address);
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 100n, iref('once')), 'InvestmentAlreadyRecorded', expected);
      await p.passDeadline(deadline);
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 100n, iref('once')), 'InvestmentAlreadyRecorded', expected);
      // the same reference in another campaign is another investment
      const other = await p.openCampaign('dup-other');
      await p.record(p.platform, other.campaign, p.bob.address, 100n, iref('once'));
    });

    it('only the platform records: NotPlatform(caller); a platform key revoked in the factory loses every campaign, a new one gains those created before it', async () => {
      const { campaign } = await p.openCampaign('roles');
      for (const caller of [p.admin, p.stranger, p.issuer, p.alice, p.registrar, p.verifier]) {
        await expectRevert(p.simRecord(caller, campaign, p.alice.address, 1n, iref('r')), 'NotPlatform', [caller.address]);
      }
      await p.revokePlatform(p.platform.address);
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 1n, iref('r')), 'NotPlatform', [p.platform.address]);
      await p.grant.platform(p.stranger.address);
      await p.record(p.stranger, campaign, p.alice.address, 1n, iref('r'));
      expect(await p.read(campaign).investmentCount()).toBe(1n);
    });

    it('only verified investors: InvestorNotVerified(investor) for one never verified, one revoked, and the zero address', async () => {
      const { campaign } = await p.openCampaign('kyc');
      const never = randomAddress();
      await expectRevert(p.simRecord(p.platform, campaign, never, 1n, iref('n')), 'InvestorNotVerified', [never]);
      await expectRevert(p.simRecord(p.platform, campaign, zeroAddress, 1n, iref('n')), 'InvestorNotVerified', [zeroAddress]);
      await p.revokeInvestor(p.verifier, p.carol.address);
      await expectRevert(p.simRecord(p.platform, campaign, p.carol.address, 1n, iref('n')), 'InvestorNotVerified', [p.carol.address]);
      await p.verifyInvestor(p.verifier, p.carol.address, claim('carol-again'));
      await p.record(p.platform, campaign, p.carol.address, 1n, iref('n'));
    });

    it('rejects InvalidReference(), InvalidAmount() and TargetExceeded(raised, amount, target)', async () => {
      const { campaign } = await p.openCampaign('checks', { target: 1_000n, minimum: 10n });
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 1n, zeroHash), 'InvalidReference', []);
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 0n, iref('zero')), 'InvalidAmount', []);
      await expectRevert(p.simRecord(p.platform, campaign, p.alice.address, 1_001n, iref('big')), 'TargetExceeded', [0n, 1_001n, 1_000n]);
      await p.record(p.platform, campaign, p.alice.address, 600n, iref('a'));
      await expectRevert(p.simRecord(p.platform, campaign, p.bob.address, 401n, iref('b')), 'TargetExceeded', [600n, 401n, 1_000n]);
      await expectRevert(p.simRecord(p.platform, campaign, p.bob.address, 2n ** 256n - 1n, iref('b')), 'TargetExceeded', [600n, 2n ** 256n - 1n, 1_000n]);
      await p.record(p.platform, campaign, p.bob.address, 400n, iref('b'));
      await expectRevert(p.simRecord(p.platform, campaign, p.carol.address, 1n, iref('c')), 'TargetExceeded', [1_000n, 1n, 1_000n]);
    });

    it('takes investments until the second before the deadline; from the deadline on, CampaignClosed(deadline) and isOpen is false', async () => {
      const { campaign, deadline } = await p.openCampaign('deadline');
      // Sent with fixed gas, so that nothing is estimated at another time than the block's.
      await env.testClient.setNextBlockTimestamp({ timestamp: deadline - 1n });
      const last = await p.mined(await p.recordUnchecked(p.platform, campaign, p.alice.address, 10n, iref('last')));
      expect((await env.publicClient.getBlock({ blockNumber: last.blockNumber })).timestamp).toBe(deadline - 1n);
      expect(parseEventLogs({ abi: campaignAbi, logs: last.logs, eventName: 'InvestmentRecorded' })).toHaveLength(1);

      await env.testClient.setNextBlockTimestamp({ timestamp: deadline });
      const late = await p.minedReverted(await p.recordUnchecked(p.platform, campaign, p.bob.address, 10n, iref('late')));
      expect((await env.publicClient.getBlock({ blockNumber: late.blockNumber })).timestamp).toBe(deadline);
      await expectRevert(p.simRecord(p.platform, campaign, p.bob.address, 10n, iref('late')), 'CampaignClosed', [deadline]);
      expect(await p.state(campaign)).toEqual({ status: Status.Open, raised: 10n, isOpen: false, investmentCount: 1n, refundedCount: 0n });
    });

    it('holds no money: sending ether to a campaign reverts', async () => {
      const { campaign } = await p.openCampaign('no-ether');
      await expect(env.publicClient.call({ account: p.alice.account, to: campaign, value: 1n })).rejects.toBeInstanceOf(BaseError);
      expect(await env.publicClient.getBalance({ address: campaign })).toBe(0n);
    });
  });

  describe('Campaign: finalize', () => {
    it('before the deadline reverts with DeadlineNotReached(deadline), up to its last second', async () => {
      const { campaign, deadline } = await p.openCampaign('early');
      await expectRevert(p.simFinalize(p.alice, campaign), 'DeadlineNotReached', [deadline]);
      await env.testClient.setNextBlockTimestamp({ timestamp: deadline - 1n });
      await p.minedReverted(await p.alice.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'finalize', gas: 200_000n, ...env.fees }));
      expect(await p.read(campaign).status()).toBe(Status.Open);
      // At the deadline itself it may be finalised (sent with fixed gas: no estimate at another time).
      await env.testClient.setNextBlockTimestamp({ timestamp: deadline });
      await p.mined(await p.alice.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'finalize', gas: 200_000n, ...env.fees }));
      expect(await p.read(campaign).status()).toBe(Status.Failed);
    });

    it('succeeds when raised >= minimum (exactly the minimum here): CampaignFinalized(true, raised), status Successful; anyone may call it', async () => {
      const { campaign, deadline } = await p.openCampaign('success', { target: 1_000n, minimum: 500n });
      await p.record(p.platform, campaign, p.alice.address, 200n, iref('a'));
      await p.record(p.platform, campaign, p.bob.address, 300n, iref('b'));
      await p.passDeadline(deadline);
      expect((await p.simFinalize(p.stranger, campaign)).result).toBe(true);
      const receipt = await p.finalize(p.stranger, campaign);
      expect(receipt.logs).toHaveLength(1);
      expect(parseEventLogs({ abi: campaignAbi, logs: receipt.logs, eventName: 'CampaignFinalized' }).map((l) => l.args)).toEqual([{ successful: true, raised: 500n }]);
      expect(await p.state(campaign)).toEqual({ status: Status.Successful, raised: 500n, isOpen: false, investmentCount: 2n, refundedCount: 0n });
    });

    it('fails when raised < minimum: CampaignFinalized(false, raised), status Failed; with no investment at all too', async () => {
      const { campaign, deadline } = await p.openCampaign('failure', { target: 1_000n, minimum: 500n });
      const empty = await p.openCampaign('empty', { target: 1_000n, minimum: 1n });
      await p.record(p.platform, campaign, p.alice.address, 499n, iref('a'));
      await p.passDeadline(deadline > empty.deadline ? deadline : empty.deadline);
      expect((await p.simFinalize(p.platform, campaign)).result).toBe(false);
      const receipt = await p.finalize(p.platform, campaign);
      expect(parseEventLogs({ abi: campaignAbi, logs: receipt.logs, eventName: 'CampaignFinalized' }).map((l) => l.args)).toEqual([{ successful: false, raised: 499n }]);
      expect(await p.state(campaign)).toEqual({ status: Status.Failed, raised: 499n, isOpen: false, investmentCount: 1n, refundedCount: 0n });

      const none = await p.finalize(p.issuer, empty.campaign);
      expect(parseEventLogs({ abi: campaignAbi, logs: none.logs, eventName: 'CampaignFinalized' }).map((l) => l.args)).toEqual([{ successful: false, raised: 0n }]);
    });

    it('a second finalize reverts with AlreadyFinalized(status), whichever way it went', async () => {
      const good = await p.openCampaign('twice-good', { target: 10n, minimum: 5n });
      const bad = await p.openCampaign('twice-bad', { target: 10n, minimum: 5n });
      await p.record(p.platform, good.campaign, p.alice.address, 5n, iref('a'));
      await p.passDeadline(good.deadline > bad.deadline ? good.deadline : bad.deadline);
      await p.finalize(p.alice, good.campaign);
      await p.finalize(p.alice, bad.campaign);
      await expectRevert(p.simFinalize(p.alice, good.campaign), 'AlreadyFinalized', [Status.Successful]);
      await expectRevert(p.simFinalize(p.platform, bad.campaign), 'AlreadyFinalized', [Status.Failed]);
      await p.minedReverted(await p.alice.wallet.writeContract({ address: good.campaign, abi: campaignAbi, functionName: 'finalize', gas: 200_000n, ...env.fees }));
      expect(await p.read(good.campaign).status()).toBe(Status.Successful);
    });
  });

  describe('Campaign: refunds', () => {
    /** A failed campaign with two investments (alice 100, bob 200; minimum 1,000). */
    const failed = async (label: string) => {
      const c = await p.openCampaign(label, { target: 2_000n, minimum: 1_000n });
      await p.record(p.platform, c.campaign, p.alice.address, 100n, iref(`${label}-alice`));
      await p.record(p.platform, c.campaign, p.bob.address, 200n, iref(`${label}-bob`));
      await p.passDeadline(c.deadline);
      await p.finalize(p.platform, c.campaign);
      return c.campaign;
    };

    it('the platform marks each investment of a failed campaign refunded once: InvestmentRefunded(investor, amount, reference); again, AlreadyRefunded(reference)', async () => {
      const campaign = await failed('refund');
      const receipt = await p.refund(p.platform, campaign, iref('refund-alice'));
      expect(receipt.logs).toHaveLength(1);
      expect(parseEventLogs({ abi: campaignAbi, logs: receipt.logs, eventName: 'InvestmentRefunded' }).map((l) => l.args)).toEqual([
        { investor: p.alice.address, amount: 100n, investmentReference: iref('refund-alice') },
      ]);
      expect(await p.read(campaign).investment(iref('refund-alice'))).toMatchObject({ investor: p.alice.address, refunded: true, amount: 100n });
      expect(await p.read(campaign).refundedCount()).toBe(1n);

      await expectRevert(p.simRefund(p.platform, campaign, iref('refund-alice')), 'AlreadyRefunded', [iref('refund-alice')]);
      await p.minedReverted(
        await p.platform.wallet.writeContract({ address: campaign, abi: campaignAbi, functionName: 'refund', args: [iref('refund-alice')], gas: 200_000n, ...env.fees }),
      );
      await p.refund(p.platform, campaign, iref('refund-bob'));
      // raised is what was recorded; refunds are counted apart
      expect(await p.state(campaign)).toEqual({ status: Status.Failed, raised: 300n, isOpen: false, investmentCount: 2n, refundedCount: 2n });
    });

    it('refunds need a failed campaign: CampaignNotFailed(status) while open, after the deadline but not finalised, and when successful', async () => {
      const c = await p.openCampaign('not-failed', { target: 1_000n, minimum: 100n });
      await p.record(p.platform, c.campaign, p.alice.address, 100n, iref('a'));
      await expectRevert(p.simRefund(p.platform, c.campaign, iref('a')), 'CampaignNotFailed', [Status.Open]);
      await p.passDeadline(c.deadline);
      await expectRevert(p.simRefund(p.platform, c.campaign, iref('a')), 'CampaignNotFailed', [Status.Open]);
      await p.finalize(p.platform, c.campaign);
      await expectRevert(p.simRefund(p.platform, c.campaign, iref('a')), 'CampaignNotFailed', [Status.Successful]);
    });

    it('rejects an unknown reference with InvestmentNotFound(reference), and callers other than the platform with NotPlatform(caller)', async () => {
      const campaign = await failed('refund-checks');
      await expectRevert(p.simRefund(p.platform, campaign, iref('never')), 'InvestmentNotFound', [iref('never')]);
      await expectRevert(p.simRefund(p.platform, campaign, zeroHash), 'InvestmentNotFound', [zeroHash]);
      for (const caller of [p.admin, p.stranger, p.issuer, p.alice]) {
        await expectRevert(p.simRefund(caller, campaign, iref('refund-checks-alice')), 'NotPlatform', [caller.address]);
      }
      expect(await p.read(campaign).refundedCount()).toBe(0n);
    });
  });

  describe('ShareCertificate', () => {
    /** A successful campaign with two investments: alice 600 (a), bob 400 (b). */
    const successful = async (label: string) => {
      const c = await p.openCampaign(label, { target: 1_000n, minimum: 500n });
      await p.record(p.platform, c.campaign, p.alice.address, 600n, iref(`${label}-a`));
      await p.record(p.platform, c.campaign, p.bob.address, 400n, iref(`${label}-b`));
      await p.passDeadline(c.deadline);
      await p.finalize(p.platform, c.campaign);
      return c.campaign;
    };

    it('mints one certificate per investment to its investor: Transfer(0, investor, tokenId) then CertificateMinted; the id is certificateId(campaign, reference)', async () => {
      const campaign = await successful('mint');
      const id = tokenIdOf(campaign, iref('mint-a'));
      expect(await env.publicClient.readContract({ address: p.certificates, abi: shareCertificateAbi, functionName: 'certificateId', args: [campaign, iref('mint-a')] })).toBe(id);
      expect((await p.simMint(p.platform, campaign, p.alice.address, iref('mint-a'))).result).toBe(id);

      const receipt = await p.mint(p.platform, campaign, p.alice.address, iref('mint-a'));
      const logs = parseEventLogs({ abi: shareCertificateAbi, logs: receipt.logs });
      expect(logs.map((l) => [l.eventName, l.args])).toEqual([
        ['Transfer', { from: zeroAddress, to: p.alice.address, tokenId: id }],
        ['CertificateMinted', { tokenId: id, campaign, investmentReference: iref('mint-a'), investor: p.alice.address }],
      ]);
      expect(logs.map((l) => getAddress(l.address))).toEqual([p.certificates, p.certificates]);
      expect(await p.ownerOf(id)).toBe(p.alice.address);
      expect(await p.certificate(id)).toEqual({ campaign, investmentReference: iref('mint-a') });
      expect(await p.certificate(tokenIdOf(campaign, iref('mint-b')))).toEqual({ campaign: zeroAddress, investmentReference: zeroHash });
      expect(await p.certificatesMinted(campaign)).toBe(1n);

      // The investor's verification is not checked again at minting: it was when the investment was recorded.
      await p.revokeInvestor(p.verifier, p.bob.address);
      await p.mint(p.platform, campaign, p.bob.address, iref('mint-b'));
      expect(await p.ownerOf(tokenIdOf(campaign, iref('mint-b')))).toBe(p.bob.address);
      expect(await p.certificatesMinted(campaign)).toBe(2n);

      const c = p.certificates;
      const erc721 = await Promise.all([
        env.publicClient.readContract({ address: c, abi: shareCertificateAbi, functionName: 'name' }),
        env.publicClient.readContract({ address: c, abi: shareCertificateAbi, functionName: 'symbol' }),
        env.publicClient.readContract({ address: c, abi: shareCertificateAbi, functionName: 'supportsInterface', args: ['0x80ac58cd'] }),
        p.balanceOf(p.alice.address),
      ]);
      expect(erc721).toEqual(['Issuer Platform Share Certificate', 'SHARE', true, 1n]);
    });

    it('a second certificate for the same investment reverts with CertificateAlreadyMinted(campaign, reference, tokenId); sent anyway it mints nothing', async () => {
      const campaign = await successful('twice');
      const id = tokenIdOf(campaign, iref('twice-a'));
      await p.mint(p.platform, campaign, p.alice.address, iref('twice-a'));
      await expectRevert(p.simMint(p.platform, campaign, p.alice.address, iref('twice-a')), 'CertificateAlreadyMinted', [campaign, iref('twice-a'), id]);
      // even after the certificate changed hands
      await p.transfer(p.alice, p.carol.address, id);
      await expectRevert(p.simMint(p.platform, campaign, p.alice.address, iref('twice-a')), 'CertificateAlreadyMinted', [campaign, iref('twice-a'), id]);
      await p.minedReverted(
        await p.platform.wallet.writeContract({
          address: p.certificates,
          abi: shareCertificateAbi,
          functionName: 'mint',
          args: [campaign, p.alice.address, iref('twice-a')],
          gas: 300_000n,
          ...env.fees,
        }),
      );
      expect(await p.certificatesMinted(campaign)).toBe(1n);
      expect([await p.balanceOf(p.alice.address), await p.balanceOf(p.carol.address)]).toEqual([0n, 1n]);
    });

    it('only for successful campaigns: CampaignNotSuccessful(campaign, status) while open, after the deadline unfinalised, and when failed', async () => {
      const c = await p.openCampaign('unsuccessful', { target: 1_000n, minimum: 500n });
      await p.record(p.platform, c.campaign, p.alice.address, 100n, iref('u'));
      await expectRevert(p.simMint(p.platform, c.campaign, p.alice.address, iref('u')), 'CampaignNotSuccessful', [c.campaign, Status.Open]);
      await p.passDeadline(c.deadline);
      await expectRevert(p.simMint(p.platform, c.campaign, p.alice.address, iref('u')), 'CampaignNotSuccessful', [c.campaign, Status.Open]);
      await p.finalize(p.platform, c.campaign);
      await expectRevert(p.simMint(p.platform, c.campaign, p.alice.address, iref('u')), 'CampaignNotSuccessful', [c.campaign, Status.Failed]);
    });

    it('only campaigns of its factory: UnknownCampaign(campaign) for another factory\'s campaign or any other address', async () => {
      const other = await deployPlatform(env);
      const theirs = await other.openCampaign('elsewhere', { target: 10n, minimum: 1n });
      await other.record(other.platform, theirs.campaign, other.alice.address, 5n, iref('e'));
      await other.passDeadline(theirs.deadline);
      await other.finalize(other.platform, theirs.campaign);
      await expectRevert(p.simMint(p.platform, theirs.campaign, other.alice.address, iref('e')), 'UnknownCampaign', [theirs.campaign]);
      for (const address of [randomAddress(), zeroAddress, p.factory]) {
        await expectRevert(p.simMint(p.platform, address, p.alice.address, iref('e')), 'UnknownCampaign', [address]);
      }
    });

    it('rejects InvestmentNotFound(campaign, reference) and InvestorMismatch(reference, recorded, investor)', async () => {
      const campaign = await successful('lookup');
      await expectRevert(p.simMint(p.platform, campaign, p.alice.address, iref('nope')), 'InvestmentNotFound', [campaign, iref('nope')]);
      await expectRevert(p.simMint(p.platform, campaign, p.bob.address, iref('lookup-a')), 'InvestorMismatch', [iref('lookup-a'), p.alice.address, p.bob.address]);
      await expectRevert(p.simMint(p.platform, campaign, zeroAddress, iref('lookup-a')), 'InvestorMismatch', [iref('lookup-a'), p.alice.address, zeroAddress]);
    });

    it('only the platform mints: NotPlatform(caller), following the factory\'s PLATFORM_ROLE', async () => {
      const campaign = await successful('mint-roles');
      for (const caller of [p.admin, p.stranger, p.issuer, p.alice, p.verifier]) {
        await expectRevert(p.simMint(caller, campaign, p.alice.address, iref('mint-roles-a')), 'NotPlatform', [caller.address]);
      }
      await p.revokePlatform(p.platform.address);
      await expectRevert(p.simMint(p.platform, campaign, p.alice.address, iref('mint-roles-a')), 'NotPlatform', [p.platform.address]);
      await p.grant.platform(p.stranger.address);
      await p.mint(p.stranger, campaign, p.alice.address, iref('mint-roles-a'));
    });

    it('moves only to verified investors: RecipientNotVerified(to) otherwise; a verified recipient gets a plain Transfer', async () => {
      const campaign = await successful('transfer');
      const id = tokenIdOf(campaign, iref('transfer-a'));
      await p.mint(p.platform, campaign, p.alice.address, iref('transfer-a'));
      await expectRevert(p.simTransfer(p.alice, p.stranger.address, id), 'RecipientNotVerified', [p.stranger.address]);
      await p.revokeInvestor(p.verifier, p.carol.address);
      await expectRevert(p.simTransfer(p.alice, p.carol.address, id), 'RecipientNotVerified', [p.carol.address]);
      await p.verifyInvestor(p.verifier, p.carol.address, claim('carol-2'));
      const receipt = await p.transfer(p.alice, p.carol.address, id);
      expect(parseEventLogs({ abi: shareCertificateAbi, logs: receipt.logs }).map((l) => [l.eventName, l.args])).toEqual([
        ['Transfer', { from: p.alice.address, to: p.carol.address, tokenId: id }],
      ]);
      expect(await p.ownerOf(id)).toBe(p.carol.address);
      // ERC-721's own checks come first: a stranger cannot move carol's certificate
      await expectRevert(
        env.publicClient.simulateContract({
          account: p.stranger.account,
          address: p.certificates,
          abi: shareCertificateAbi,
          functionName: 'transferFrom',
          args: [p.carol.address, p.bob.address, id],
        }),
        'ERC721InsufficientApproval',
        [p.stranger.address, id],
      );
    });
  });

  it('the whole lifecycle: two campaigns, one successful with certificates, one failed and refunded', async () => {
    await lifecycle(env);
  });

  it('every custom error the five contracts declare is asserted above, by name and arguments', () => {
    const expected: Record<ContractName, string[]> = {
      IssuerRegistry: ['AccessControlUnauthorizedAccount', 'InvalidAdmin', 'InvalidRegistrar', 'InvalidIssuer', 'InvalidVcHash', 'IssuerAlreadyRegistered', 'IssuerNotRegistered'],
      InvestorRegistry: ['AccessControlUnauthorizedAccount', 'InvalidAdmin', 'InvalidVerifier', 'InvalidClaimHash', 'InvalidInvestor', 'InvestorNotVerified'],
      CampaignFactory: [
        'AccessControlUnauthorizedAccount',
        'CampaignExists',
        'InvalidAdmin',
        'InvalidAmounts',
        'InvalidDeadline',
        'InvalidPlatform',
        'InvalidReference',
        'InvalidRegistry',
        'IssuerNotRegistered',
      ],
      Campaign: [
        'AlreadyFinalized',
        'AlreadyRefunded',
        'CampaignClosed',
        'CampaignNotFailed',
        'DeadlineNotReached',
        'InvalidAmount',
        'InvalidReference',
        'InvestmentAlreadyRecorded',
        'InvestmentNotFound',
        'InvestorNotVerified',
        'NotPlatform',
        'TargetExceeded',
      ],
      ShareCertificate: [
        'CampaignNotSuccessful',
        'CertificateAlreadyMinted',
        'InvalidFactory',
        'InvestmentNotFound',
        'InvestorMismatch',
        'NotPlatform',
        'RecipientNotVerified',
        'UnknownCampaign',
      ],
    };
    for (const name of Object.keys(CONTRACTS) as ContractName[]) {
      // OpenZeppelin's own errors, other than the role check, are OpenZeppelin's to test.
      const declared = (CONTRACTS[name] as Abi)
        .filter((item) => item.type === 'error')
        .map((item) => (item as { name: string }).name)
        .filter((error) => error !== 'AccessControlBadConfirmation' && !error.startsWith('ERC721'))
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

  it('deploys the contracts and runs the whole lifecycle with type-0 transactions signed for chain 100', async () => {
    expect(env.legacy).toBe(true);
    expect(await env.publicClient.getChainId()).toBe(100);
    expect((await env.publicClient.getBlock()).baseFeePerGas ?? null).toBeNull();

    const p = await lifecycle(env);
    // The CREATE2 address on this chain follows the same formula.
    expect(await p.predictCampaign(cref('lifecycle-good'))).toBe(
      getContractAddress({ opcode: 'CREATE2', from: p.factory, salt: cref('lifecycle-good'), bytecode: campaignBytecode }),
    );

    // 4 deployments, 1 registration, 3 verifications, 2 campaigns, 3 investments, 2 finalisations,
    // 2 mints, 1 transfer, 1 refund
    expect(env.sent).toHaveLength(19);
    for (const hash of env.sent) {
      const tx = await env.publicClient.getTransaction({ hash });
      expect({ hash, type: tx.type, typeHex: tx.typeHex, chainId: tx.chainId }).toEqual({ hash, type: 'legacy', typeHex: '0x0', chainId: 100 });
      expect(tx.maxFeePerGas).toBeUndefined();
    }
  });
});
