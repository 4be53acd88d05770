import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { createPublicClient, http } from 'viem';
import { foundry } from 'viem/chains';
import { startRpcProxy, type FaultPlan, type RpcProxy } from './rpc-proxy.js';

interface Reply {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

let nextId = 1;
function call(method: string, params: unknown[] = []) {
  return { jsonrpc: '2.0', id: nextId++, method, params };
}

function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

async function rpc(url: string, body: unknown): Promise<Reply> {
  const res = await post(url, body);
  expect(res.status).toBe(200);
  return (await res.json()) as Reply;
}

async function rpcBatch(url: string, body: unknown[]): Promise<Reply[]> {
  const res = await post(url, body);
  expect(res.status).toBe(200);
  return (await res.json()) as Reply[];
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

/** Whether each of `count` eth_blockNumber calls got the injected error: the proxy's decision sequence. */
async function errorPattern(url: string, count: number): Promise<boolean[]> {
  const pattern: boolean[] = [];
  for (let i = 0; i < count; i++) pattern.push((await rpc(url, call('eth_blockNumber'))).error !== undefined);
  return pattern;
}

/** Waits, boundedly, until the proxy has received `count` requests. */
async function untilReceived(proxy: RpcProxy, count: number): Promise<void> {
  for (let i = 0; i < 200 && proxy.stats().requests < count; i++) await new Promise((r) => setTimeout(r, 10));
  expect(proxy.stats().requests).toBeGreaterThanOrEqual(count);
}

describe('rpc proxy', () => {
  const upstream = inject('rpcUrl');
  let proxy: RpcProxy;
  const extra: RpcProxy[] = [];

  /** A proxy closed after the test, for tests that need clean stats or their own PRNG. */
  async function freshProxy(plan?: FaultPlan): Promise<RpcProxy> {
    const started = await startRpcProxy(upstream, plan);
    extra.push(started);
    return started;
  }

  async function upstreamHead(): Promise<bigint> {
    return BigInt((await rpc(upstream, call('eth_blockNumber'))).result as string);
  }

  beforeAll(async () => {
    proxy = await startRpcProxy(upstream);
  });
  afterEach(async () => {
    proxy.setPlan({});
    await Promise.all(extra.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await proxy.close();
  });

  describe('without faults', () => {
    it('passes single calls through unchanged', async () => {
      // Other test files share this anvil and may mine meanwhile, hence the bracket.
      const before = await upstreamHead();
      const proxied = BigInt((await rpc(proxy.url, call('eth_blockNumber'))).result as string);
      const after = await upstreamHead();
      expect(proxied).toBeGreaterThanOrEqual(before);
      expect(proxied).toBeLessThanOrEqual(after);
      expect((await rpc(proxy.url, call('eth_chainId'))).result).toBe('0x7a69');
    });

    it('serves a viem public client', async () => {
      const client = createPublicClient({ chain: foundry, transport: http(proxy.url, { retryCount: 0 }), cacheTime: 0 });
      expect(await client.getChainId()).toBe(31337);
      expect(await client.getBlockNumber()).toBeGreaterThanOrEqual(0n);
    });

    it('passes batches through in order', async () => {
      const batch = [call('eth_chainId'), call('eth_blockNumber'), call('net_version')];
      const replies = await rpcBatch(proxy.url, batch);
      expect(replies.map((r) => r.id)).toEqual(batch.map((c) => c.id));
      expect(replies.every((r) => r.error === undefined)).toBe(true);
    });
  });

  describe('each fault at rate 1', () => {
    it('answers a JSON-RPC error with HTTP 200', async () => {
      proxy.setPlan({ errorRate: 1 });
      const request = call('eth_blockNumber');
      expect(await rpc(proxy.url, request)).toEqual({ jsonrpc: '2.0', id: request.id, error: { code: -32000, message: 'internal error (injected)' } });
    });

    it('makes a viem client fail on the injected error', async () => {
      proxy.setPlan({ errorRate: 1 });
      const client = createPublicClient({ chain: foundry, transport: http(proxy.url, { retryCount: 0 }), cacheTime: 0 });
      await expect(client.getBlockNumber()).rejects.toThrow(/internal error \(injected\)/);
    });

    it('answers HTTP 500, 502 or 503 with a text body', async () => {
      proxy.setPlan({ serverErrorRate: 1 });
      for (let i = 0; i < 6; i++) {
        const res = await post(proxy.url, call('eth_blockNumber'));
        expect([500, 502, 503]).toContain(res.status);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await res.text()).toMatch(/injected/);
      }
    });

    it('answers HTTP 429 with Retry-After: 0 and a JSON-RPC-style body', async () => {
      proxy.setPlan({ rateLimitRate: 1 });
      const request = call('eth_blockNumber');
      const res = await post(proxy.url, request);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('0');
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: request.id, error: { code: 429, message: 'Too Many Requests' } });
    });

    it('cuts the body short of its Content-Length', async () => {
      const own = await freshProxy({ truncateRate: 1 });
      const res = await post(own.url, call('eth_getBlockByNumber', ['latest', true]));
      expect(res.status).toBe(200);
      expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
      await expect(res.json()).rejects.toThrow(/terminated/);
      expect(own.stats()).toMatchObject({ forwarded: 1, injected: { truncate: 1 } });
    });

    it('holds the request so the client times out first', async () => {
      proxy.setPlan({ timeoutRate: 1, timeoutMs: 2_000 });
      const started = Date.now();
      await expect(post(proxy.url, call('eth_blockNumber'), AbortSignal.timeout(150))).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('drops the socket once timeoutMs has passed', async () => {
      proxy.setPlan({ timeoutRate: 1, timeoutMs: 100 });
      await expect(post(proxy.url, call('eth_blockNumber'), AbortSignal.timeout(5_000))).rejects.toThrow(/fetch failed/);
    });
  });

  describe('eligible methods', () => {
    it('spares eth_chainId by default, alone or in a batch', async () => {
      proxy.setPlan({ errorRate: 1, serverErrorRate: 1 });
      expect((await rpc(proxy.url, call('eth_chainId'))).result).toBe('0x7a69');
      const replies = await rpcBatch(proxy.url, [call('eth_chainId'), call('eth_blockNumber')]);
      expect(replies[0]?.result).toBe('0x7a69');
      expect(replies[1]?.error?.code).toBe(-32000);
    });

    it('faults eth_chainId when it is listed', async () => {
      proxy.setPlan({ methods: ['eth_chainId'], errorRate: 1 });
      expect((await rpc(proxy.url, call('eth_chainId'))).error?.code).toBe(-32000);
      expect((await rpc(proxy.url, call('eth_blockNumber'))).error).toBeUndefined();
    });
  });

  describe('eth_getLogs range limits', () => {
    const wide = { fromBlock: '0x0', toBlock: '0x14' }; // 21 blocks

    it.each([
      ['alchemy', -32602, 'Log response size exceeded. You can make eth_getLogs requests with up to a 10 block range. Based on your parameters, this block range should work: [0x0, 0x9]'],
      ['infura', -32005, 'query returned more than 10000 results'],
      ['quicknode', -32602, 'eth_getLogs is limited to a 10 range'],
      ['generic', -32000, 'block range is too wide'],
    ] as const)('answers the %s wording when the range is too wide', async (style, code, message) => {
      proxy.setPlan({ maxLogRange: 10, rangeErrorStyle: style });
      const reply = await rpc(proxy.url, call('eth_getLogs', [wide]));
      expect(reply.error).toEqual({ code, message });
    });

    it('suggests a range starting at fromBlock in the alchemy wording', async () => {
      proxy.setPlan({ maxLogRange: 16, rangeErrorStyle: 'alchemy' });
      const reply = await rpc(proxy.url, call('eth_getLogs', [{ fromBlock: '0x100', toBlock: '0x200' }]));
      expect(reply.error?.message).toMatch(/up to a 16 block range.*\[0x100, 0x10f\]$/);
    });

    it('cycles through every wording when mixed', async () => {
      proxy.setPlan({ maxLogRange: 10 });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await rpc(proxy.url, call('eth_getLogs', [wide]))).error?.code ?? 0);
      expect(codes).toEqual([-32602, -32005, -32602, -32000, -32602]);
    });

    it('forwards ranges within the limit, by number or by tag', async () => {
      const head = await upstreamHead();
      proxy.setPlan({ maxLogRange: 1, errorRate: 0 });
      for (const filter of [{ fromBlock: hex(head), toBlock: hex(head) }, { fromBlock: 'latest', toBlock: 'latest' }, {}]) {
        const reply = await rpc(proxy.url, call('eth_getLogs', [filter]));
        expect(reply.error).toBeUndefined();
        expect(reply.result).toBeInstanceOf(Array);
      }
    });

    it('resolves tags against the upstream head', async () => {
      const head = await upstreamHead();
      proxy.setPlan({ maxLogRange: 10, rangeErrorStyle: 'generic' });
      const reply = await rpc(proxy.url, call('eth_getLogs', [{ fromBlock: 'latest', toBlock: hex(head + 20n) }]));
      expect(reply.error?.message).toBe('block range is too wide');
      const earliest = await rpc(proxy.url, call('eth_getLogs', [{ fromBlock: 'earliest', toBlock: '0x14' }]));
      expect(earliest.error?.message).toBe('block range is too wide');
    });

    it('never limits a blockHash query', async () => {
      const block = (await rpc(upstream, call('eth_getBlockByNumber', ['latest', false]))).result as { hash: string };
      proxy.setPlan({ maxLogRange: 1 });
      const reply = await rpc(proxy.url, call('eth_getLogs', [{ blockHash: block.hash }]));
      expect(reply.error).toBeUndefined();
      expect(reply.result).toBeInstanceOf(Array);
    });
  });

  describe('batches', () => {
    it('answers range errors per element and forwards the rest', async () => {
      proxy.setPlan({ maxLogRange: 5, rangeErrorStyle: 'infura' });
      const batch = [call('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x9' }]), call('eth_blockNumber'), call('eth_chainId')];
      const replies = await rpcBatch(proxy.url, batch);
      expect(replies.map((r) => r.id)).toEqual(batch.map((c) => c.id));
      expect(replies[0]?.error?.code).toBe(-32005);
      expect(replies[1]?.result).toMatch(/^0x/);
      expect(replies[2]?.result).toBe('0x7a69');
    });

    it('decides injected errors per element', async () => {
      const own = await freshProxy({ seed: 3, errorRate: 0.5 });
      const batch = Array.from({ length: 16 }, () => call('eth_blockNumber'));
      const replies = await rpcBatch(own.url, batch);
      expect(replies.map((r) => r.id)).toEqual(batch.map((c) => c.id));
      const failed = replies.filter((r) => r.error).length;
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThan(16);
      expect(replies.filter((r) => r.result !== undefined)).toHaveLength(16 - failed);
      expect(own.stats()).toMatchObject({ forwarded: 1, injected: { error: failed } });
    });

    it('applies HTTP-level faults to the whole batch', async () => {
      proxy.setPlan({ rateLimitRate: 1 });
      const res = await post(proxy.url, [call('eth_blockNumber'), call('eth_gasPrice')]);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('0');
      expect(await res.json()).toMatchObject({ id: null, error: { code: 429 } });
    });

    it('works with viem batching', async () => {
      proxy.setPlan({ methods: ['eth_gasPrice'], errorRate: 1 });
      const client = createPublicClient({ chain: foundry, transport: http(proxy.url, { batch: true, retryCount: 0 }), cacheTime: 0 });
      const [blockNumber, gasPrice] = await Promise.allSettled([client.getBlockNumber(), client.getGasPrice()]);
      expect(blockNumber.status).toBe('fulfilled');
      expect(gasPrice.status).toBe('rejected');
    });
  });

  describe('determinism', () => {
    it('makes the same decisions for the same seed', async () => {
      const plan = { seed: 42, errorRate: 0.5 };
      const [a, b, other] = await Promise.all([freshProxy(plan), freshProxy(plan), freshProxy({ ...plan, seed: 7 })]);
      const first = await errorPattern(a.url, 32);
      expect(await errorPattern(b.url, 32)).toEqual(first);
      expect(first).toContain(true);
      expect(first).toContain(false);
      expect(await errorPattern(other.url, 32)).not.toEqual(first);
      a.setPlan(plan); // re-seeds
      expect(await errorPattern(a.url, 32)).toEqual(first);
    });
  });

  describe('stats', () => {
    it('counts requests, forwards, faults and methods', async () => {
      const own = await freshProxy();
      await rpc(own.url, call('eth_blockNumber'));
      await rpcBatch(own.url, [call('eth_blockNumber'), call('eth_chainId'), call('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x9' }])]);
      own.setPlan({ errorRate: 1, maxLogRange: 2 });
      await rpc(own.url, call('eth_gasPrice'));
      await rpc(own.url, call('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x9' }]));
      own.setPlan({ serverErrorRate: 1 });
      await post(own.url, call('eth_gasPrice'));
      expect(own.stats()).toEqual({
        requests: 5,
        forwarded: 2,
        injected: { error: 1, range: 1, serverError: 1 },
        byMethod: { eth_blockNumber: 2, eth_chainId: 1, eth_getLogs: 2, eth_gasPrice: 2 },
      });
    });

    it('records the params of the methods the plan names, faulted or not, alone or in a batch', async () => {
      const own = await freshProxy();
      await rpc(own.url, call('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x1' }]));
      own.setPlan({ record: ['eth_getLogs'], maxLogRange: 2 });
      await rpcBatch(own.url, [call('eth_blockNumber'), call('eth_getLogs', [{ address: ['0xab'], fromBlock: '0x0', toBlock: '0x9' }])]);
      await rpc(own.url, call('eth_getLogs', [{ blockHash: '0x12' }]));
      expect(own.recorded()).toEqual([
        { method: 'eth_getLogs', params: [{ address: ['0xab'], fromBlock: '0x0', toBlock: '0x9' }] },
        { method: 'eth_getLogs', params: [{ blockHash: '0x12' }] },
      ]);
    });
  });

  describe('close()', () => {
    it('releases a held request at once', async () => {
      const own = await startRpcProxy(upstream, { timeoutRate: 1, timeoutMs: 60_000 });
      const pending = post(own.url, call('eth_blockNumber')).then(
        () => 'answered',
        () => 'failed',
      );
      await untilReceived(own, 1);
      const started = Date.now();
      await own.close();
      expect(await pending).toBe('failed');
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });
});
