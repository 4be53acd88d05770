import { describe, expect, it, onTestFinished } from 'vitest';
import type { AddressInfo } from 'node:net';
import { keccak256, toHex } from 'viem';
import { buildServer } from '../../../src/http/server.js';
import { createLogger } from '../../../src/runtime/logger.js';
import { createApiKey, revokeApiKey } from '../../../src/http/api-keys.js';
import { intentRoutes } from '../../../src/core/relayer/routes.js';
import { appContextFor, deploymentOutbox } from '../../../src/wiring/roles.js';
import type { EvmChain } from '../../../src/chain/evm/chain.js';
import { issuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';
import { httpClient } from '../../harness/http-client.js';
import { fireGeneratedRequests, routesOf, type RouteUnderTest } from '../../harness/generated-requests.js';

const hash = (text: string) => keccak256(toHex(text));
const wallet = (n: number) => `0x${(0x3000 + n).toString(16).padStart(40, '0')}`;
type Row = Record<string, unknown>;

/**
 * The issuer platform's API as `ledgersync api` serves it (the engine's intent
 * routes and the app's, the review page included), over the running indexer and
 * worker, a deployed chain and a database holding each kind of object in a
 * state its actions apply to; generated requests under every role's key.
 */
async function servedIssuerApi() {
  const w = await issuerWorld({ blockTime: 1, finality: 1 });
  await w.deploy();
  await w.start(['indexer', 'worker']);
  const stack = w.stack();
  const pool = stack.database.pool;
  const routes: RouteUnderTest[] = [];
  const context = appContextFor({
    pool,
    logger: createLogger('silent'),
    chains: [...stack.chains.values()].filter((c): c is EvmChain => c.family === 'evm'),
    deploymentsFile: stack.config.deploymentsFile,
    outbox: await deploymentOutbox(stack),
    rateLimitPerKey: 1_000_000,
  });
  const server = await buildServer({
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    readiness: [],
    version: 'test',
    rateLimitPerIp: 1_000_000,
    onRoute: (route) => routes.push(...routesOf(route)),
    routes: [(app) => intentRoutes(app, pool), ...stack.project.apps.map((a) => (app: Parameters<NonNullable<typeof a.routes>>[0]) => a.routes!(app, context(app)))],
  });
  onTestFinished(() => server.close());
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const http = async (method: string, path: string, key: string, body?: unknown): Promise<Row> => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const answer = (await res.json()) as Row;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(answer)}`);
    return answer;
  };

  // Each object in a state its actions apply to: registered companies, verified investors, an active
  // campaign with a recorded and a held investment, a submitted campaign, a draft.
  const admin = (await createApiKey(pool, { roles: ['admin'] }, 'admin')).key;
  const officer = (await createApiKey(pool, { roles: ['issuer.compliance'] }, 'officer')).key;
  const companies: string[] = [];
  for (const n of [1, 2, 3]) companies.push(String((await http('POST', '/api/companies', officer, { name: `Company ${n}`, wallet: wallet(n), vcHash: hash(`vc ${n}`), vcIssuer: 'did:web:registry.example' })).id));
  const investors: string[] = [];
  for (const n of [1, 2]) investors.push(String((await http('POST', '/api/investors', officer, { name: `Investor ${n}`, wallet: wallet(100 + n), country: 'ES', claimHash: hash(`kyc ${n}`), claimIssuer: 'did:web:kyc.example' })).id));
  for (const id of companies) await until(async () => (await http('GET', `/api/companies/${id}`, officer)).state === 'registered', `company ${id} registered`, 30_000);
  const companyKeys = await Promise.all(companies.map(async (id) => (await createApiKey(pool, { roles: ['issuer.company'], scope: { company: id } }, `company ${id}`)).key));
  const investorKeys = await Promise.all(investors.map(async (id) => (await createApiKey(pool, { roles: ['issuer.investor'], scope: { investor: id } }, `investor ${id}`)).key));
  const deadline = new Date(Date.now() + 3_600_000).toISOString();
  const active = await http('POST', '/api/campaigns', companyKeys[0]!, { title: 'Active', target: '100000', minimum: '1000', deadline });
  await http('POST', `/api/campaigns/${active.id}/submit`, companyKeys[0]!);
  await http('POST', `/api/campaigns/${active.id}/approve`, officer, { reason: 'fine' });
  await until(async () => (await http('GET', `/api/campaigns/${active.id}`, officer)).state === 'active', 'the campaign active', 30_000);
  for (const id of investors) await until(async () => (await http('GET', `/api/investors/${id}`, officer)).state === 'verified', `investor ${id} verified`, 30_000);
  await http('POST', `/api/campaigns/${active.id}/investments`, investorKeys[0]!, { amount: '500' });
  await http('POST', `/api/campaigns/${active.id}/investments`, investorKeys[1]!, { amount: '6000' });
  const submitted = await http('POST', '/api/campaigns', companyKeys[1]!, { title: 'Submitted', target: '5000', minimum: '100', deadline });
  await http('POST', `/api/campaigns/${submitted.id}/submit`, companyKeys[1]!);
  await http('POST', '/api/campaigns', companyKeys[2]!, { title: 'Draft', target: '5000', minimum: '100', deadline });

  // Keys that do nothing here: revoked, another app's role, a company that does not exist.
  const revoked = await createApiKey(pool, { roles: ['issuer.compliance'] }, 'former officer');
  await revokeApiKey(pool, revoked.id);
  const foreign = (await createApiKey(pool, { roles: ['credentials.institution'], scope: { institution: wallet(9) } }, 'another app')).key;
  const phantom = (await createApiKey(pool, { roles: ['issuer.company'], scope: { company: '999' } }, 'no such company')).key;
  return {
    port,
    routes,
    known: {
      ids: ['1', '2', '3', '4'],
      addresses: [wallet(1), wallet(101), wallet(102)],
      fingerprints: [hash('vc 1'), hash('kyc 1')],
      keys: [admin, officer, ...companyKeys, ...investorKeys],
      refusedKeys: [revoked.key, foreign, phantom],
    },
  };
}

describe('issuer API: no input produces a 5xx, and every error is problem+json', () => {
  it('answers generated requests over every issuer route, under every role, without a 5xx', { timeout: 400_000 }, async () => {
    const api = await servedIssuerApi();
    const client = httpClient(api.port, 16);
    onTestFinished(() => client.close());
    const started = Date.now();
    const { sent, tried } = await fireGeneratedRequests(client, api.routes, api.known, Number(process.env.ISSUER_NO_5XX_RUNS ?? 320));

    console.log(`${sent} generated requests over ${tried.size} routes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect([...tried].filter(([, count]) => count === 0).map(([route]) => route)).toEqual([]);
    // The app's routes as registered, each of them tried.
    expect([...tried.keys()]).toEqual(
      expect.arrayContaining([
        'POST /api/companies',
        'POST /api/campaigns/:id/approve',
        'POST /api/investments/:id/release',
        'POST /api/campaigns/:id/investments',
        'GET /api/review-queue',
        'GET /api/audit',
        'GET /review',
      ]),
    );
  });
});
