import { describe, expect, it } from 'vitest';
import { parseGwei } from 'viem';
import { ledgerRelayerWorld, ledgerWriteKind } from '../harness/ledger-relayer.js';
import { until } from '../harness/until.js';

describe('relayer faults', () => {
  it('sends a dropped transaction again (the same bytes) and confirms it', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 0 });
    await w.world.testClient.setIntervalMining({ interval: 0 });
    await w.world.testClient.setAutomine(false);
    await w.submit([w.writeOnce('dropped')]);
    await w.startRelayer();
    const [sent] = await until(async () => (await w.intent('dropped'))?.state === 'broadcast' && w.transactionsOf('dropped'), 'broadcast');
    await w.world.testClient.dropTransaction({ hash: sent!.hash });
    expect(await w.world.publicClient.getTransaction({ hash: sent!.hash }).catch(() => null)).toBeNull();
    // Back in the pool, sent again by the relayer, before anything is mined.
    await until(() => w.world.publicClient.getTransaction({ hash: sent!.hash }).catch(() => null), 'the rebroadcast');
    await w.world.testClient.setAutomine(true);
    await w.world.testClient.mine({ blocks: 1 });
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect(await w.transactionsOf('dropped')).toEqual([{ ...sent, status: 'mined' }]);
    expect((await w.effectsByKey()).get('dropped')).toBe(1);
  });

  it('replaces a transaction stuck under the base fee with higher fees, and the replacement wins', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 0 });
    await w.world.testClient.setIntervalMining({ interval: 0 });
    await w.world.testClient.setAutomine(false);
    await w.submit([w.writeOnce('stuck')]);
    await w.startRelayer({ stuckBlocks: 3 });
    await until(async () => (await w.intent('stuck'))?.state === 'broadcast', 'broadcast');
    const [original] = await w.transactionsOf('stuck');
    // The base fee jumps far above what the transaction offers: it cannot be included.
    await w.world.testClient.setNextBlockBaseFeePerGas({ baseFeePerGas: parseGwei('100') });
    for (let i = 0; i < 3; i++) await w.world.testClient.mine({ blocks: 1 });
    expect(await w.world.publicClient.getTransactionReceipt({ hash: original!.hash }).catch(() => null)).toBeNull();
    const replacement = await until(async () => (await w.transactionsOf('stuck'))[1], 'a replacement');
    await until(() => w.world.publicClient.getTransaction({ hash: replacement.hash }).catch(() => null), 'the replacement in the pool');
    await w.world.testClient.mine({ blocks: 1 });
    expect(await w.settled()).toEqual({ confirmed: 1 });
    const txs = await w.transactionsOf('stuck');
    expect(txs.map((t) => t.status)).toEqual(['replaced', ...txs.slice(1, -1).map(() => 'replaced'), 'mined']);
    expect(new Set(txs.map((t) => t.nonce)).size).toBe(1);
    expect(BigInt(txs.at(-1)!.max_fee_per_gas!)).toBeGreaterThanOrEqual((BigInt(original!.max_fee_per_gas!) * 115n) / 100n);
    expect((await w.intent('stuck')).transaction_id).toBe(txs.at(-1)!.hash);
    expect((await w.effectsByKey()).get('stuck')).toBe(1);
  });

  it('sends an included transaction again when a reorg removes it, tells the app, and confirms it only after the depth', async () => {
    const reorged: string[] = [];
    const kind = ledgerWriteKind({ onReorged: async (intent) => void reorged.push(intent.idempotencyKey) });
    const w = await ledgerRelayerWorld({ finalityDepth: 3, kinds: [kind] });
    await w.world.testClient.setIntervalMining({ interval: 0 });
    await w.world.testClient.setAutomine(true);
    await w.submit([w.writeOnce('reorged')]);
    await w.startRelayer();
    const included = await until(async () => {
      const row = await w.intent('reorged');
      return row?.state === 'included' && row;
    }, 'inclusion');
    await w.world.testClient.request({ method: 'anvil_reorg' as never, params: [1, []] as never });
    const block = await w.world.publicClient.getBlock({ blockNumber: BigInt(included.block_number) });
    expect(block.hash).not.toBe(included.block_hash);
    await until(async () => reorged.length > 0, 'the app to be told');
    await until(async () => {
      const row = await w.intent('reorged');
      return row?.state === 'included' && row.block_hash !== included.block_hash;
    }, 'inclusion in a new block');
    expect((await w.intent('reorged')).state).toBe('included');
    await w.world.testClient.mine({ blocks: 4 });
    expect(await w.settled()).toEqual({ confirmed: 1 });
    const row = await w.intent('reorged');
    expect(row.reorgs).toBeGreaterThanOrEqual(1);
    expect(row.transaction_id).toBe(included.transaction_id);
    expect((await w.effectsByKey()).get('reorged')).toBe(1);
  });

  it('fills a gap in the signer nonces with no-op transfers so that later intents are mined', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 0 });
    const start = await w.nonceOnChain();
    await w.database.pool.query('insert into evm_nonces (chain, signer, next_nonce) values ($1, $2, $3)', [
      w.evm.key,
      w.account.address.toLowerCase(),
      start + 2,
    ]);
    await w.submit([w.writeOnce('after-gap')]);
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect(Number((await w.intent('after-gap')).sequence)).toBe(start + 2);
    const fillers = (await w.database.pool.query('select sequence from relayer_transactions where intent_id is null order by sequence')).rows;
    expect(fillers.map((f) => Number(f.sequence))).toEqual([start, start + 1]);
    expect(await w.nonceOnChain()).toBe(start + 3);
    expect([...(await w.effectsByKey())]).toEqual([['after-gap', 1]]);
  });

  it('signs again with a new nonce when another transaction took the nonce, with exactly one effect', async () => {
    const w = await ledgerRelayerWorld({ finalityDepth: 1 });
    await w.world.testClient.setIntervalMining({ interval: 0 });
    await w.world.testClient.setAutomine(false);
    await w.submit([w.writeOnce('taken')]);
    const first = await w.startRelayer();
    await until(async () => (await w.intent('taken'))?.state === 'broadcast', 'broadcast');
    await first.stop();
    const [ours] = await w.transactionsOf('taken');
    await w.world.testClient.dropTransaction({ hash: ours!.hash });
    // The same key used outside the relayer, at the same nonce.
    await w.world.testClient.request({
      method: 'eth_sendTransaction' as never,
      params: [{ from: w.account.address, to: w.account.address, value: '0x1', nonce: `0x${ours!.nonce.toString(16)}` }] as never,
    });
    await w.world.testClient.setAutomine(true);
    await w.world.testClient.mine({ blocks: 1 });
    await w.startRelayer();
    await until(async () => (await w.intent('taken'))?.error?.name === 'SequenceTaken', 'the conflict to be noticed');
    // Blocks, for the conflict to stand for the confirmation depth and for the new transaction to confirm.
    const mining = setInterval(() => void w.world.testClient.mine({ blocks: 1 }).catch(() => {}), 100);
    try {
      expect(await w.settled()).toEqual({ confirmed: 1 });
    } finally {
      clearInterval(mining);
    }
    const txs = await w.transactionsOf('taken');
    expect(txs.map((t) => t.status)).toEqual(['replaced', 'mined']);
    expect(txs[1]!.nonce).toBeGreaterThan(txs[0]!.nonce);
    expect((await w.effectsByKey()).get('taken')).toBe(1);
  });
});
