import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PoolClient } from 'pg';
import { z } from 'zod';
import { problemSchema, requireKey, routeSchema, storableText, type AppContext } from '../../engine/index.js';
import { registerCompany, retryRegistration } from './companies.js';
import { verifyInvestor } from './investors.js';
import { approveCampaign, createCampaign, deployCampaign, rejectCampaign, submitCampaign, withdrawCampaign } from './campaigns.js';
import { invest, rejectInvestment, releaseInvestment } from './investments.js';
import {
  Refusal,
  act,
  address,
  amount,
  bytes32,
  companyOf,
  decisionBody,
  id,
  idParams,
  investorOf,
  isAdmin,
  isOfficer,
  page,
  requireOfficer,
} from './http.js';
import { CAMPAIGN, CERTIFICATE, COMPANY, INVESTMENT, INVESTOR, VC_LINK, one } from './views.js';
import type { IssuerSettings } from './settings.js';

const companyBody = z
  .object({ name: storableText(200, 1), wallet: address, vcHash: bytes32, vcIssuer: storableText(200, 1), ipfsHash: storableText(200).default('') })
  .strict();
const investorBody = z
  .object({
    name: storableText(200, 1),
    wallet: address,
    country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as ES'),
    claimHash: bytes32,
    claimIssuer: storableText(200, 1),
    periodLimit: amount.optional(),
  })
  .strict();
const campaignBody = z
  .object({
    companyId: id.optional().describe("admin keys name the company; a company user's key speaks for its own"),
    title: storableText(200, 1),
    target: amount,
    minimum: amount,
    deadline: z.iso.datetime({ offset: true }).describe('when the campaign closes to investments (ISO 8601)'),
  })
  .strict()
  .refine((b) => BigInt(b.minimum) <= BigInt(b.target), { message: 'minimum must not exceed target', path: ['minimum'] })
  .refine((b) => Date.parse(b.deadline) > Date.now(), { message: 'deadline must be in the future', path: ['deadline'] })
  .refine((b) => Date.parse(b.deadline) < Date.UTC(2106, 0, 1), { message: 'deadline must be before 2106 (a uint64 of seconds, as a date PostgreSQL stores)', path: ['deadline'] });
const investBody = z.object({ amount, investorId: id.optional().describe("admin keys name the investor; an investor's key invests for itself") }).strict();
const amlBody = z
  .object({
    riskFlags: z.array(storableText(60, 1)).max(20).optional(),
    reviewStatus: z.enum(['clear', 'watch', 'blocked']).optional(),
    periodLimit: amount.nullable().optional().describe('null: the configured default'),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of riskFlags, reviewStatus, periodLimit' });
// storableText: a NUL or a lone surrogate in the filter would be a PostgreSQL error (a 500), not an empty page.
const campaignsQuery = page.extend({ state: storableText(40).optional() });
const auditQuery = page.extend({ entity: z.enum(['company', 'investor', 'campaign', 'investment']).optional(), entityId: id.optional() });

/** Campaigns an investor may see: open to investment, or past it. */
const PUBLIC_STATES = ['active', 'closing', 'successful', 'certificates_issued', 'failed', 'refunding', 'refunded'];

const tags = ['issuer'];
const security = [{ apiKey: [] }];
// Bodies are the rows the views select; the OpenAPI document names their statuses.
const rowBody = { type: 'object', additionalProperties: true };
const problems = { 200: rowBody, 201: rowBody, 202: rowBody, 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema, 503: problemSchema };

/**
 * The issuer platform's REST API (OpenAPI at /docs). Every action is one
 * PostgreSQL transaction with its outbox intents; the chain's answer comes back
 * through the intent handlers and the projections, and shows in the objects' state.
 */
export async function issuerRoutes(app: FastifyInstance, context: AppContext, settings: IssuerSettings): Promise<void> {
  const { pool, outbox } = context;
  const chain = settings.chain;
  const authenticated = requireKey(pool);
  const route = (summary: string, extra: Record<string, unknown> = {}) => ({ preHandler: [authenticated], schema: { summary, tags, security, response: problems, ...extra } });

  // Officers see every campaign, a company its own, an investor those that are (or were) open to investment.
  const campaignVisible = async (request: FastifyRequest, campaignId: string) => {
    const campaign = await one<Record<string, unknown> & { company_id: string; state: string }>(pool, CAMPAIGN, 'c.id = $2', [chain, campaignId]);
    if (!campaign) throw new Refusal(404, `campaign ${campaignId} does not exist`);
    if (isOfficer(request) || companyOf(request) === campaign.company_id) return campaign;
    if (investorOf(request) !== undefined && PUBLIC_STATES.includes(campaign.state)) return campaign;
    throw new Refusal(403, `campaign ${campaignId} is not visible to this key`);
  };
  const ownCompany = (request: FastifyRequest, companyId: string | undefined) => {
    if (isAdmin(request)) {
      if (!companyId) throw new Refusal(422, 'an admin key must name the company (companyId)');
      return companyId;
    }
    const own = companyOf(request);
    if (!own) throw new Refusal(403, "opening a campaign needs a company user's key (or an admin key)");
    if (companyId && companyId !== own) throw new Refusal(403, `this key speaks for company ${own}, not ${companyId}`);
    return own;
  };

  // Companies ------------------------------------------------------------------------------------

  app.post('/api/companies', route('Register a company: registered as an issuer on chain (officer)', { body: routeSchema(companyBody) }), async (request, reply) => {
    requireOfficer(request);
    const body = companyBody.parse(request.body);
    const companyId = await act(pool, request, (client) => registerCompany(client, outbox, settings, body, `key:${request.apiKey!.keyId}`));
    return reply.code(201).header('location', `/api/companies/${companyId}`).send(await one(pool, COMPANY, 'c.id = $2', [chain, companyId]));
  });

  app.get('/api/companies', route('Companies (officer)', { querystring: routeSchema(page) }), async (request) => {
    requireOfficer(request);
    const q = page.parse(request.query);
    const { rows } = await pool.query(`${COMPANY} where c.id > $2 order by c.id limit $3`, [chain, q.cursor ?? '0', q.limit]);
    return { companies: rows, nextCursor: rows.length === q.limit ? rows.at(-1)!.id : null };
  });

  app.get('/api/companies/:id', route('A company and its registration on chain', { params: routeSchema(idParams) }), async (request) => {
    const { id: companyId } = idParams.parse(request.params);
    if (!isOfficer(request) && companyOf(request) !== companyId) throw new Refusal(403, 'a company is visible to its own users and to officers');
    const company = await one(pool, COMPANY, 'c.id = $2', [chain, companyId]);
    if (!company) throw new Refusal(404, `company ${companyId} does not exist`);
    return { ...company, credentials: (await pool.query(`${VC_LINK} where l.company_id = $1 order by l.id`, [companyId])).rows };
  });

  /** A failed chain write sent again (officer): 202 with the object, 409 when it is not in the state a retry starts from. */
  const retryAction = (path: string, summary: string, what: 'company' | 'campaign', view: string, run: (client: PoolClient, id: bigint) => Promise<boolean>, only: string) =>
    app.post(path, route(summary, { params: routeSchema(idParams) }), async (request, reply) => {
      requireOfficer(request);
      const { id: targetId } = idParams.parse(request.params);
      const retried = await act(pool, request, (client) => run(client, BigInt(targetId)));
      const now = await one<{ state: string }>(pool, view, 'c.id = $2', [chain, targetId]);
      if (!now) throw new Refusal(404, `${what} ${targetId} does not exist`);
      if (!retried) throw new Refusal(409, `${what} ${targetId} is ${now.state}: ${only}`);
      return reply.code(202).send(now);
    });
  retryAction('/api/companies/:id/retry-registration', 'Retry a failed registration on chain (officer)', 'company', COMPANY, (client, c) => retryRegistration(client, outbox, settings, c), 'only a failed registration is retried');

  // Investors ------------------------------------------------------------------------------------

  app.post('/api/investors', route('Onboard an investor: verified in the investor registry on chain (officer)', { body: routeSchema(investorBody) }), async (request, reply) => {
    requireOfficer(request);
    const body = investorBody.parse(request.body);
    const input = { ...body, periodLimit: body.periodLimit === undefined ? undefined : BigInt(body.periodLimit) };
    const investorId = await act(pool, request, (client) => verifyInvestor(client, outbox, settings, input, `key:${request.apiKey!.keyId}`));
    return reply.code(201).header('location', `/api/investors/${investorId}`).send(await one(pool, INVESTOR, 'i.id = $2', [chain, investorId]));
  });

  app.get('/api/investors/:id', route('An investor, their AML fields, credential links and verification on chain', { params: routeSchema(idParams) }), async (request) => {
    const { id: investorId } = idParams.parse(request.params);
    if (!isOfficer(request) && investorOf(request) !== investorId) throw new Refusal(403, 'an investor is visible to themselves and to officers');
    const investor = await one(pool, INVESTOR, 'i.id = $2', [chain, investorId]);
    if (!investor) throw new Refusal(404, `investor ${investorId} does not exist`);
    return { ...investor, credentials: (await pool.query(`${VC_LINK} where l.investor_id = $1 order by l.id`, [investorId])).rows };
  });

  app.post('/api/investors/:id/aml', route("Set an investor's AML fields: risk flags, review status, own limit per period (officer)", { params: routeSchema(idParams), body: routeSchema(amlBody) }), async (request) => {
    requireOfficer(request);
    const { id: investorId } = idParams.parse(request.params);
    const body = amlBody.parse(request.body);
    const { rowCount } = await pool.query(
      `update investors set risk_flags = coalesce($2, risk_flags), review_status = coalesce($3, review_status),
         period_limit = case when $4 then $5::numeric else period_limit end where id = $1`,
      [investorId, body.riskFlags ?? null, body.reviewStatus ?? null, body.periodLimit !== undefined, body.periodLimit ?? null],
    );
    if (rowCount === 0) throw new Refusal(404, `investor ${investorId} does not exist`);
    return one(pool, INVESTOR, 'i.id = $2', [chain, investorId]);
  });

  // Campaigns ------------------------------------------------------------------------------------

  app.post('/api/campaigns', route('Open a campaign as a draft (company user; one open and one per calendar year per company)', { body: routeSchema(campaignBody) }), async (request, reply) => {
    const body = campaignBody.parse(request.body);
    const companyId = ownCompany(request, body.companyId);
    const input = { companyId: BigInt(companyId), title: body.title, target: BigInt(body.target), minimum: BigInt(body.minimum), deadline: new Date(body.deadline) };
    const campaignId = await act(pool, request, async (client) => {
      const { rows } = await client.query<{ state: string }>('select state from companies where id = $1', [companyId]);
      if (!rows[0]) throw new Refusal(404, `company ${companyId} does not exist`);
      if (rows[0].state !== 'registered') throw new Refusal(409, `company ${companyId} is ${rows[0].state}: it must be registered as an issuer first`);
      return createCampaign(client, input, `key:${request.apiKey!.keyId}`);
    });
    return reply.code(201).header('location', `/api/campaigns/${campaignId}`).send(await one(pool, CAMPAIGN, 'c.id = $2', [chain, campaignId]));
  });

  app.get('/api/campaigns', route('Campaigns with their state and chain address (a company user sees its own, an investor those open or past)', { querystring: routeSchema(campaignsQuery) }), async (request) => {
    const q = campaignsQuery.parse(request.query);
    const company = isOfficer(request) ? null : (companyOf(request) ?? '0');
    const publicOnly = investorOf(request) !== undefined && !isOfficer(request);
    const { rows } = await pool.query(
      `${CAMPAIGN} where c.id > $2 and ($3::text is null or c.state = $3)
         and ($6 and c.state = any($7::text[]) or not $6 and ($4::bigint is null or c.company_id = $4)) order by c.id limit $5`,
      [chain, q.cursor ?? '0', q.state ?? null, company, q.limit, publicOnly, PUBLIC_STATES],
    );
    return { campaigns: rows, nextCursor: rows.length === q.limit ? rows.at(-1)!.id : null };
  });

  app.get('/api/campaigns/:id', route('A campaign: state, reason, chain address, and what the chain says', { params: routeSchema(idParams) }), async (request) => {
    const { id: campaignId } = idParams.parse(request.params);
    const campaign = await campaignVisible(request, campaignId);
    const approvals = await pool.query(
      'select a.id::text, a.decision, a.reason, a.officer, a.decided_at from compliance_approvals a where a.campaign_id = $1 order by a.id',
      [campaignId],
    );
    return { ...campaign, approvals: approvals.rows };
  });

  const companyAction = (path: string, summary: string, run: (client: PoolClient, campaignId: bigint) => Promise<boolean>, from: string) =>
    app.post(path, route(summary, { params: routeSchema(idParams) }), async (request) => {
      const { id: campaignId } = idParams.parse(request.params);
      const campaign = await campaignVisible(request, campaignId);
      if (!isAdmin(request) && companyOf(request) !== campaign.company_id) throw new Refusal(403, "this needs the company's own key (or an admin key)");
      const moved = await act(pool, request, (client) => run(client, BigInt(campaignId)));
      const now = await one<{ state: string }>(pool, CAMPAIGN, 'c.id = $2', [chain, campaignId]);
      if (!moved) throw new Refusal(409, `campaign ${campaignId} is ${now!.state}, not ${from}`);
      return now;
    });
  companyAction('/api/campaigns/:id/submit', 'Submit a draft for compliance review', submitCampaign, 'draft');
  companyAction('/api/campaigns/:id/withdraw', 'Withdraw a draft', (client, campaignId) => withdrawCampaign(client, campaignId, 'withdrawn by the company'), 'draft');

  const officerAction = (path: string, summary: string, from: string, run: (client: PoolClient, target: bigint, officer: string, reason: string) => Promise<boolean>, view: 'campaign' | 'investment') =>
    app.post(path, route(summary, { params: routeSchema(idParams), body: routeSchema(decisionBody) }), async (request) => {
      requireOfficer(request);
      const { id: targetId } = idParams.parse(request.params);
      const { reason } = decisionBody.parse(request.body);
      const moved = await act(pool, request, (client) => run(client, BigInt(targetId), `key:${request.apiKey!.keyId}`, reason));
      const now = view === 'campaign' ? await one<{ state: string }>(pool, CAMPAIGN, 'c.id = $2', [chain, targetId]) : await one<{ state: string }>(pool, INVESTMENT, 'v.id = $1', [targetId]);
      if (!now) throw new Refusal(404, `${view} ${targetId} does not exist`);
      if (!moved) throw new Refusal(409, `${view} ${targetId} is ${now.state}, not ${from}`);
      return now;
    });
  officerAction('/api/campaigns/:id/approve', 'Approve a submitted campaign and deploy it (officer; reason recorded)', 'submitted', (client, c, officer, reason) => approveCampaign(client, outbox, settings, c, officer, reason), 'campaign');
  officerAction('/api/campaigns/:id/reject', 'Reject a submitted campaign (officer; reason recorded)', 'submitted', rejectCampaign, 'campaign');
  officerAction('/api/investments/:id/release', 'Release an investment held by the AML check: it is recorded on chain (officer)', 'held', (client, v, officer, reason) => releaseInvestment(client, outbox, settings, v, officer, reason), 'investment');
  officerAction('/api/investments/:id/reject', 'Reject an investment held by the AML check (officer)', 'held', rejectInvestment, 'investment');

  retryAction('/api/campaigns/:id/retry-deploy', 'Deploy again after a failed or timed-out deployment (officer)', 'campaign', CAMPAIGN, (client, c) => deployCampaign(client, outbox, settings, c), 'only an approved campaign is deployed');

  // Investments ----------------------------------------------------------------------------------

  app.post(
    '/api/campaigns/:id/investments',
    route('Invest (investor key, or admin naming the investor): AML-checked, then recorded on chain or held for review', { params: routeSchema(idParams), body: routeSchema(investBody) }),
    async (request, reply) => {
      const { id: campaignId } = idParams.parse(request.params);
      const body = investBody.parse(request.body);
      const investorId = isAdmin(request) ? body.investorId : investorOf(request);
      if (!investorId) throw new Refusal(isAdmin(request) ? 422 : 403, isAdmin(request) ? 'an admin key must name the investor (investorId)' : "investing needs an investor's key (or an admin key)");
      if (!isAdmin(request) && body.investorId && body.investorId !== investorId) throw new Refusal(403, `this key invests for investor ${investorId}, not ${body.investorId}`);
      const key = request.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' && key.length > 0 ? key.slice(0, 200) : undefined;
      const outcome = await act(pool, request, (client) =>
        invest(client, outbox, settings, { campaignId: BigInt(campaignId), investorId: BigInt(investorId), amount: BigInt(body.amount), idempotencyKey }, `key:${request.apiKey!.keyId}`),
      );
      if (outcome.kind === 'refused') throw new Refusal(outcome.status, outcome.detail);
      const investment = await one(pool, INVESTMENT, 'v.id = $1', [outcome.id]);
      return reply.code(outcome.kind === 'created' ? 201 : 200).header('location', `/api/investments/${outcome.id}`).send(investment);
    },
  );

  app.get('/api/campaigns/:id/investments', route("A campaign's investments", { params: routeSchema(idParams), querystring: routeSchema(page) }), async (request) => {
    const { id: campaignId } = idParams.parse(request.params);
    const q = page.parse(request.query);
    await campaignVisible(request, campaignId);
    // An investor sees only their own investments; officers and the campaign's company see all.
    const onlyInvestor = isOfficer(request) ? null : (investorOf(request) ?? null);
    const { rows } = await pool.query(
      `${INVESTMENT} where v.campaign_id = $1 and v.id > $2 and ($4::bigint is null or v.investor_id = $4) order by v.id limit $3`,
      [campaignId, q.cursor ?? '0', q.limit, onlyInvestor],
    );
    return { investments: rows, nextCursor: rows.length === q.limit ? rows.at(-1)!.id : null };
  });

  app.get('/api/investments/:id', route('An investment: state, AML review, transaction hash, certificate', { params: routeSchema(idParams) }), async (request) => {
    const { id: investmentId } = idParams.parse(request.params);
    const investment = await one<{ investor_id: string; campaign_id: string }>(pool, INVESTMENT, 'v.id = $1', [investmentId]);
    if (!investment) throw new Refusal(404, `investment ${investmentId} does not exist`);
    if (investorOf(request) !== investment.investor_id) {
      const campaign = await campaignVisible(request, investment.campaign_id);
      if (!isOfficer(request) && companyOf(request) !== campaign.company_id) throw new Refusal(403, `investment ${investmentId} is another investor's`);
    }
    return investment;
  });

  app.get('/api/campaigns/:id/certificates', route("A campaign's share certificates, as the chain's Transfer events made them", { params: routeSchema(idParams) }), async (request) => {
    const { id: campaignId } = idParams.parse(request.params);
    await campaignVisible(request, campaignId);
    const { rows } = await pool.query(`${CERTIFICATE} join campaigns c on c.contract_address = n.campaign where n.chain = $1 and c.id = $2 order by n.minted_block, n.token_id`, [chain, campaignId]);
    return { certificates: rows };
  });

  // Compliance -----------------------------------------------------------------------------------

  app.get('/api/review-queue', route('What waits for a compliance officer: submitted campaigns and investments held by AML (officer)'), async (request) => {
    requireOfficer(request);
    const campaigns = await pool.query(`${CAMPAIGN} where c.state = 'submitted' order by c.id limit 500`, [chain]);
    const investments = await pool.query(`${INVESTMENT} where v.state = 'held' order by v.id limit 500`);
    return { campaigns: campaigns.rows, investments: investments.rows };
  });

  app.get('/api/approvals', route("Compliance officers' decisions, newest first (officer)", { querystring: routeSchema(page) }), async (request) => {
    requireOfficer(request);
    const q = page.parse(request.query);
    const { rows } = await pool.query(
      `select a.id::text, a.campaign_id::text, a.investment_id::text, a.decision, a.reason, a.officer, a.decided_at from compliance_approvals a
       where ($1::bigint is null or a.id < $1) order by a.id desc limit $2`,
      [q.cursor ?? null, q.limit],
    );
    return { approvals: rows, nextCursor: rows.length === q.limit ? rows.at(-1)!.id : null };
  });

  app.get('/api/audit', route('The audit log of every transition, newest first (officer)', { querystring: routeSchema(auditQuery) }), async (request) => {
    requireOfficer(request);
    const q = auditQuery.parse(request.query);
    const { rows } = await pool.query(
      `select l.id::text, l.entity, l.entity_id::text, l.from_state, l.to_state, l.reason, l.actor, l.at from issuer_audit_log l
       where ($1::bigint is null or l.id < $1) and ($2::text is null or l.entity = $2) and ($3::bigint is null or l.entity_id = $3)
       order by l.id desc limit $4`,
      [q.cursor ?? null, q.entity ?? null, q.entityId ?? null, q.limit],
    );
    return { entries: rows, nextCursor: rows.length === q.limit ? rows.at(-1)!.id : null };
  });
}
