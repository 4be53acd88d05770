import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGwei, toHex, type PublicClient } from 'viem';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { connectChain } from '../../src/chain/evm/client.js';
import { currentFees, type FeePolicy } from '../../src/chain/evm/relayer/fees.js';
import { freePort } from '../../src/runtime/ports.js';
import { startRpcProxy, type RpcProxy } from '../harness/rpc-proxy.js';

/**
 * What a transaction pays on a legacy-gas chain, asked of a real Polygon Edge-like node
 * (anvil `--hardfork berlin --chain-id 100`) through the fault proxy, so that its
 * eth_gasPrice can fail: the node's price, never below the configured price, the
 * configured price when the node cannot say, and never above the cap.
 */
describe('legacy gas price with a configured price (Polygon Edge-like chain)', () => {
  let anvil: Anvil;
  let node: RpcProxy;
  let client: PublicClient;

  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort(), hardfork: 'berlin', chainId: 100 });
    node = await startRpcProxy(anvil.rpcUrl);
    const conn = await connectChain(node.url);
    expect(conn.chainId).toBe(100);
    client = conn.publicClient;
    expect((await client.getBlock()).baseFeePerGas).toBeNull();
  });
  afterAll(async () => {
    await node?.close();
    await anvil?.stop();
  });

  /** The node's eth_gasPrice, set as anvil's minimum gas price; faults off. */
  async function nodePrice(gwei: string): Promise<void> {
    node.setPlan({});
    await client.request({ method: 'anvil_setMinGasPrice', params: [toHex(parseGwei(gwei))] } as never);
    expect(await client.getGasPrice()).toBe(parseGwei(gwei));
  }
  const policy = (type: FeePolicy['type'], gwei: { configured?: string; cap: string }): FeePolicy => ({
    type,
    maxFeePerGas: parseGwei(gwei.cap),
    bumpPercent: 15,
    ...(gwei.configured !== undefined ? { gasPrice: parseGwei(gwei.configured) } : {}),
  });

  it("pays the node's price when it is above the configured price", async () => {
    await nodePrice('3');
    expect(await currentFees(client, policy('legacy', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('3') });
  });

  it("raises the node's price to the configured price when it is below (a floor)", async () => {
    await nodePrice('1');
    expect(await currentFees(client, policy('legacy', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('2') });
    // Without a configured price, the node's price is what is paid, as before.
    expect(await currentFees(client, policy('legacy', { cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('1') });
  });

  it('pays the configured price when eth_gasPrice fails, and without one the failure stands', async () => {
    await nodePrice('3');
    node.setPlan({ errorRate: 1, methods: ['eth_gasPrice'] });
    expect(await currentFees(client, policy('legacy', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('2') });
    expect(node.stats().injected.error).toBeGreaterThanOrEqual(1);
    await expect(currentFees(client, policy('legacy', { cap: '50' }))).rejects.toThrow(/internal error \(injected\)/);
  });

  it('pays the configured price when the node says 0', async () => {
    await nodePrice('0');
    expect(await currentFees(client, policy('legacy', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('2') });
  });

  it('never pays above the cap, whatever the node asks', async () => {
    await nodePrice('80');
    expect(await currentFees(client, policy('legacy', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('50') });
  });

  it('applies the same floor where `auto` falls back to a legacy gas price (no base fee in the blocks)', async () => {
    await nodePrice('1');
    expect(await currentFees(client, policy('auto', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('2') });
    node.setPlan({ errorRate: 1, methods: ['eth_gasPrice'] });
    expect(await currentFees(client, policy('auto', { configured: '2', cap: '50' }))).toEqual({ type: 'legacy', gasPrice: parseGwei('2') });
  });
});
