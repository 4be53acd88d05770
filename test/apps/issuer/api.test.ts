import { describe, expect, it, onTestFinished } from 'vitest';
import { keccak256, toHex } from 'viem';
import { issuerWorld } from '../../harness/issuer-world.js';
import { createTestDatabase } from '../../harness/db.js';
import { until } from '../../harness/until.js';
import { amlCheck, DEFAULT_AML, type AmlInvestor } from '../../../src/apps/issuer/aml.js';

const hash = (text: string) => keccak256(toHex(text));
const wallet = (n: number) => `0x${(0x2000 + n).toString(16).padStart(40, '0')}`;

describe('issuer API: roles, visibility, AML rules, idempotency', () => {
  it('gives each role what it may do, holds investments by each AML rule, and finds a retried investment by its Idempotency-Key', async () => {
    const w = await issuerWorld({ blockTime: 1, finality: 1 });
    await w.deploy();
    await w.start();
    const keys = await w.keys();

    // Only officers onboard companies and investors.
    const companyBody = { name: 'Acme', wallet: wallet(1), vcHash: hash('acme'), vcIssuer: 'did:web:registry.example' };
    expect((await w.http('POST', '/api/companies', undefined, companyBody)).status).toBe(401);
    const notOfficer = await w.http('POST', '/api/companies', await keys.investor('1'), companyBody);
    expect(notOfficer).toMatchObject({ status: 403, type: expect.stringContaining('application/problem+json') });
    const companyId = String((await w.http('POST', '/api/companies', keys.officer, companyBody)).body.id);
    expect((await w.http('POST', '/api/companies', keys.officer, companyBody)).status).toBe(409);
    const rival = String((await w.http('POST', '/api/companies', keys.officer, { ...companyBody, name: 'Rival', wallet: wallet(2) })).body.id);
    const company = await w.http('GET', `/api/companies/${companyId}`, keys.officer);
    expect(company.body.credentials).toMatchObject([{ credential_hash: hash('acme'), issuer: 'did:web:registry.example', subject: wallet(1), status: 'active' }]);

    const investor = async (n: number, country = 'ES') =>
      String((await w.http('POST', '/api/investors', keys.officer, { name: `Investor ${n}`, wallet: wallet(100 + n), country, claimHash: hash(`kyc ${n}`), claimIssuer: 'did:web:kyc.example' })).body.id);
    const [plain, sanctioned, watched, flagged, blocked, frequent] = [await investor(1), await investor(2, 'KP'), await investor(3), await investor(4), await investor(5), await investor(6)];
    expect((await w.http('POST', `/api/investors/${watched}/aml`, keys.officer, { reviewStatus: 'watch' })).body.review_status).toBe('watch');
    expect((await w.http('POST', `/api/investors/${flagged}/aml`, keys.officer, { riskFlags: ['pep'] })).body.risk_flags).toEqual(['pep']);
    expect((await w.http('POST', `/api/investors/${blocked}/aml`, keys.officer, { reviewStatus: 'blocked' })).body.review_status).toBe('blocked');
    expect((await w.http('POST', `/api/investors/${plain}/aml`, keys.officer, {})).status).toBe(400);
    expect((await w.http('POST', `/api/investors/${plain}/aml`, await keys.investor(plain), { reviewStatus: 'clear' })).status).toBe(403);

    await until(async () => (await w.http('GET', `/api/companies/${companyId}`, keys.officer)).body.state === 'registered', 'the company registered', 30_000);
    const acme = await keys.company(companyId);
    const deadline = new Date(Date.now() + 600_000).toISOString();
    // Company users open campaigns for their own company only; bad amounts are 400s.
    expect((await w.http('POST', '/api/campaigns', acme, { companyId: rival, title: 'x', target: '10', minimum: '1', deadline })).status).toBe(403);
    expect((await w.http('POST', '/api/campaigns', acme, { title: 'x', target: '10', minimum: '11', deadline })).status).toBe(400);
    expect((await w.http('POST', '/api/campaigns', acme, { title: 'x', target: '10', minimum: '1', deadline: '2020-01-01T00:00:00Z' })).status).toBe(400);
    expect((await w.http('POST', '/api/campaigns', keys.officer, { title: 'x', target: '10', minimum: '1', deadline })).status).toBe(403);
    expect((await w.http('POST', '/api/campaigns', keys.admin, { companyId: '999999', title: 'x', target: '10', minimum: '1', deadline })).status).toBe(404);
    const campaignId = String((await w.http('POST', '/api/campaigns', acme, { title: 'Wind', target: '100000', minimum: '100', deadline })).body.id);
    // Not visible to another company's users, nor to investors while a draft.
    expect((await w.http('GET', `/api/campaigns/${campaignId}`, await keys.company(rival))).status).toBe(403);
    expect((await w.http('GET', `/api/campaigns/${campaignId}`, await keys.investor(plain))).status).toBe(403);
    expect((await w.http('POST', `/api/campaigns/${campaignId}/approve`, keys.officer, { reason: 'too early' })).status).toBe(409);
    await w.http('POST', `/api/campaigns/${campaignId}/submit`, acme);
    expect((await w.http('POST', `/api/campaigns/${campaignId}/approve`, acme, { reason: 'self-approval' })).status).toBe(403);
    expect((await w.http('POST', `/api/campaigns/${campaignId}/approve`, keys.officer, {})).status).toBe(400);
    await w.http('POST', `/api/campaigns/${campaignId}/approve`, keys.officer, { reason: 'ok' });
    await until(async () => (await w.http('GET', `/api/campaigns/${campaignId}`, keys.officer)).body.state === 'active', 'the campaign active', 30_000);
    expect((await w.http('GET', `/api/campaigns/${campaignId}`, await keys.investor(plain))).status).toBe(200);
    expect(((await w.http('GET', '/api/campaigns', await keys.investor(plain))).body.campaigns as unknown[]).length).toBe(1);
    for (const id of [plain, sanctioned, watched, flagged, blocked, frequent]) {
      await until(async () => (await w.http('GET', `/api/investors/${id}`, keys.officer)).body.state === 'verified', `investor ${id} verified`, 30_000);
    }

    const invest = async (investorId: string, amount: string, key?: string) =>
      w.http('POST', `/api/campaigns/${campaignId}/investments`, await keys.investor(investorId), { amount }, key ? { 'idempotency-key': key } : {});
    // Each rule holds an investment on its own.
    expect((await invest(sanctioned, '100')).body.aml_flags).toEqual(['sanctioned_country']);
    expect((await invest(watched, '100')).body.aml_flags).toEqual(['investor_watch']);
    expect((await invest(flagged, '100')).body.aml_flags).toEqual(['risk_flags']);
    expect((await invest(blocked, '100')).body.aml_flags).toEqual(['investor_blocked']);
    expect((await invest(plain, '5001')).body.aml_flags).toEqual(['large_amount']);
    // The period limit (10,000) counts what the investor put in before, held ones included.
    expect((await invest(frequent, '4000')).body).toMatchObject({ state: 'recording', aml_flags: [] });
    expect((await invest(frequent, '4000')).body).toMatchObject({ state: 'recording', aml_flags: [] });
    expect((await invest(frequent, '4000')).body).toMatchObject({ state: 'held', aml_flags: ['period_limit'] });

    // The same Idempotency-Key finds the first investment; a different body under it is a 409.
    const first = await invest(plain, '10', 'order-77');
    expect(first.status).toBe(201);
    const again = await invest(plain, '10', 'order-77');
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
    expect((await invest(plain, '11', 'order-77')).status).toBe(409);
    // An investor invests for themselves only, and sees only their own investments.
    expect((await w.http('POST', `/api/campaigns/${campaignId}/investments`, await keys.investor(plain), { amount: '1', investorId: frequent })).status).toBe(403);
    const own = (await w.http('GET', `/api/campaigns/${campaignId}/investments`, await keys.investor(plain))).body.investments as Array<{ investor_id: string }>;
    expect(new Set(own.map((i) => i.investor_id))).toEqual(new Set([plain]));
    expect((await w.http('GET', `/api/investments/${first.body.id}`, await keys.investor(frequent))).status).toBe(403);
    const all = (await w.http('GET', `/api/campaigns/${campaignId}/investments`, acme)).body.investments as unknown[];
    expect(all).toHaveLength(9);

    const queue = (await w.http('GET', '/api/review-queue', keys.officer)).body as { investments: unknown[] };
    expect(queue.investments).toHaveLength(6);
    expect((await w.http('GET', '/api/review-queue', acme)).status).toBe(403);
  }, 180_000);

  it('holds the investment that goes beyond the velocity limit', async () => {
    const database = await createTestDatabase([{ name: 'issuer', migrations: 'src/apps/issuer/migrations' }]);
    onTestFinished(() => database.drop());
    const client = await database.pool.connect();
    onTestFinished(() => client.release());
    const { rows } = await client.query<{ id: bigint }>(
      `insert into investors (name, wallet, country, claim_hash, state, created_by) values ('v', $1, 'ES', $2, 'verifying', 'test') returning id`,
      [wallet(900), hash('v')],
    );
    const investor: AmlInvestor = { id: rows[0]!.id, country: 'ES', period_limit: null, risk_flags: [], review_status: 'clear' };
    const company = await client.query<{ id: bigint }>(`insert into companies (name, wallet, vc_hash, state, created_by) values ('c', $1, $2, 'registering', 'test') returning id`, [wallet(901), hash('c')]);
    const campaign = await client.query<{ id: bigint }>(
      `insert into campaigns (company_id, reference, title, target, minimum, deadline, state, created_by) values ($1, $2, 't', 1000, 1, now() + interval '1 day', 'draft', 'test') returning id`,
      [company.rows[0]!.id, hash('ref')],
    );
    const policy = { ...DEFAULT_AML, velocityMax: 3 };
    for (let i = 0; i < 3; i++) {
      expect(await amlCheck(client, policy, investor, 1n)).toEqual([]);
      await client.query(`insert into investments (campaign_id, investor_id, amount, reference, state, aml_review, created_by) values ($1, $2, 1, $3, 'recording', 'passed', 'test')`, [
        campaign.rows[0]!.id,
        investor.id,
        hash(`inv ${i}`),
      ]);
    }
    expect(await amlCheck(client, policy, investor, 1n)).toEqual(['velocity']);
    // Older than the window, they no longer count.
    await client.query(`update investments set created_at = now() - interval '25 hours'`);
    expect(await amlCheck(client, policy, investor, 1n)).toEqual([]);
  });
});
