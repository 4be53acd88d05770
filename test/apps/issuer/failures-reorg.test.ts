import { describe, expect, it } from 'vitest';
import { issuerWorld } from '../../harness/issuer-world.js';
import { startRpcProxy, type RpcProxy } from '../../harness/rpc-proxy.js';
import { until } from '../../harness/until.js';
import { expectOneContract, onChain, submittedCampaign } from './deploy-failures.js';

const ZERO = '0x0000000000000000000000000000000000000000';

/** A campaign's deployment removed by a reorg before it is final (see failures.test.ts). */
describe('issuer campaign deployment failures', () => {
  it('a reorg removes the deployment before it is final: the projection row goes, the campaign stays deploying, the relayer sends again and it ends active at the same address', async () => {
    let proxy: RpcProxy | undefined;
    // Finality 10 at a block a second: the reorg comes well before the deployment is final, even on a loaded machine.
    const w = await issuerWorld({ blockTime: 1, finality: 10, keepStates: 128, rpcUrl: async (anvil) => (proxy = await startRpcProxy(anvil.rpcUrl)).url });
    try {
      await w.deploy();
      await w.start();
      const chain = onChain(w);
      const c = await submittedCampaign(w);
      const projected = async () =>
        (await w.pool().query<{ address: string; created_block: string }>('select address, created_block::text from issuer_chain_campaigns where chain = $1 and reference = $2', ['evm:100', c.reference])).rows;

      expect((await w.http('POST', `/api/campaigns/${c.id}/approve`, c.keys.officer, { reason: 'prospectus checked' })).body.state).toBe('deploying');
      const [row] = await until(async () => {
        const rows = await projected();
        return rows.length > 0 ? rows : undefined;
      }, 'the CampaignCreated row (not yet final)', 60_000);
      // The relayer has seen the inclusion too (not only the indexer): the reorg removes an inclusion it knows of.
      await until(async () => {
        const { rows } = await w.pool().query<{ state: string }>(
          `select i.state from relayer_intents i join campaigns c on c.deploy_intent = i.id where c.id = $1`,
          [c.id],
        );
        return rows[0]?.state === 'included';
      }, 'the relayer to record the deployment as included', 30_000);
      // Hold the relayer's sends, so the gap the reorg leaves stays visible until this test heals the node.
      proxy!.setPlan({ methods: ['eth_sendRawTransaction'], timeoutRate: 1, timeoutMs: 60_000 });
      expect((await c.campaign()).state).toBe('deploying');

      const createdBlock = BigInt(row!.created_block);
      const removed = await chain.client.getBlock({ blockNumber: createdBlock });
      const head = await chain.client.getBlockNumber();
      await chain.client.request({ method: 'anvil_reorg' as never, params: [Number(head - createdBlock + 1n), []] as never });

      // The journal undoes the row; the chain has no contract for the reference; the campaign waits.
      await until(async () => (await projected()).length === 0, 'the projection row undone by the reorg', 30_000);
      expect(await chain.campaignOf(c.reference)).toBe(ZERO);
      expect((await c.campaign()).state).toBe('deploying');

      proxy!.setPlan({});
      const active = await expectOneContract(w, chain, c);
      expect(active.contract_address).toBe(row!.address);
      // Deployed in a block of the new chain, not the removed one.
      const deployedIn = await chain.client.getBlock({ blockNumber: BigInt(String(active.deployed_block)) });
      expect(deployedIn.hash).not.toBe(removed.hash);
      expect((await c.audit()).map((e) => e.to_state)).toEqual(['draft', 'submitted', 'approved', 'deploying', 'active']);
      const intent = await w.pool().query<{ reorgs: number }>('select reorgs from relayer_intents where id = $1', [active.deploy_intent]);
      expect(intent.rows[0]!.reorgs).toBeGreaterThanOrEqual(1);
    } finally {
      await w.stop();
      await proxy?.close();
    }
  }, 240_000);
});
