import { describe, expect, it } from 'vitest';
import { createWalletClient, http, parseGwei, toHex, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ledgerRelayerWorld, type LedgerRelayerWorld } from '../harness/ledger-relayer.js';
import { until } from '../harness/until.js';

/**
 * A Polygon Edge-like chain: anvil `--hardfork berlin --chain-id 100`, no base
 * fee, and the relayer's gas type set to legacy. Intents of the neutral test app
 * (`ledger.write`) go out as type-0 transactions at the chain's gas price; one
 * outbid by higher gas prices is replaced at its nonce with a raised gas price,
 * never above the cap.
 */
describe('relayer on a legacy-gas chain (berlin, chain 100)', () => {
  it('confirms intents with type-0 transactions signed for chain 100, at the chain gas price under the cap', async () => {
    const w = await ledgerRelayerWorld({ hardfork: 'berlin', chainId: 100, blockTime: 0.2, finalityDepth: 2, gas: { type: 'legacy', maxFeePerGas: parseGwei('50') } });
    expect((await w.world.publicClient.getBlock()).baseFeePerGas ?? null).toBeNull();
    await setChainGasPrice(w, parseGwei('3'));
    const keys = Array.from({ length: 10 }, (_, i) => `legacy-${i}`);
    const start = await w.world.publicClient.getTransactionCount({ address: w.account.address });
    await w.submit(keys.map((k, i) => w.write(k, BigInt(i + 1))));
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 10 });

    for (const [i, key] of keys.entries()) {
      const [tx, ...more] = await w.transactionsOf(key);
      expect(more).toEqual([]);
      expect(tx).toMatchObject({ status: 'mined', gas_price: parseGwei('3').toString(), max_fee_per_gas: null });
      const onChain = await w.world.publicClient.getTransaction({ hash: tx!.hash });
      expect({ type: onChain.type, typeHex: onChain.typeHex, chainId: onChain.chainId, gasPrice: onChain.gasPrice, nonce: onChain.nonce }).toEqual({
        type: 'legacy',
        typeHex: '0x0',
        chainId: 100,
        gasPrice: parseGwei('3'),
        nonce: start + i,
      });
      expect(onChain.maxFeePerGas).toBeUndefined();
      const intent = await w.intent(key);
      expect(intent.transaction_id).toBe(tx!.hash);
      // Confirmed only once final: the block it was confirmed in stands at least two blocks deep now.
      expect((await w.world.publicClient.getBlockNumber()) - BigInt(intent.block_number)).toBeGreaterThanOrEqual(2n);
    }
    expect(await w.effects(keys)).toEqual(keys.map(() => 1));
    expect(await w.world.publicClient.getTransactionCount({ address: w.account.address })).toBe(start + 10);
  });

  it("pays at least the configured gas price: the node's lower price is raised to it, and it is what is paid when eth_gasPrice fails", async () => {
    const floor = parseGwei('4');
    const w = await ledgerRelayerWorld({ hardfork: 'berlin', chainId: 100, blockTime: 0.2, finalityDepth: 1, node: {}, gas: { type: 'legacy', maxFeePerGas: parseGwei('50'), gasPrice: floor } });
    await setChainGasPrice(w, parseGwei('1'));
    await w.submit(['floor-0', 'floor-1', 'floor-2'].map((k) => w.write(k)));
    await w.startRelayer();
    expect(await w.settled()).toEqual({ confirmed: 3 });

    // The node stops answering eth_gasPrice: the relayer keeps sending, at the configured price.
    w.node!.setPlan({ errorRate: 1, methods: ['eth_gasPrice'] });
    await w.submit(['fallback-0', 'fallback-1'].map((k) => w.write(k)));
    expect(await w.settled()).toEqual({ confirmed: 5 });
    expect(w.node!.stats().injected.error).toBeGreaterThanOrEqual(1);

    for (const key of ['floor-0', 'floor-1', 'floor-2', 'fallback-0', 'fallback-1']) {
      const [tx, ...more] = await w.transactionsOf(key);
      expect(more).toEqual([]);
      expect(BigInt(tx!.gas_price!)).toBe(floor);
      const onChain = await w.world.publicClient.getTransaction({ hash: tx!.hash });
      expect({ type: onChain.type, chainId: onChain.chainId, gasPrice: onChain.gasPrice }).toEqual({ type: 'legacy', chainId: 100, gasPrice: floor });
    }
    expect(await w.effects(['floor-0', 'floor-1', 'floor-2', 'fallback-0', 'fallback-1'])).toEqual([1, 1, 1, 1, 1]);
  });

  it('replaces a transaction outbid by higher gas prices at the same nonce with the gas price raised by the bump, and the replacement wins', async () => {
    const w = await ledgerRelayerWorld({ hardfork: 'berlin', chainId: 100, blockTime: 0, finalityDepth: 1, gas: { type: 'legacy', maxFeePerGas: parseGwei('10'), bumpPercent: 15 } });
    await setChainGasPrice(w, parseGwei('2'));
    await w.world.testClient.setAutomine(false);
    await w.submit([w.write('stuck')]);
    await w.startRelayer({ stuckBlocks: 3 });
    await until(async () => (await w.intent('stuck'))?.state === 'broadcast', 'broadcast');
    const [original] = await w.transactionsOf('stuck');
    expect(BigInt(original!.gas_price!)).toBe(parseGwei('2'));

    // The market moves to 2.2 gwei, and bids at that price fill every block.
    const market = await outbidding(w, 'stuck', parseGwei('2.2'));
    for (let i = 0; i < 3; i++) await market.block();
    expect(await w.world.publicClient.getTransactionReceipt({ hash: original!.hash }).catch(() => null)).toBeNull();
    expect(await w.world.publicClient.getTransactionCount({ address: w.account.address })).toBe(Number(original!.nonce));

    const replacement = await until(async () => (await w.transactionsOf('stuck'))[1], 'a replacement');
    await until(() => w.world.publicClient.getTransaction({ hash: replacement.hash }).catch(() => null), 'the replacement in the pool');
    // At least the bump above what was paid (the market, 2.2 gwei, is below that): 2 gwei × 1.15.
    expect(BigInt(replacement.gas_price!)).toBe(parseGwei('2.3'));
    expect(replacement.nonce).toBe(original!.nonce);
    await market.block();
    await w.world.testClient.mine({ blocks: 2 });
    expect(await w.settled()).toEqual({ confirmed: 1 });

    const txs = await w.transactionsOf('stuck');
    expect(txs.map((t) => t.status)).toEqual(['replaced', 'mined']);
    expect((await w.intent('stuck')).transaction_id).toBe(txs[1]!.hash);
    const mined = await w.world.publicClient.getTransaction({ hash: txs[1]!.hash });
    expect({ type: mined.type, gasPrice: mined.gasPrice, nonce: mined.nonce, chainId: mined.chainId }).toEqual({ type: 'legacy', gasPrice: parseGwei('2.3'), nonce: Number(original!.nonce), chainId: 100 });
    expect(await w.world.publicClient.getTransaction({ hash: original!.hash }).catch(() => null)).toBeNull();
    expect(await w.effects(['stuck'])).toEqual([1]);
  });

  it('does not replace above the cap: the intent shows FeeCeiling, keeps its one transaction, and confirms when the market comes back', async () => {
    const cap = parseGwei('2.1');
    const w = await ledgerRelayerWorld({ hardfork: 'berlin', chainId: 100, blockTime: 0, finalityDepth: 1, gas: { type: 'legacy', maxFeePerGas: cap, bumpPercent: 15 } });
    await setChainGasPrice(w, parseGwei('2'));
    await w.world.testClient.setAutomine(false);
    await w.submit([w.write('capped')]);
    await w.startRelayer({ stuckBlocks: 3 });
    await until(async () => (await w.intent('capped'))?.state === 'broadcast', 'broadcast');
    const [original] = await w.transactionsOf('capped');

    // Outbid at 2.2 gwei: a replacement would need 2.3 gwei, above the 2.1 gwei cap.
    const market = await outbidding(w, 'capped', parseGwei('2.2'));
    for (let i = 0; i < 3; i++) await market.block();
    await until(async () => (await w.intent('capped')).error?.name === 'FeeCeiling', 'the fee ceiling to be noted');
    // More blocks outbid: still no replacement, still waiting at the ceiling.
    for (let i = 0; i < 3; i++) await market.block();
    const seenAt = Date.now();
    await until(async () => (await w.intent('capped')).updated_at.getTime() > seenAt, 'the relayer to look again');
    const intent = await w.intent('capped');
    expect(intent).toMatchObject({ state: 'broadcast', error: { name: 'FeeCeiling' } });
    expect(await w.transactionsOf('capped')).toEqual([{ ...original, status: 'sent' }]);
    const pool = (await w.world.testClient.request({ method: 'txpool_content' as never })) as { pending: Record<string, Record<string, { hash: Hex; gasPrice: Hex }>> };
    const ours = Object.entries(pool.pending).find(([from]) => from.toLowerCase() === w.account.address.toLowerCase())?.[1] ?? {};
    expect(Object.values(ours).map((t) => [t.hash, BigInt(t.gasPrice)])).toEqual([[original!.hash, parseGwei('2')]]);

    // The market eases: nobody outbids, the original is mined, and the intent confirms with it.
    await w.world.testClient.mine({ blocks: 1 });
    await w.world.testClient.mine({ blocks: 2 });
    expect(await w.settled()).toEqual({ confirmed: 1 });
    expect((await w.transactionsOf('capped')).map((t) => [t.hash, t.status])).toEqual([[original!.hash, 'mined']]);
    expect((await w.intent('capped')).error).toBeNull();
    expect(await w.effects(['capped'])).toEqual([1]);
  });
});

/** The chain's gas price (eth_gasPrice: what a legacy chain suggests), set on anvil as its minimum gas price. */
async function setChainGasPrice(w: LedgerRelayerWorld, gasPrice: bigint): Promise<void> {
  await w.world.testClient.request({ method: 'anvil_setMinGasPrice' as never, params: [toHex(gasPrice)] as never });
  expect(await w.world.publicClient.getGasPrice()).toBe(gasPrice);
}

/**
 * Other accounts bidding `gasPrice` for all the block space: blocks get a gas
 * limit that holds the relayer's transaction alone, or one 21,000-gas transfer
 * and not it too; each `block()` sends such a transfer at `gasPrice` and mines,
 * so that only a higher bid than theirs gets in. The chain's gas price follows.
 */
async function outbidding(w: LedgerRelayerWorld, idempotencyKey: string, gasPrice: bigint) {
  const feeLimit = BigInt((await w.intent(idempotencyKey)).fee_limit);
  await w.world.testClient.request({ method: 'evm_setBlockGasLimit' as never, params: [toHex(21_000n + feeLimit - 1n)] as never });
  await setChainGasPrice(w, gasPrice);
  const bidder = createWalletClient({
    account: mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 5 }),
    chain: { ...w.world.publicClient.chain!, id: 100 },
    transport: http(w.world.rpcUrl),
  });
  let nonce = await w.world.publicClient.getTransactionCount({ address: bidder.account.address });
  return {
    async block() {
      await bidder.sendTransaction({ to: bidder.account.address, value: 1n, gas: 21_000n, type: 'legacy', gasPrice, nonce: nonce++ });
      await w.world.testClient.mine({ blocks: 1 });
    },
  };
}
