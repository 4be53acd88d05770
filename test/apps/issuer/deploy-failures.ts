import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createPublicClient, createWalletClient, defineChain, http, keccak256, parseAbiItem, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { issuerRegistryAbi } from '../../../contracts/artifacts/IssuerRegistry.js';
import { campaignFactoryAbi } from '../../../contracts/artifacts/CampaignFactory.js';
import { findDeployment } from '../../../src/chain/evm/deployments.js';
import { type IssuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';

/**
 * Shared by the deployment failure tests (one file each: the issuer config is a module that reads
 * the environment when first imported, so one in-process stack per test file).
 */

/** anvil's dev accounts 0 (the deployer: admin of the registry, and the platform's signer) and 1 (public knowledge). */
const DEV_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DEV_KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const chain100 = defineChain({ id: 100, name: 'issuer test chain', nativeCurrency: { name: 'xDAI', symbol: 'xDAI', decimals: 18 }, rpcUrls: { default: { http: [] } } });
const CAMPAIGN_CREATED = parseAbiItem('event CampaignCreated(address indexed campaign, address indexed issuer, bytes32 indexed campaignReference, uint256 target, uint256 minimum, uint64 deadline)');

export type Campaign = Record<string, unknown> & { id: string; state: string; state_reason: string | null; reference: Hex; contract_address: string | null; deployed_on_chain: boolean };

/** The chain as an outsider sees it (directly, not through any proxy), and the platform's contracts on it. */
export function onChain(w: IssuerWorld) {
  const transport = http(w.anvil.rpcUrl);
  const client = createPublicClient({ chain: chain100, transport });
  const registry = findDeployment(w.env.DEPLOYMENTS_FILE!, 'evm:100', 'IssuerRegistry')!.address as Address;
  const factory = findDeployment(w.env.DEPLOYMENTS_FILE!, 'evm:100', 'CampaignFactory')!.address as Address;
  const wallet = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain: chain100, transport });
  // Legacy gas: the chain is berlin (no base fee).
  const send = async (key: Hex, functionName: 'grantRole' | 'revokeIssuer' | 'registerIssuer', args: readonly unknown[]) => {
    const hash = await wallet(key).writeContract({ address: registry, abi: issuerRegistryAbi, functionName, args, gasPrice: 2_000_000_000n } as never);
    const receipt = await client.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
  };
  return {
    client,
    factory,
    /**
     * The registrar role for dev account 1, granted by the admin (account 0) before the stack runs:
     * account 0 is also the platform's signer, and outside actions with its nonces would race the relayer's.
     */
    async registrarForTests() {
      const role = await client.readContract({ address: registry, abi: issuerRegistryAbi, functionName: 'REGISTRAR_ROLE' });
      await send(DEV_KEY_0, 'grantRole', [role, privateKeyToAccount(DEV_KEY_1).address]);
    },
    revokeIssuer: (issuer: string) => send(DEV_KEY_1, 'revokeIssuer', [issuer, keccak256(toHex('suspended'))]),
    registerIssuer: (issuer: string, vcHash: string) => send(DEV_KEY_1, 'registerIssuer', [issuer, vcHash, '']),
    campaignOf: async (reference: Hex) => (await client.readContract({ address: factory, abi: campaignFactoryAbi, functionName: 'campaignOf', args: [reference] })) as Address,
    /** Every CampaignCreated for this reference over the whole chain. */
    createdLogs: (reference: Hex) => client.getLogs({ address: factory, event: CAMPAIGN_CREATED, args: { campaignReference: reference }, fromBlock: 0n, toBlock: 'latest' }),
  };
}

/** A registered company with a submitted campaign, through the API. */
export async function submittedCampaign(w: IssuerWorld) {
  const keys = await w.keys();
  const wallet = `0x${randomBytes(20).toString('hex')}`;
  const vcHash = keccak256(toHex(`vc ${wallet}`));
  const company = await w.http('POST', '/api/companies', keys.officer, { name: 'Acme Solar', wallet, vcHash, vcIssuer: 'did:web:registry.example' });
  expect(company.status).toBe(201);
  const companyId = String(company.body.id);
  await until(async () => (await w.http('GET', `/api/companies/${companyId}`, keys.officer)).body.state === 'registered', 'the company registered', 60_000);
  const companyKey = await keys.company(companyId);
  const draft = await w.http('POST', '/api/campaigns', companyKey, { title: 'Solar farm', target: '10000', minimum: '1000', deadline: new Date(Date.now() + 3_600_000).toISOString() });
  expect(draft.status).toBe(201);
  const id = String(draft.body.id);
  expect((await w.http('POST', `/api/campaigns/${id}/submit`, companyKey)).body.state).toBe('submitted');
  const campaign = async () => (await w.http<Campaign>('GET', `/api/campaigns/${id}`, keys.officer)).body;
  const audit = async () =>
    ((await w.http('GET', `/api/audit?entity=campaign&entityId=${id}`, keys.officer)).body.entries as Array<{ from_state: string; to_state: string; reason: string | null; actor: string }>).reverse();
  return { keys, wallet, vcHash, id, reference: draft.body.reference as Hex, campaign, audit };
}

/** The campaign is active at its reference's contract, the one the chain has, once, and the projection agrees. */
export async function expectOneContract(w: IssuerWorld, chain: ReturnType<typeof onChain>, c: { reference: Hex; campaign: () => Promise<Campaign> }) {
  const active = await until(async () => {
    const now = await c.campaign();
    return now.state === 'active' && now.deployed_on_chain ? now : undefined;
  }, 'the campaign active and indexed', 90_000);
  const address = (await chain.campaignOf(c.reference)).toLowerCase();
  expect(address).not.toBe('0x0000000000000000000000000000000000000000');
  expect(active.contract_address).toBe(address);
  const logs = await chain.createdLogs(c.reference);
  expect(logs).toHaveLength(1);
  expect(logs[0]!.args.campaign!.toLowerCase()).toBe(address);
  const projection = await w.pool().query('select address from issuer_chain_campaigns where chain = $1 and reference = $2', ['evm:100', c.reference]);
  expect(projection.rows).toEqual([{ address }]);
  return active;
}

