import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { chromium } from 'playwright-core';
import { keccak256, toHex } from 'viem';
import { packageRoot } from '../../../src/runtime/paths.js';
import { issuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const hash = (text: string) => keccak256(toHex(text));
const wallet = (n: number) => `0x${(0x2000 + n).toString(16).padStart(40, '0')}`;

type Row = Record<string, unknown>;

/** The compliance officers' page in headless Chromium, over the whole stack in this process. */
describe('compliance review page', () => {
  it('approves a submitted campaign and releases a held investment from the browser; a company key is refused on the page', async () => {
    const w = await issuerWorld({ blockTime: 1, finality: 2 });
    await w.deploy();
    await w.start();
    const keys = await w.keys();
    const ok = async (method: string, path: string, key: string, body?: unknown) => {
      const answer = await w.http<Row>(method, path, key, body);
      if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };

    // Over the API: two registered companies, an investor, one campaign already active (to hold an
    // investment in), and a submitted one waiting for review.
    const companyIds: string[] = [];
    for (const n of [1, 2]) {
      const company = await ok('POST', '/api/companies', keys.officer, { name: `Company ${n}`, wallet: wallet(n), vcHash: hash(`vc ${n}`), vcIssuer: 'did:web:registry.example' });
      companyIds.push(String(company.id));
    }
    const investor = await ok('POST', '/api/investors', keys.officer, { name: 'Grace', wallet: wallet(100), country: 'ES', claimHash: hash('kyc grace'), claimIssuer: 'did:web:kyc.example' });
    for (const id of companyIds) await until(async () => (await w.http('GET', `/api/companies/${id}`, keys.officer)).body.state === 'registered', `company ${id} registered`, 30_000);
    const [first, second] = await Promise.all(companyIds.map((id) => keys.company(id)));
    const deadline = new Date(Date.now() + 3_600_000).toISOString();

    const running = await ok('POST', '/api/campaigns', first!, { title: 'Wind park', target: '50000', minimum: '1000', deadline });
    await ok('POST', `/api/campaigns/${running.id}/submit`, first!);
    await ok('POST', `/api/campaigns/${running.id}/approve`, keys.officer, { reason: 'approved over the API' });
    await until(async () => (await w.http('GET', `/api/campaigns/${running.id}`, keys.officer)).body.state === 'active', 'the first campaign active', 30_000);
    await until(async () => (await w.http('GET', `/api/investors/${investor.id}`, keys.officer)).body.state === 'verified', 'the investor verified', 30_000);
    const held = await ok('POST', `/api/campaigns/${running.id}/investments`, await keys.investor(String(investor.id)), { amount: '7500' });
    expect(held).toMatchObject({ state: 'held', aml_flags: ['large_amount'] });

    const draft = await ok('POST', '/api/campaigns', second!, { title: 'Rooftop solar <b>cooperative</b>', target: '20000', minimum: '2500', deadline });
    await ok('POST', `/api/campaigns/${draft.id}/submit`, second!);

    if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_BIN`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    const response = await page.goto(`${w.base}/review`);
    expect(response!.headers()['content-security-policy']).toMatch(/^default-src 'none'; script-src 'sha256-/);

    // A company's key: the API's 403 detail is what the page shows, and no queue.
    await page.getByLabel('Compliance officer API key').fill(first!);
    await page.getByRole('button', { name: 'Load the queue' }).click();
    await expect.poll(() => page.textContent('#status')).toBe('403: this needs a compliance officer key (or an admin key)');
    expect(await page.isHidden('#queue')).toBe(true);

    // The officer's key: the queue, with the campaign's facts (its title as text, not markup) and the held investment's.
    await page.getByLabel('Compliance officer API key').fill(keys.officer);
    await page.getByRole('button', { name: 'Load the queue' }).click();
    const campaignCard = page.locator(`#campaign-${draft.id}`);
    await campaignCard.waitFor();
    expect(await page.locator('#campaigns article').count()).toBe(1);
    expect(await campaignCard.locator('h3').textContent()).toBe('Rooftop solar <b>cooperative</b>');
    const campaignText = await campaignCard.textContent();
    for (const fact of ['Company 2', '20,000', '2,500']) expect(campaignText).toContain(fact);
    const investmentCard = page.locator(`#investment-${held.id}`);
    expect(await investmentCard.textContent()).toEqual(expect.stringContaining(wallet(100)));
    expect(await investmentCard.textContent()).toEqual(expect.stringContaining('7,500'));
    expect(await investmentCard.locator('.flag').allTextContents()).toEqual(['large_amount']);
    // Kept for this tab only.
    expect(await page.evaluate(() => ({ session: Object.values(sessionStorage), local: localStorage.length }))).toEqual({ session: [keys.officer], local: 0 });

    // Approve the campaign with a reason.
    await campaignCard.getByLabel('Reason').fill('prospectus and financials checked');
    mkdirSync(join(packageRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(packageRoot, 'test-artifacts', 'issuer-review-page.png'), fullPage: true });
    await campaignCard.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => page.textContent('#status')).toMatch(new RegExp(`^campaign ${draft.id}: approved, now deploying`));
    expect(await campaignCard.count()).toBe(0);
    expect(await page.textContent('#campaigns')).toBe('No campaign waits for review.');

    // Release the held investment with a reason.
    await investmentCard.getByLabel('Reason').fill('source of funds documented');
    await investmentCard.getByRole('button', { name: /^Release/ }).click();
    await expect.poll(() => page.textContent('#status')).toMatch(new RegExp(`^investment ${held.id}: released, now recording`));
    expect(await page.textContent('#investments')).toBe('No investment is held.');
    await page.screenshot({ path: join(packageRoot, 'test-artifacts', 'issuer-review-page-decided.png'), fullPage: true });

    // What the API says now: the decisions recorded with their officer and reason, and the chain writes under way.
    // A key is lsk_<id>_<secret>; decisions name the key by its id.
    const officerKeyId = keys.officer.split('_')[1];
    const campaign = await ok('GET', `/api/campaigns/${draft.id}`, keys.officer);
    expect(['deploying', 'active']).toContain(campaign.state);
    expect(campaign.approvals).toEqual([expect.objectContaining({ decision: 'approved', reason: 'prospectus and financials checked', officer: `key:${officerKeyId}` })]);
    const investment = await ok('GET', `/api/investments/${held.id}`, keys.officer);
    expect(['recording', 'recorded']).toContain(investment.state);
    const approvals = (await ok('GET', '/api/approvals', keys.officer)).approvals as Row[];
    expect(approvals.find((a) => a.investment_id === String(held.id))).toMatchObject({ decision: 'released', reason: 'source of funds documented', officer: `key:${officerKeyId}` });
    // And they go through: the campaign deployed, the investment on chain.
    await until(async () => (await w.http('GET', `/api/campaigns/${draft.id}`, keys.officer)).body.state === 'active', 'the approved campaign active', 30_000);
    await until(async () => (await w.http('GET', `/api/investments/${held.id}`, keys.officer)).body.state === 'recorded', 'the released investment recorded', 30_000);

    // The page's own script and style ran under its Content-Security-Policy: nothing was refused.
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  }, 180_000);
});
