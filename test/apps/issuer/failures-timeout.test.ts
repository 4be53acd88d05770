import { describe, expect, it } from 'vitest';
import { issuerWorld } from '../../harness/issuer-world.js';
import { startRpcProxy, type RpcProxy } from '../../harness/rpc-proxy.js';
import { until } from '../../harness/until.js';
import { expectOneContract, onChain, submittedCampaign, type Campaign } from './deploy-failures.js';

/** A campaign's deployment meets a node that stops answering (see failures.test.ts). */
describe('issuer campaign deployment failures', () => {
  it('a node that takes the deployment but never answers: the campaign times out back to approved; healed and retried, it ends active with exactly one contract', async () => {
    let proxy: RpcProxy | undefined;
    const w = await issuerWorld({
      blockTime: 1,
      finality: 2,
      deployTimeoutSeconds: 8,
      rpcUrl: async (anvil) => (proxy = await startRpcProxy(anvil.rpcUrl)).url,
    });
    try {
      await w.deploy();
      await w.start();
      const chain = onChain(w);
      const c = await submittedCampaign(w);

      // The node takes the transaction (forwarded to anvil, which mines it) but its answer is lost...
      proxy!.setPlan({ swallowReplies: ['eth_sendRawTransaction'], timeoutMs: 60_000 });
      expect((await w.http('POST', `/api/campaigns/${c.id}/approve`, c.keys.officer, { reason: 'prospectus checked' })).body.state).toBe('deploying');
      await until(() => (proxy!.stats().injected.swallow ?? 0) > 0, 'the deployment sent to the node', 30_000);
      // ...and then it stops answering anything, for longer than the deploy timeout.
      proxy!.setPlan({ timeoutRate: 1, timeoutMs: 60_000 });
      const timedOut = await until(async () => {
        const now = await c.campaign();
        return now.state === 'approved' ? now : undefined;
      }, 'the deployment to time out', 60_000);
      expect(timedOut.state_reason).toMatch(/^deploy_timed_out/);
      // The transaction did land: the platform did not know, and must not deploy a second contract.
      expect((await chain.createdLogs(c.reference)).length).toBe(1);

      proxy!.setPlan({});
      const retried = await w.http<Campaign>('POST', `/api/campaigns/${c.id}/retry-deploy`, c.keys.officer);
      // Either the retry went out (and meets CampaignExists), or the relayer saw the first attempt land first.
      if (retried.status === 409) expect(retried.body.detail).toMatch(/is active/);
      else expect(retried.status).toBe(202);
      await expectOneContract(w, chain, c);

      const audit = await c.audit();
      const states = audit.map((e) => e.to_state);
      expect(states.slice(0, 5)).toEqual(['draft', 'submitted', 'approved', 'deploying', 'approved']);
      expect(audit[4]).toMatchObject({ from_state: 'deploying', actor: 'task:issuer.deployTimeout' });
      expect(states.at(-1)).toBe('active');
      expect(states.filter((s) => s === 'active')).toHaveLength(1);
    } finally {
      await w.stop();
      await proxy?.close();
    }
  }, 240_000);
});
