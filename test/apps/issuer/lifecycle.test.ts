import { describe, expect, it } from 'vitest';
import { keccak256, toHex } from 'viem';
import { issuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';

const hash = (text: string) => keccak256(toHex(text));
const wallet = (n: number) => `0x${(0x1000 + n).toString(16).padStart(40, '0')}`;

describe('issuer platform, in one process', () => {
  it('registers a company, deploys an approved campaign, records investments (one held by AML, then released), closes successful and mints certificates', async () => {
    const w = await issuerWorld({ blockTime: 1, finality: 2 });
    expect(await w.deploy()).toMatch(/CampaignFactory deployed at 0x/);
    await w.start();
    const keys = await w.keys();

    const company = await w.http('POST', '/api/companies', keys.officer, { name: 'Acme Solar', wallet: wallet(1), vcHash: hash('acme vc'), vcIssuer: 'did:web:registry.example' });
    expect(company.status).toBe(201);
    expect(company.body.state).toBe('registering');
    const companyId = String(company.body.id);
    await until(async () => (await w.http('GET', `/api/companies/${companyId}`, keys.officer)).body.state === 'registered', 'the company registered', 30_000);
    expect((await w.http('GET', `/api/companies/${companyId}`, keys.officer)).body.registered_on_chain).toBe(true);

    const investors: string[] = [];
    for (let i = 0; i < 3; i++) {
      const investor = await w.http('POST', '/api/investors', keys.officer, { name: `Investor ${i}`, wallet: wallet(100 + i), country: 'ES', claimHash: hash(`kyc ${i}`), claimIssuer: 'did:web:kyc.example' });
      expect(investor.status).toBe(201);
      investors.push(String(investor.body.id));
    }

    const companyKey = await keys.company(companyId);
    const deadline = new Date(Date.now() + 40_000).toISOString();
    const draft = await w.http('POST', '/api/campaigns', companyKey, { title: 'Solar farm', target: '10000', minimum: '1000', deadline });
    expect(draft.status).toBe(201);
    const campaignId = String(draft.body.id);
    expect((await w.http('POST', `/api/campaigns/${campaignId}/submit`, companyKey)).body.state).toBe('submitted');
    const approved = await w.http('POST', `/api/campaigns/${campaignId}/approve`, keys.officer, { reason: 'prospectus checked' });
    expect(approved.body.state).toBe('deploying');
    const active = await until(async () => {
      const c = (await w.http('GET', `/api/campaigns/${campaignId}`, keys.officer)).body;
      return c.state === 'active' && c.deployed_on_chain ? c : undefined;
    }, 'the campaign active and indexed', 30_000);
    expect(active.contract_address).toMatch(/^0x[0-9a-f]{40}$/);

    for (const investorId of investors.slice(0, 2)) await until(async () => (await w.http('GET', `/api/investors/${investorId}`, keys.officer)).body.state === 'verified', 'the investor verified', 30_000);
    const small = await w.http('POST', `/api/campaigns/${campaignId}/investments`, await keys.investor(investors[0]!), { amount: '800' });
    expect(small.status).toBe(201);
    expect(small.body.state).toBe('recording');
    const large = await w.http('POST', `/api/campaigns/${campaignId}/investments`, await keys.investor(investors[1]!), { amount: '6000' });
    expect(large.body).toMatchObject({ state: 'held', aml_flags: ['large_amount'] });
    const queue = (await w.http('GET', '/api/review-queue', keys.officer)).body as { investments: Array<{ id: string }> };
    expect(queue.investments.map((i) => i.id)).toEqual([String(large.body.id)]);
    expect((await w.http('POST', `/api/investments/${large.body.id}/release`, keys.officer, { reason: 'source of funds documented' })).body.state).toBe('recording');

    const closed = await until(async () => {
      const c = (await w.http('GET', `/api/campaigns/${campaignId}`, keys.officer)).body;
      return c.state === 'certificates_issued' ? c : undefined;
    }, 'the certificates issued', 90_000);
    expect(closed.raised).toBe('6800');
    const certificates = await until(async () => {
      const list = (await w.http('GET', `/api/campaigns/${campaignId}/certificates`, keys.officer)).body.certificates as Array<Record<string, string>>;
      return list.length === 2 && list.every((c) => c.investment_id) ? list : undefined;
    }, 'the certificate rows', 30_000);
    expect(certificates.map((c) => c.owner).sort()).toEqual([wallet(100), wallet(101)]);
    const audit = (await w.http('GET', `/api/audit?entity=campaign&entityId=${campaignId}`, keys.officer)).body.entries as Array<{ to_state: string }>;
    expect(audit.map((e) => e.to_state).reverse()).toEqual(['draft', 'submitted', 'approved', 'deploying', 'active', 'closing', 'successful', 'certificates_issued']);
  }, 240_000);
});
