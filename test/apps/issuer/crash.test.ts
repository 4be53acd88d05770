import { describe, expect, it, onTestFinished } from 'vitest';
import { createPublicClient, getAddress, http as viemHttp, keccak256, toHex, type Address, type Hex } from 'viem';
import { campaignAbi, campaignFactoryAbi, investorRegistryAbi, issuerRegistryAbi, shareCertificateAbi } from '../../../src/apps/issuer/contracts.js';
import { readDeployments } from '../../../src/chain/evm/deployments.js';
import { connectDatabase } from '../../../src/db/client.js';
import { createApiKey } from '../../../src/http/api-keys.js';
import { CLI_WITH_TS_CONFIG, RunningCli, runCli } from '../../harness/cli.js';
import { issuerWorld } from '../../harness/issuer-world.js';
import { mulberry32 } from '../../harness/rpc-proxy.js';
import { until } from '../../harness/until.js';

const KILLS = 20;
const INVESTORS = 10;
/** Reproduce a run with ISSUER_CRASH_SEED=<the seed it logged>. */
const SEED = Number(process.env.ISSUER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 32));

const hash = (text: string) => keccak256(toHex(text));
const wallet = (n: number) => `0x${(0x2000 + n).toString(16).padStart(40, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The issuer platform as separate processes (api, indexer, worker) over HTTP,
 * with the worker (relayer and jobs) SIGKILLed at 20 random moments of a
 * realistic flow and restarted after a short random pause: two companies, ten
 * investors, a campaign per company, investments (one held by AML, then
 * released), one campaign successful (certificates), the other failed
 * (refunds). At the end every object is in the state the chain justifies and
 * nothing happened twice: not on chain, not among the transactions the relayer
 * signed, not in the audit log.
 */
describe('issuer platform, worker killed at random moments', () => {
  it(`ends as the chain says, nothing duplicated, through ${KILLS} SIGKILLs of the worker`, async () => {
    const started = Date.now();
    // Two generators, so that the killer's draws (lives, pauses) and the flow's (amounts) do not depend on their interleaving.
    const killRandom = mulberry32(SEED);
    const flowRandom = mulberry32(SEED ^ 0x9e3779b9);
    const between = (low: number, high: number) => low + killRandom() * (high - low);
    const flowBetween = (low: number, high: number) => low + flowRandom() * (high - low);
    const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
    log(`issuer crash test: seed ${SEED} (ISSUER_CRASH_SEED=${SEED} repeats its random lives, pauses and amounts)`);

    const w = await issuerWorld({ blockTime: 1, finality: 2 });
    expect(await w.deploy()).toMatch(/CampaignFactory deployed at 0x/);
    expect((await runCli(['migrate'], { cwd: w.cwd, env: w.env, script: CLI_WITH_TS_CONFIG })).code).toBe(0);
    const { pool, close } = connectDatabase(w.database.url, { max: 3 });
    onTestFinished(close);
    const chain = createPublicClient({ transport: viemHttp(w.anvil.rpcUrl) });
    const deployed = readDeployments(w.env.DEPLOYMENTS_FILE!)['evm:100']!;
    const platform = getAddress('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
    // The deployer is the platform signer too: what it sent before the relayer ran is not the relayer's.
    const noncesBefore = await chain.getTransactionCount({ address: platform });

    const spawn = (role: 'api' | 'indexer' | 'worker') => new RunningCli([role], { cwd: w.cwd, env: role === 'worker' ? { ...w.env, LOG_LEVEL: 'info' } : w.env, script: CLI_WITH_TS_CONFIG });
    const api = spawn('api');
    spawn('indexer');
    await api.waitForReady(`${w.base}/ready`);
    const officer = (await createApiKey(pool, { roles: ['issuer.compliance'] }, 'officer')).key;

    // The killer: once the worker has started and has something on its way to the chain, it lives a
    // random while more, is killed, and is back after a random pause. Its start-up (loading the CLI and
    // the TypeScript config) is measured, not killed: on a loaded machine it takes many seconds, and
    // the deadlines below are set from it. Once the flow is over, the kills left are of an idle worker.
    const kills: KillRecord[] = [];
    const startups: number[] = [];
    let worker = spawn('worker');
    let spawnedAt = Date.now();
    const deadlines: number[] = [];
    let lives = 0;
    let awaitingWork = false;
    let failed = false;
    onTestFinished(() => void (failed = true));
    const killer = (async () => {
      for (let i = 0; i < KILLS && !failed; i++) {
        await until(() => failed || worker.output.includes('relayer started'), 'the worker started', 120_000, 20);
        startups.push(Date.now() - spawnedAt);
        lives++;
        awaitingWork = true;
        await until(async () => failed || (await busy(pool)) || (await over(pool)), 'work in flight', 600_000, 50);
        awaitingWork = false;
        // Shorter lives once the campaigns close: their finalize, mint and refund steps are quick.
        await sleep(Date.now() >= (deadlines[0] ?? Infinity) ? between(100, 1_000) : between(200, 3_000));
        if (failed) break;
        const hit = await inFlight(pool);
        await worker.kill();
        kills.push({ at: (Date.now() - started) / 1000, ...hit });
        log(`kill ${kills.length}: ${describeKill(hit)}`);
        await sleep(between(200, 1_500));
        if (failed) break;
        worker = spawn('worker');
        spawnedAt = Date.now();
      }
    })();
    let killerDone = false;
    killer.then(() => (killerDone = true), () => {});

    // What a timeout shows: the objects, the unsettled intents, the last worker's output.
    const waitFor = <T>(probe: () => Promise<T>, what: string, timeoutMs: number) =>
      until(probe, what, timeoutMs, 250).catch(async (error: Error) => {
        const dump = async (sql: string) => JSON.stringify((await pool.query(sql)).rows);
        throw new Error(
          [
            error.message,
            `companies: ${await dump('select id, state, state_reason, registration_intent from companies')}`,
            `campaigns: ${await dump('select id, state, state_reason from campaigns')}`,
            `unsettled intents: ${await dump(`select id, kind, state, error, attempts from relayer_intents where state not in ('confirmed', 'failed')`)}`,
            `handler calls owed: ${await dump('select * from relayer_handler_calls')}`,
            `kills so far: ${kills.length}`,
            `last worker:\n${worker.output.slice(-4000)}`,
          ].join('\n'),
        );
      });

    // The flow, over HTTP, as the platform's users run it, a step per life of the worker: each step's
    // writes are on their way to the chain when the kill comes.
    // (or this life, if it has nothing to do yet: the killer waits for work)
    const nextLife = async () => {
      const now = lives;
      await until(() => failed || lives > now || awaitingWork, 'the next life of the worker', 180_000, 20);
    };
    const averageCycle = () => startups.reduce((a, b) => a + b, 0) / Math.max(1, startups.length) + 1_600 + 850;
    const companies: Array<{ id: string; wallet: string; key: string }> = [];
    const investors: Array<{ id: string; wallet: string; key: string }> = [];
    const onboard = async (n: number) => {
      const res = await w.http('POST', '/api/investors', officer, { name: `Investor ${n}`, wallet: wallet(100 + n), country: 'ES', claimHash: hash(`kyc ${n}`), claimIssuer: 'did:web:kyc.example' });
      expect(res.status).toBe(201);
      const id = String(res.body.id);
      investors.push({ id, wallet: wallet(100 + n), key: (await createApiKey(pool, { roles: ['issuer.investor'], scope: { investor: id } }, `investor ${id}`)).key });
    };
    await nextLife();
    for (let n = 0; n < 2; n++) {
      const res = await w.http('POST', '/api/companies', officer, { name: `Company ${n}`, wallet: wallet(n), vcHash: hash(`company ${n}`), vcIssuer: 'did:web:registry.example' });
      expect(res.status).toBe(201);
      const id = String(res.body.id);
      companies.push({ id, wallet: wallet(n), key: (await createApiKey(pool, { roles: ['issuer.company'], scope: { company: id } }, `company ${id}`)).key });
    }
    for (let n = 0; n < INVESTORS / 2; n++) await onboard(n);
    await nextLife();
    for (let n = INVESTORS / 2; n < INVESTORS; n++) await onboard(n);
    log('companies and investors created');
    for (const company of companies) await waitFor(async () => (await w.http('GET', `/api/companies/${company.id}`, officer)).body.state === 'registered', `company ${company.id} registered`, 180_000);

    log('companies registered');
    // Campaign 0 raises more than its minimum (successful), campaign 1 far less (failed). The first
    // deadline leaves room for about eleven lives of the worker at the pace measured so far (deploying,
    // investing three per life, recording), the second for a few more, so the two closings come apart.
    await nextLife();
    const cycle = averageCycle();
    const first = Date.now() + Math.max(60_000, 11 * cycle);
    deadlines.push(first, first + Math.max(15_000, 2 * cycle));
    const terms = [
      { title: 'Solar farm', target: '100000', minimum: '2000' },
      { title: 'Wind farm', target: '1000000', minimum: '900000' },
    ];
    log(`deadlines in ${((deadlines[0]! - Date.now()) / 1000).toFixed(0)} s and ${((deadlines[1]! - Date.now()) / 1000).toFixed(0)} s (worker start-up ${(cycle / 1000 - 3).toFixed(1)} s on average)`);
    const campaigns: string[] = [];
    for (const [n, company] of companies.entries()) {
      const t = terms[n]!;
      const draft = await w.http('POST', '/api/campaigns', company.key, { title: t.title, target: t.target, minimum: t.minimum, deadline: new Date(deadlines[n]!).toISOString() });
      expect(draft.status).toBe(201);
      const id = String(draft.body.id);
      expect((await w.http('POST', `/api/campaigns/${id}/submit`, company.key)).body.state).toBe('submitted');
      expect((await w.http('POST', `/api/campaigns/${id}/approve`, officer, { reason: 'prospectus checked' })).body.state).toBe('deploying');
      campaigns.push(id);
    }
    log('campaigns approved');
    for (const id of campaigns) await waitFor(async () => (await w.http('GET', `/api/campaigns/${id}`, officer)).body.state === 'active', `campaign ${id} active`, 180_000);
    for (const investor of investors) await waitFor(async () => (await w.http('GET', `/api/investors/${investor.id}`, officer)).body.state === 'verified', `investor ${investor.id} verified`, 180_000);

    log('campaigns active, investors verified');
    // Every investor in the first campaign, eight in the second; investor 0 also asks for more than
    // the AML review threshold (5,000): held, then released by an officer.
    const invest = async (campaign: string, investor: (typeof investors)[number], amount: number, expected: string) => {
      const res = await w.http('POST', `/api/campaigns/${campaign}/investments`, investor.key, { amount: String(amount) }, { 'idempotency-key': `crash-${campaign}-${investor.id}-${amount}` });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.state).toBe(expected);
      return String(res.body.id);
    };
    const orders: Array<() => Promise<unknown>> = [
      ...investors.map((investor) => () => invest(campaigns[0]!, investor, Math.round(flowBetween(300, 1_200)), 'recording')),
      ...investors.slice(0, 8).map((investor) => () => invest(campaigns[1]!, investor, Math.round(flowBetween(100, 500)), 'recording')),
    ];
    let held = '';
    orders.splice(4, 0, async () => (held = await invest(campaigns[0]!, investors[0]!, 6_000, 'held')));
    orders.splice(12, 0, async () => expect((await w.http('POST', `/api/investments/${held}/release`, officer, { reason: 'source of funds documented' })).body.state).toBe('recording'));
    for (let i = 0; i < orders.length; i += 3) {
      await nextLife();
      for (const order of orders.slice(i, i + 3)) await order();
    }
    log('investments made');
    // The kills go on through the closing; then the last worker stays, and everything settles.
    await killer;
    expect(killerDone).toBe(true);
    log('kills done');
    const settled = await waitFor(
      async () => {
        const states = (await pool.query<{ state: string }>('select state from campaigns order by id')).rows.map((r) => r.state);
        const unsettled = (await pool.query(`select 1 from relayer_intents where state not in ('confirmed', 'failed') union all select 1 from relayer_handler_calls`)).rows.length;
        const certificates = (await pool.query('select 1 from nft_share_certificates where investment_reference is not null')).rows.length;
        const certified = (await pool.query(`select 1 from investments where state = 'certified'`)).rows.length;
        return states.join() === 'certificates_issued,refunded' && unsettled === 0 && certificates === certified ? states : undefined;
      },
      'both campaigns settled, every intent final, the certificates indexed',
      300_000,
    );
    expect(settled).toEqual(['certificates_issued', 'refunded']);

    log('settled');
    // Wait for the indexer's mirror of the last blocks before comparing against it.
    const head = await chain.getBlockNumber();
    await until(async () => (await checkpoint(pool)) >= head - 2n, 'the indexer at the head', 30_000, 200);

    await assertAgainstChain({ pool, chain, deployed, platform, noncesBefore, companies, investors, campaigns });

    // Where the kills landed: in flight intents (of which kinds) and the campaigns' states then.
    const duration = (Date.now() - started) / 1000;
    const inFlightKills = kills.filter((k) => Object.keys(k.intents).length > 0).length;
    console.log(
      [
        `issuer crash test: seed ${SEED}, ${kills.length} kills, ${duration.toFixed(1)} s`,
        ...kills.map((k, i) => `  kill ${i + 1} at ${k.at.toFixed(1)} s: ${describeKill(k)}`),
      ].join('\n'),
    );
    expect(kills).toHaveLength(KILLS);
    // Most kills hit intents on their way to the chain, and some hit the closing (finalize, mint, refund).
    expect(inFlightKills).toBeGreaterThanOrEqual(KILLS / 2);
    expect(kills.filter((k) => Object.keys(k.intents).some((kind) => /finalize|mint|refund/.test(kind))).length).toBeGreaterThanOrEqual(2);
  }, 600_000);
});

interface KillRecord {
  at: number;
  /** Unsettled intents by kind (pending to included). */
  intents: Record<string, string>;
  campaigns: string[];
  /** graphile-worker jobs locked at the kill (running, or left locked by a worker killed before). */
  jobs: number;
}

/** Whether the flow is over: both campaigns at their end, nothing on its way. */
async function over(pool: import('pg').Pool): Promise<boolean> {
  const { rows } = await pool.query(`select 1 from campaigns where state in ('certificates_issued', 'refunded')`);
  return rows.length === 2 && !(await busy(pool));
}

/** Whether an intent is on its way (not final) or a handler call is owed. */
async function busy(pool: import('pg').Pool): Promise<boolean> {
  const { rows } = await pool.query(`select 1 from relayer_intents where state not in ('confirmed', 'failed') union all select 1 from relayer_handler_calls limit 1`);
  return rows.length > 0;
}

function describeKill(k: Omit<KillRecord, 'at'>): string {
  return `campaigns [${k.campaigns.join(', ')}]; in flight: ${Object.entries(k.intents).map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none'}; jobs locked: ${k.jobs}`;
}

async function inFlight(pool: import('pg').Pool): Promise<Omit<KillRecord, 'at'>> {
  const intents = await pool.query<{ kind: string; states: string }>(
    `select kind, string_agg(state, '/' order by state) as states from (select kind, state || '×' || count(*) as state from relayer_intents
     where state not in ('confirmed', 'failed') group by kind, state) s group by kind`,
  );
  const campaigns = await pool.query<{ state: string }>('select state from campaigns order by id');
  const jobs = await pool.query('select 1 from graphile_worker._private_jobs where locked_at is not null').catch(() => ({ rows: [] }));
  return { intents: Object.fromEntries(intents.rows.map((r) => [r.kind.replace('issuer.', ''), r.states])), campaigns: campaigns.rows.map((r) => r.state), jobs: jobs.rows.length };
}

async function checkpoint(pool: import('pg').Pool): Promise<bigint> {
  const { rows } = await pool.query<{ block: string | null }>(`select min(block_number)::text as block from indexer_checkpoints`).catch(() => ({ rows: [{ block: null }] }));
  return BigInt(rows[0]?.block ?? '0');
}

type Chain = ReturnType<typeof createPublicClient>;

async function assertAgainstChain(ctx: {
  pool: import('pg').Pool;
  chain: Chain;
  deployed: Record<string, { address: Address }>;
  platform: Address;
  noncesBefore: number;
  companies: Array<{ id: string; wallet: string }>;
  investors: Array<{ id: string; wallet: string }>;
  campaigns: string[];
}): Promise<void> {
  const { pool, chain, deployed, platform } = ctx;
  const fromBlock = 0n;
  const count = <T>(items: T[], key: (item: T) => string) => {
    const counts = new Map<string, number>();
    for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
    return counts;
  };
  const lower = (value: unknown) => String(value).toLowerCase();

  // Companies: registered, as the issuer registry says, registered once.
  const registered = await chain.getContractEvents({ address: deployed.IssuerRegistry!.address, abi: issuerRegistryAbi, eventName: 'IssuerRegistered', fromBlock });
  const registrations = count(registered, (e) => lower(e.args.issuer));
  for (const company of ctx.companies) {
    const { rows } = await pool.query<{ state: string; registered_transaction: string }>('select state, registered_transaction from companies where id = $1', [company.id]);
    expect(rows[0]!.state).toBe('registered');
    expect(await chain.readContract({ address: deployed.IssuerRegistry!.address, abi: issuerRegistryAbi, functionName: 'isRegisteredIssuer', args: [company.wallet as Address] })).toBe(true);
    expect(registrations.get(company.wallet), `IssuerRegistered logs of ${company.wallet}`).toBe(1);
    expect(rows[0]!.registered_transaction).toBe(registered.find((e) => lower(e.args.issuer) === company.wallet)!.transactionHash);
  }
  expect(registered).toHaveLength(ctx.companies.length);

  // Investors: verified on chain, once.
  const verified = await chain.getContractEvents({ address: deployed.InvestorRegistry!.address, abi: investorRegistryAbi, eventName: 'InvestorVerified', fromBlock });
  expect([...count(verified, (e) => lower(e.args.investor)).entries()].sort()).toEqual(ctx.investors.map((i) => [i.wallet, 1]).sort());
  const { rows: investorStates } = await pool.query<{ state: string }>('select state from investors');
  expect(investorStates.every((r) => r.state === 'verified')).toBe(true);

  // Campaigns: the address the factory has for the reference, created once, finalised once as the chain decided.
  const created = await chain.getContractEvents({ address: deployed.CampaignFactory!.address, abi: campaignFactoryAbi, eventName: 'CampaignCreated', fromBlock });
  const creations = count(created, (e) => lower(e.args.campaignReference));
  const { rows: campaignRows } = await pool.query<{ id: string; reference: string; contract_address: string; deployed_transaction: string; raised: string; state: string }>(
    'select id::text, reference, contract_address, deployed_transaction, raised::text, state from campaigns order by id',
  );
  expect(campaignRows.map((c) => c.id)).toEqual(ctx.campaigns);
  expect(created).toHaveLength(campaignRows.length);
  const outcome = new Map<string, 'successful' | 'failed'>();
  for (const c of campaignRows) {
    const address = c.contract_address as Address;
    expect(creations.get(c.reference), `CampaignCreated logs of ${c.reference}`).toBe(1);
    expect(lower(await chain.readContract({ address: deployed.CampaignFactory!.address, abi: campaignFactoryAbi, functionName: 'campaignOf', args: [c.reference as Hex] }))).toBe(c.contract_address);
    expect(c.deployed_transaction).toBe(created.find((e) => lower(e.args.campaignReference) === c.reference)!.transactionHash);
    expect(String(await chain.readContract({ address, abi: campaignAbi, functionName: 'raised' }))).toBe(c.raised);
    const finalized = await chain.getContractEvents({ address, abi: campaignAbi, eventName: 'CampaignFinalized', fromBlock });
    expect(finalized, `CampaignFinalized logs of campaign ${c.id}`).toHaveLength(1);
    const status = Number(await chain.readContract({ address, abi: campaignAbi, functionName: 'status' }));
    outcome.set(c.id, status === 1 ? 'successful' : 'failed');
    expect(c.state).toBe(status === 1 ? 'certificates_issued' : 'refunded');
  }
  // The flow made the first succeed and the second fail.
  expect([...outcome.values()]).toEqual(['successful', 'failed']);

  // Investments: recorded once each, then certified or refunded once each as the campaign's outcome says.
  const { rows: investments } = await pool.query<{
    id: string;
    campaign_id: string;
    reference: string;
    amount: string;
    state: string;
    transaction_hash: string;
    certificate_token_id: string | null;
    refund_transaction: string | null;
    wallet: string;
    contract_address: string;
  }>(
    `select v.id::text, v.campaign_id::text, v.reference, v.amount::text, v.state, v.transaction_hash, v.certificate_token_id, v.refund_transaction, i.wallet, c.contract_address
     from investments v join investors i on i.id = v.investor_id join campaigns c on c.id = v.campaign_id order by v.id`,
  );
  expect(investments).toHaveLength(INVESTORS + 1 + 8);
  const addresses = campaignRows.map((c) => c.contract_address as Address);
  const recordedLogs = await chain.getContractEvents({ address: addresses, abi: campaignAbi, eventName: 'InvestmentRecorded', fromBlock });
  const refundedLogs = await chain.getContractEvents({ address: addresses, abi: campaignAbi, eventName: 'InvestmentRefunded', fromBlock });
  const mintedLogs = await chain.getContractEvents({ address: deployed.ShareCertificate!.address, abi: shareCertificateAbi, eventName: 'CertificateMinted', fromBlock });
  const recordedBy = count(recordedLogs, (e) => lower(e.args.investmentReference));
  const refundedBy = count(refundedLogs, (e) => lower(e.args.investmentReference));
  const mintedBy = count(mintedLogs, (e) => lower(e.args.investmentReference));
  expect(recordedLogs).toHaveLength(investments.length);
  for (const v of investments) {
    const recorded = recordedLogs.find((e) => lower(e.args.investmentReference) === v.reference);
    expect(recordedBy.get(v.reference), `InvestmentRecorded logs of investment ${v.id}`).toBe(1);
    expect(lower(recorded!.address)).toBe(v.contract_address);
    expect(String(recorded!.args.amount)).toBe(v.amount);
    expect(v.transaction_hash).toBe(recorded!.transactionHash);
    if (outcome.get(v.campaign_id) === 'successful') {
      expect(v.state, `investment ${v.id}`).toBe('certified');
      expect(mintedBy.get(v.reference), `CertificateMinted logs of investment ${v.id}`).toBe(1);
      expect(refundedBy.get(v.reference)).toBeUndefined();
      const minted = mintedLogs.find((e) => lower(e.args.investmentReference) === v.reference)!;
      expect(v.certificate_token_id).toBe(String(minted.args.tokenId));
      expect(lower(await chain.readContract({ address: deployed.ShareCertificate!.address, abi: shareCertificateAbi, functionName: 'ownerOf', args: [minted.args.tokenId!] }))).toBe(v.wallet);
    } else {
      expect(v.state, `investment ${v.id}`).toBe('refunded');
      expect(refundedBy.get(v.reference), `InvestmentRefunded logs of investment ${v.id}`).toBe(1);
      expect(mintedBy.get(v.reference)).toBeUndefined();
      expect(v.refund_transaction).toBe(refundedLogs.find((e) => lower(e.args.investmentReference) === v.reference)!.transactionHash);
    }
  }
  const successful = investments.filter((v) => outcome.get(v.campaign_id) === 'successful');
  expect(mintedLogs).toHaveLength(successful.length);
  expect(refundedLogs).toHaveLength(investments.length - successful.length);
  // The certificate rows (from Transfer events) are the chain's tokens, one per certified investment.
  const { rows: certificates } = await pool.query<{ token_id: string; owner: string; investment_reference: string }>('select token_id::text, owner, investment_reference from nft_share_certificates order by token_id');
  expect(certificates.map((c) => [c.token_id, c.owner, c.investment_reference]).sort()).toEqual(
    successful.map((v) => [v.certificate_token_id, v.wallet, v.reference]).sort(),
  );

  // The relayer: one intent per step of each object, and no intent's call mined twice.
  const { rows: intents } = await pool.query<{ key: string; kind: string; state: string; transaction_id: string | null; mined: string; signed: string }>(
    `select i.idempotency_key as key, i.kind, i.state, i.transaction_id,
       (select count(*) from relayer_transactions t where t.intent_id = i.id and t.status = 'mined')::text as mined,
       (select count(*) from relayer_transactions t where t.intent_id = i.id)::text as signed
     from relayer_intents i order by i.id`,
  );
  const kinds = count(intents, (i) => i.kind);
  expect(Object.fromEntries([...kinds.entries()].filter(([kind]) => kind !== 'issuer.finalize'))).toEqual({
    'issuer.registerIssuer': ctx.companies.length,
    'issuer.verifyInvestor': INVESTORS,
    'issuer.createCampaign': campaignRows.length,
    'issuer.recordInvestment': investments.length,
    'issuer.mint': successful.length,
    'issuer.refund': investments.length - successful.length,
  });
  for (const intent of intents) {
    // A confirmed intent's call was mined exactly once, in the transaction it names; a failed one
    // (a finalize too early by the chain's clock) at most once.
    if (intent.state === 'confirmed') {
      expect(intent.mined, `mined transactions of ${intent.key} (${intent.signed} signed)`).toBe('1');
      const { rows } = await pool.query<{ id: string }>(`select t.id from relayer_transactions t join relayer_intents i on i.id = t.intent_id where i.idempotency_key = $1 and t.status = 'mined'`, [intent.key]);
      expect(rows[0]!.id).toBe(intent.transaction_id);
    } else {
      expect(intent.state).toBe('failed');
      expect(intent.kind, `failed intent ${intent.key}`).toBe('issuer.finalize');
      expect(Number(intent.mined)).toBeLessThanOrEqual(1);
    }
  }
  expect(intents.filter((i) => i.kind === 'issuer.finalize' && i.state === 'confirmed')).toHaveLength(campaignRows.length);
  // Every transaction of the platform's account since the deployment is one the relayer signed and
  // recorded as mined: nothing was sent that the outbox does not know of.
  const { rows: mined } = await pool.query<{ n: string }>(`select count(*)::text as n from relayer_transactions where status = 'mined' and signer = $1`, [platform.toLowerCase()]);
  expect((await chain.getTransactionCount({ address: platform })) - ctx.noncesBefore).toBe(Number(mined[0]!.n));

  // The audit log: each object went through each of its states once; a campaign reopened
  // (finalize too early) goes to closing once more per reopening, and back to active as often.
  const { rows: audit } = await pool.query<{ entity: string; entity_id: string; to_state: string; n: number }>(
    'select entity, entity_id::text, to_state, count(*)::int as n from issuer_audit_log group by entity, entity_id, to_state',
  );
  for (const row of audit) {
    if (row.entity === 'campaign' && (row.to_state === 'active' || row.to_state === 'closing')) {
      const other = audit.find((a) => a.entity === 'campaign' && a.entity_id === row.entity_id && a.to_state === (row.to_state === 'active' ? 'closing' : 'active'))!;
      expect(row.n, `campaign ${row.entity_id}: to active as often as to closing`).toBe(other.n);
    } else {
      expect(row.n, `${row.entity} ${row.entity_id} to ${row.to_state}`).toBe(1);
    }
  }
  const paths = await pool.query<{ entity: string; entity_id: string; path: string }>(
    `select entity, entity_id::text, string_agg(to_state, ' ' order by id) as path from issuer_audit_log group by entity, entity_id`,
  );
  const pathOf = (entity: string, id: string) => paths.rows.find((p) => p.entity === entity && p.entity_id === id)!.path;
  for (const v of investments) {
    const end = outcome.get(v.campaign_id) === 'successful' ? 'certified' : 'refunded';
    expect([`recording recorded ${end}`, `held recording recorded ${end}`]).toContain(pathOf('investment', v.id));
  }
  for (const c of campaignRows) {
    const end = outcome.get(c.id) === 'successful' ? 'successful certificates_issued' : 'failed refunding refunded';
    expect(pathOf('campaign', c.id).replace(/( active closing)+/, ' active closing')).toBe(`draft submitted approved deploying active closing ${end}`);
  }
}
