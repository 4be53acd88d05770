import { describe, expect, it } from 'vitest';
import { issuerWorld } from '../../harness/issuer-world.js';
import { until } from '../../harness/until.js';
import { expectOneContract, onChain, submittedCampaign } from './deploy-failures.js';

/**
 * What goes wrong on the chain side of a campaign's deployment, with the real stack (here: a
 * revert; failures-timeout.test.ts: a node that stops answering). Whatever happens, the campaign
 * ends active at its reference's one contract, and the audit says how.
 */
describe('issuer campaign deployment failures', () => {
  it('a deployment that reverts (issuer revoked on chain) goes back to approved with the reason; after an outside fix, retry-deploy makes it active', async () => {
    const w = await issuerWorld({ blockTime: 1, finality: 2 });
    await w.deploy();
    const chain = onChain(w);
    await chain.registrarForTests();
    await w.start();
    const c = await submittedCampaign(w);

    await chain.revokeIssuer(c.wallet);
    const approved = await w.http('POST', `/api/campaigns/${c.id}/approve`, c.keys.officer, { reason: 'prospectus checked' });
    expect(approved.body.state).toBe('deploying');
    const failed = await until(async () => {
      const now = await c.campaign();
      return now.state === 'approved' && now.state_reason ? now : undefined;
    }, 'the deployment to fail', 60_000);
    expect(failed.state_reason).toMatch(/^deploy_failed: IssuerNotRegistered/);
    expect(failed.contract_address).toBeNull();
    expect(await chain.campaignOf(c.reference)).toBe('0x0000000000000000000000000000000000000000');

    // Retrying before the fix would fail the same way; the registrar fixes it on chain, then the officer retries.
    await chain.registerIssuer(c.wallet, c.vcHash);
    const retried = await w.http('POST', `/api/campaigns/${c.id}/retry-deploy`, c.keys.officer);
    expect(retried.status).toBe(202);
    expect(retried.body.state).toBe('deploying');
    await expectOneContract(w, chain, c);

    const audit = await c.audit();
    expect(audit.map((e) => e.to_state)).toEqual(['draft', 'submitted', 'approved', 'deploying', 'approved', 'deploying', 'active']);
    expect(audit[4]).toMatchObject({ from_state: 'deploying', actor: 'chain' });
    expect(audit[4]!.reason).toMatch(/^deploy_failed: IssuerNotRegistered/);
    expect(audit[5]).toMatchObject({ from_state: 'approved', reason: 'attempt 2' });
    // A second retry of an active campaign is refused.
    expect((await w.http('POST', `/api/campaigns/${c.id}/retry-deploy`, c.keys.officer)).status).toBe(409);
  }, 240_000);

});
