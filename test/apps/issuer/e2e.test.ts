import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPublicClient, http as viemHttp, keccak256, parseEventLogs, toHex, type Address, type Hex } from 'viem';
import { INVESTOR_ROLE } from '../../../src/apps/issuer/http.js';
import { createApiKey } from '../../../src/engine/index.js';
import { campaignAbi, campaignFactoryAbi, investorRegistryAbi, issuerRegistryAbi, shareCertificateAbi } from '../../../src/apps/issuer/contracts.js';
import { CLI_WITH_TS_CONFIG, RunningCli, runCli } from '../../harness/cli.js';
import { issuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';

const hash = (text: string) => keccak256(toHex(text));
const wallet = (n: number) => `0x${(0x1000 + n).toString(16).padStart(40, '0')}`;
const INVESTORS = 50;
/** The investor whose investment is above the AML review threshold (5,000 in issuer.config.ts). */
const LARGE = INVESTORS - 1;
const amountOf = (i: number) => (i === LARGE ? 6000n : 100n + BigInt(i));
/** Company B's campaign gets a few investments, far below its minimum. */
const B_INVESTORS = 3;
const B_AMOUNT = 200n;
/** Seconds from a campaign's creation to its deadline: time for 50 investments to be recorded on chain first. */
const DEADLINE_SECONDS = 75;

type Row = Record<string, string>;
type Investment = Row & { aml_flags: string[] };
type AuditEntry = { from_state: string | null; to_state: string; actor: string };

/** Runs `work` over `items`, at most `limit` at a time (HTTP requests: the API is one process on a two-core machine). */
async function inBatches<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/**
 * Issue 12's acceptance: the platform as three processes (`ledgersync api`,
 * `indexer`, `worker`) on one PostgreSQL and a Polygon Edge-like anvil with
 * one-second blocks, driven over HTTP only. Each business outcome is checked
 * against the chain itself (contract reads and transaction receipts), not only
 * against the platform's mirror of it.
 */
describe('issuer platform end to end, roles as separate processes, over HTTP', () => {
  it('registers two companies; A raises from 50 verified investors (one AML hold released), closes successful at its deadline and mints 50 certificates; B fails and refunds', async () => {
    const started = Date.now();
    // Progress with its time since the start: on a loaded machine, where the time goes.
    const step = (what: string) => console.log(`issuer e2e +${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
    const w = await issuerWorld({ blockTime: 1, finality: 2 });
    expect(await w.deploy()).toMatch(/CampaignFactory deployed at 0x/);
    const cli = { cwd: w.cwd, env: w.env, script: CLI_WITH_TS_CONFIG };
    const api = new RunningCli(['api'], cli);
    new RunningCli(['indexer'], cli);
    new RunningCli(['worker'], cli);
    await api.waitForReady(`${w.base}/ready`, 90_000);
    step('api ready');

    const keyFor = async (...args: string[]) => {
      const result = await runCli(['issuer', 'key', 'create', ...args], cli);
      const printed = /^key ([0-9a-f]+) \(.*\): (lsk_\S+)$/m.exec(result.stdout);
      if (!printed) throw new Error(`issuer key create ${args.join(' ')} failed (${result.code}): ${result.stdout}${result.stderr}`);
      return { id: printed[1]!, key: printed[2]! };
    };
    const { id: officerKeyId, key: officer } = await keyFor('--role', 'compliance');
    step('the roles are up, officer key made');

    const deployments = JSON.parse(readFileSync(w.env.DEPLOYMENTS_FILE!, 'utf8')) as Record<string, Record<string, { address: Address }>>;
    const contractAt = (name: string) => deployments['evm:100']![name]!.address;
    const chain = createPublicClient({ transport: viemHttp(w.anvil.rpcUrl) });
    const read = <T>(address: string, abi: readonly unknown[], functionName: string, args: unknown[] = []) =>
      chain.readContract({ address: address as Address, abi: abi as never, functionName: functionName as never, args: args as never }) as Promise<T>;

    // Two companies, each registered as an issuer on chain.
    const companies: string[] = [];
    for (const [n, name] of ['Acme Solar', 'Borealis Wind'].entries()) {
      const company = await w.http('POST', '/api/companies', officer, { name, wallet: wallet(1 + n), vcHash: hash(`${name} vc`), vcIssuer: 'did:web:registry.example' });
      expect(company.status).toBe(201);
      expect(company.body.state).toBe('registering');
      companies.push(String(company.body.id));
    }
    // Fifty investors onboarded; their verification on chain runs while their keys are made.
    const investors: string[] = [];
    for (let i = 0; i < INVESTORS; i++) {
      const investor = await w.http('POST', '/api/investors', officer, { name: `Investor ${i}`, wallet: wallet(100 + i), country: 'ES', claimHash: hash(`kyc ${i}`), claimIssuer: 'did:web:kyc.example' });
      expect(investor.status).toBe(201);
      expect(investor.body.state).toBe('verifying');
      investors.push(String(investor.body.id));
    }
    // The companies' keys and the large investor's through the CLI; the other 49 investors' with
    // createApiKey, which is all the CLI runs: each CLI run costs ~4 s of CPU (node, tsx, the
    // config), and 50 of them would take the test's time budget on a two-core machine.
    const keysStarted = Date.now();
    const [companyA, companyB, largeInvestor] = await Promise.all([
      keyFor('--role', 'company', '--company', companies[0]!),
      keyFor('--role', 'company', '--company', companies[1]!),
      keyFor('--role', 'investor', '--investor', investors[LARGE]!),
    ]).then((keys) => keys.map((k) => k.key));
    const keysDb = new pg.Pool({ connectionString: w.env.DATABASE_URL, max: 2 });
    const investorKeys = await Promise.all(
      investors.map(async (id, i) => (i === LARGE ? largeInvestor! : (await createApiKey(keysDb, { roles: [INVESTOR_ROLE], scope: { investor: id } }, `investor ${id}`)).key)),
    );
    await keysDb.end();
    const keysMs = Date.now() - keysStarted;
    step('companies and investors posted, keys made');

    for (const [n, id] of companies.entries()) {
      const company = await until(async () => {
        const c = (await w.http('GET', `/api/companies/${id}`, officer)).body;
        return c.state === 'registered' && c.registered_on_chain === true ? c : undefined;
      }, `company ${id} registered and indexed`, 60_000, 250);
      expect(company.registered_transaction).toMatch(/^0x[0-9a-f]{64}$/);
      expect(await read<boolean>(contractAt('IssuerRegistry'), issuerRegistryAbi, 'isRegisteredIssuer', [wallet(1 + n)])).toBe(true);
    }

    step('companies registered');
    // One campaign per company: created, submitted, approved by the officer, deployed through the factory.
    const campaigns: string[] = [];
    for (const [key, title, target, minimum] of [
      [companyA, 'Solar farm', '20000', '5000'],
      [companyB, 'Wind park', '50000', '40000'],
    ] as const) {
      const deadline = new Date(Date.now() + DEADLINE_SECONDS * 1000).toISOString();
      const draft = await w.http('POST', '/api/campaigns', key, { title, target, minimum, deadline });
      expect(draft.status).toBe(201);
      expect(draft.body.state).toBe('draft');
      const id = String(draft.body.id);
      expect((await w.http('POST', `/api/campaigns/${id}/submit`, key)).body.state).toBe('submitted');
      const approved = await w.http('POST', `/api/campaigns/${id}/approve`, officer, { reason: 'prospectus checked' });
      expect(approved.status).toBe(200);
      expect(approved.body.state).toBe('deploying');
      campaigns.push(id);
    }
    const [campaignA, campaignB] = campaigns as [string, string];
    const live: Row[] = [];
    for (const id of campaigns) {
      const campaign = await until(async () => {
        const c = (await w.http('GET', `/api/campaigns/${id}`, officer)).body;
        return c.state === 'active' && c.deployed_on_chain === true ? (c as Row) : undefined;
      }, `campaign ${id} active and indexed`, 60_000, 250);
      // The address saved is the one the factory gives the campaign's reference (CREATE2).
      expect(campaign.contract_address).toBe((await read<string>(contractAt('CampaignFactory'), campaignFactoryAbi, 'campaignOf', [campaign.reference])).toLowerCase());
      live.push(campaign);
    }
    const [addressA, addressB] = live.map((c) => c.contract_address!) as [string, string];
    step('both campaigns active');

    await until(async () => {
      const states = await Promise.all(investors.map(async (id) => (await w.http('GET', `/api/investors/${id}`, officer)).body.state));
      return states.every((s) => s === 'verified');
    }, 'all investors verified', 60_000, 500);
    const verifiedOnChain = await Promise.all(investors.map((_, i) => read<boolean>(contractAt('InvestorRegistry'), investorRegistryAbi, 'isVerified', [wallet(100 + i)])));
    expect(verifiedOnChain.every(Boolean)).toBe(true);

    step('investors verified');
    // Fifty investments in A, each with the investor's own key; only the large one trips AML.
    const investedA = await inBatches(investors, 10, async (_, i) => {
      const res = await w.http<Investment>('POST', `/api/campaigns/${campaignA}/investments`, investorKeys[i], { amount: amountOf(i).toString() });
      expect(res.status).toBe(201);
      return res.body;
    });
    for (const [i, investment] of investedA.entries()) {
      if (i === LARGE) expect(investment).toMatchObject({ state: 'held', aml_flags: ['large_amount'] });
      else expect(investment).toMatchObject({ state: 'recording', aml_flags: [] });
    }
    const held = investedA[LARGE]!;
    const queue = (await w.http('GET', '/api/review-queue', officer)).body as { investments: Row[] };
    expect(queue.investments.map((i) => i.id)).toEqual([held.id]);
    const released = await w.http('POST', `/api/investments/${held.id}/release`, officer, { reason: 'source of funds documented' });
    expect(released.body).toMatchObject({ state: 'recording', aml_review: 'released' });
    expect(((await w.http('GET', '/api/review-queue', officer)).body as { investments: Row[] }).investments).toEqual([]);

    // A few investments in B: it cannot reach its minimum.
    const investedB = await inBatches(investors.slice(0, B_INVESTORS), B_INVESTORS, async (_, i) => {
      const res = await w.http<Investment>('POST', `/api/campaigns/${campaignB}/investments`, investorKeys[i], { amount: B_AMOUNT.toString() });
      expect(res.status).toBe(201);
      expect(res.body.state).toBe('recording');
      return res.body;
    });
    const investedMs = Date.now() - Date.parse(String(live[0]!.created_at));
    step('investments posted');

    // Nothing more is done: the deadline passes, the worker closes both campaigns by itself.
    const sumA = investedA.reduce((s, _, i) => s + amountOf(i), 0n);
    const closedA = await until(async () => {
      const c = (await w.http('GET', `/api/campaigns/${campaignA}`, officer)).body;
      return c.state === 'certificates_issued' ? (c as Row) : undefined;
    }, 'campaign A to issue its certificates', (DEADLINE_SECONDS + 150) * 1000, 500);
    const closedB = await until(async () => {
      const c = (await w.http('GET', `/api/campaigns/${campaignB}`, officer)).body;
      return c.state === 'refunded' ? (c as Row) : undefined;
    }, 'campaign B refunded', 60_000, 500);
    const closedMs = Date.now() - Date.parse(String(live[0]!.created_at));
    step('A certificates_issued, B refunded');

    // A: what the platform says, the chain says.
    expect(closedA.raised).toBe(sumA.toString());
    expect(await read<bigint>(addressA, campaignAbi, 'raised')).toBe(sumA);
    expect(await read<bigint>(addressA, campaignAbi, 'investmentCount')).toBe(BigInt(INVESTORS));
    expect(await read<number>(addressA, campaignAbi, 'status')).toBe(1); // Successful
    const rowsA = (await w.http('GET', `/api/campaigns/${campaignA}/investments?limit=500`, officer)).body.investments as Investment[];
    expect(rowsA.map((v) => v.id).sort()).toEqual(investedA.map((v) => v.id).sort());
    await Promise.all(
      rowsA.map(async (v) => {
        expect(v.state).toBe('certified');
        const receipt = await chain.getTransactionReceipt({ hash: v.transaction_hash as Hex });
        expect(receipt.status).toBe('success');
        const recorded = parseEventLogs({ abi: campaignAbi, eventName: 'InvestmentRecorded', logs: receipt.logs }).filter((l) => l.address.toLowerCase() === addressA);
        expect(recorded.map((l) => [l.args.investmentReference, l.args.investor.toLowerCase(), l.args.amount])).toContainEqual([v.reference, v.investor_wallet, BigInt(v.amount!)]);
        const tokenId = await read<bigint>(contractAt('ShareCertificate'), shareCertificateAbi, 'certificateId', [addressA, v.reference]);
        expect(BigInt(v.certificate_token_id!)).toBe(tokenId);
      }),
    );
    const certificates = await until(async () => {
      const list = (await w.http('GET', `/api/campaigns/${campaignA}/certificates`, officer)).body.certificates as Row[];
      return list.length === INVESTORS && list.every((c) => c.investment_id) ? list : undefined;
    }, 'the 50 certificate rows indexed', 30_000, 500);
    const byId = new Map(rowsA.map((v) => [v.id, v]));
    expect(new Set(certificates.map((c) => c.investment_id)).size).toBe(INVESTORS);
    await Promise.all(
      certificates.map(async (c) => {
        const investment = byId.get(c.investment_id!)!;
        expect(c).toMatchObject({ campaign: addressA, investment_reference: investment.reference, owner: investment.investor_wallet, transfers: 0 });
        expect(c.token_id).toBe(BigInt(await read<bigint>(contractAt('ShareCertificate'), shareCertificateAbi, 'certificateId', [addressA, investment.reference])).toString());
        expect((await read<string>(contractAt('ShareCertificate'), shareCertificateAbi, 'ownerOf', [BigInt(c.token_id!)])).toLowerCase()).toBe(investment.investor_wallet);
      }),
    );

    // B: failed on chain, each investment refunded there and here.
    const sumB = B_AMOUNT * BigInt(B_INVESTORS);
    expect(closedB.raised).toBe(sumB.toString());
    expect(await read<bigint>(addressB, campaignAbi, 'raised')).toBe(sumB);
    expect(await read<number>(addressB, campaignAbi, 'status')).toBe(2); // Failed
    expect(await read<bigint>(addressB, campaignAbi, 'refundedCount')).toBe(BigInt(B_INVESTORS));
    const rowsB = (await w.http('GET', `/api/campaigns/${campaignB}/investments`, officer)).body.investments as Investment[];
    expect(rowsB.map((v) => v.id).sort()).toEqual(investedB.map((v) => v.id).sort());
    await Promise.all(
      rowsB.map(async (v) => {
        expect(v.state).toBe('refunded');
        expect(v.certificate_token_id).toBeNull();
        const receipt = await chain.getTransactionReceipt({ hash: v.refund_transaction as Hex });
        expect(receipt.status).toBe('success');
        const refunded = parseEventLogs({ abi: campaignAbi, eventName: 'InvestmentRefunded', logs: receipt.logs }).filter((l) => l.address.toLowerCase() === addressB);
        expect(refunded.map((l) => l.args.investmentReference)).toEqual([v.reference]);
      }),
    );
    expect((await w.http('GET', `/api/campaigns/${campaignB}/certificates`, officer)).body.certificates).toEqual([]);

    // The audit log: every transition of both campaigns, in order, each from where the last one left it, by whom.
    const audit = async (id: string) => ((await w.http('GET', `/api/audit?entity=campaign&entityId=${id}`, officer)).body.entries as AuditEntry[]).reverse();
    for (const [id, ending] of [
      [campaignA, ['successful', 'certificates_issued']],
      [campaignB, ['failed', 'refunding', 'refunded']],
    ] as const) {
      const entries = await audit(id);
      expect(entries.map((e) => e.to_state)).toEqual(['draft', 'submitted', 'approved', 'deploying', 'active', 'closing', ...ending]);
      expect(entries.map((e) => e.from_state)).toEqual([null, ...entries.slice(0, -1).map((e) => e.to_state)]);
      // The close came from the worker's task at the deadline, the outcomes from the chain.
      expect(entries.find((e) => e.to_state === 'closing')!.actor).toBe('task:issuer.closeDue');
      expect(entries.filter((e) => ['active', ...ending].includes(e.to_state)).every((e) => e.actor === 'chain')).toBe(true);
      expect(entries.find((e) => e.to_state === 'approved')!.actor).toBe(`key:${officerKeyId}`);
    }

    console.log(
      `issuer e2e: 4 CLI keys and ${INVESTORS - 1} more in ${keysMs} ms; investments sent ${investedMs} ms after campaign A opened (deadline ${DEADLINE_SECONDS} s); ` +
        `closed and certified ${closedMs} ms after it opened; whole test ${Date.now() - started} ms`,
    );
  }, 600_000);
});
