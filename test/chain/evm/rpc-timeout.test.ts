import { inspect } from 'node:util';
import { join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { ChainUnreachableError, connectChain } from '../../../src/chain/evm/client.js';
import { RpcTimeoutError } from '../../../src/chain/evm/transport.js';
import { scratchDir } from '../../harness/cli.js';
import { connectTestChain } from '../../harness/evm.js';
import { startRpcProxy } from '../../harness/rpc-proxy.js';

// Key-like, as a provider's API key in the URL's path and query is: neither may reach an error message.
const PATH_KEY = 'k3yA1b2C3d4E5f6G7h8I9j0KlMnOpQrS';
const QUERY_KEY = 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe';
const TIMEOUT_MS = 200;
// viem tries a timed-out request 3 more times, waiting 150, 300 and 600 ms between tries.
const ATTEMPTS = 4;
const EXPECTED_MS = ATTEMPTS * TIMEOUT_MS + 150 + 300 + 600;
// Room for a loaded machine, and still far below what the default (10 s a try) would take.
const SLACK_MS = 3_000;

/** A node that takes every call of `methods` and never answers it (the fault proxy's hold), with a key in its URL. */
async function hangingNode(methods: string[]) {
  const node = await startRpcProxy(inject('rpcUrl'));
  onTestFinished(() => node.close());
  const url = `${node.url}/v3/${PATH_KEY}?apiKey=${QUERY_KEY}`;
  return { node, url, hang: () => node.setPlan({ timeoutRate: 1, timeoutMs: 60_000, methods }) };
}

/** The error `call` fails with, and how long that took. */
async function failure(call: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = performance.now();
  const error = await call().then(
    () => new Error('the call succeeded'),
    (e: unknown) => e as Error,
  );
  return { error, ms: performance.now() - started };
}

function expectNoKey(error: Error): void {
  for (const text of [error.message, String(error.stack), inspect(error, { depth: 10 }), JSON.stringify(error)]) {
    expect(text).not.toContain(PATH_KEY);
    expect(text).not.toContain(QUERY_KEY);
  }
}

describe('RPC call timeouts (rpcTimeoutMs)', () => {
  it('fail a call the node never answers after the configured timeout per attempt, naming the call and the limit, never the URL or its keys', async () => {
    const { node, url, hang } = await hangingNode(['eth_blockNumber']);
    const conn = await connectChain(url, undefined, { rpcTimeoutMs: TIMEOUT_MS });
    expect(conn.rpcTimeoutMs).toBe(TIMEOUT_MS);
    hang();

    const { error, ms } = await failure(() => conn.publicClient.getBlockNumber());
    expect(error).toBeInstanceOf(RpcTimeoutError);
    expect(error.message).toBe(`eth_blockNumber: the node did not answer within ${TIMEOUT_MS} ms (the chain's rpcTimeoutMs), tried up to ${ATTEMPTS} times`);
    expect(node.stats().injected.timeout).toBe(ATTEMPTS);
    expect(ms).toBeGreaterThanOrEqual(EXPECTED_MS - 50);
    expect(ms).toBeLessThan(EXPECTED_MS + SLACK_MS);
    expectNoKey(error);
    expect(error.message).not.toContain('127.0.0.1');
  });

  it("come from the chain's configuration (EvmChainConfig.rpcTimeoutMs) through connectEvmChain", async () => {
    const { url, hang } = await hangingNode(['eth_blockNumber']);
    const chain = await connectTestChain(url, { deploymentsFile: join(scratchDir(), 'deployments.json'), rpcTimeoutMs: TIMEOUT_MS });
    expect(chain.conn.rpcTimeoutMs).toBe(TIMEOUT_MS);
    hang();
    const { error, ms } = await failure(() => chain.head());
    expect(error).toBeInstanceOf(RpcTimeoutError);
    expect(error.message).toContain(`within ${TIMEOUT_MS} ms`);
    expect(ms).toBeLessThan(EXPECTED_MS + SLACK_MS);
    expectNoKey(error);
  });

  it('stop a start against a node that hangs on eth_chainId with an error naming the timeout', async () => {
    const { url, hang } = await hangingNode(['eth_chainId']);
    hang();
    const { error, ms } = await failure(() => connectChain(url, undefined, { rpcTimeoutMs: TIMEOUT_MS }));
    expect(error).toBeInstanceOf(ChainUnreachableError);
    expect(error.message).toBe(
      `RPC endpoint did not answer eth_chainId: eth_chainId: the node did not answer within ${TIMEOUT_MS} ms (the chain's rpcTimeoutMs), tried up to ${ATTEMPTS} times`,
    );
    expect(ms).toBeLessThan(EXPECTED_MS + SLACK_MS);
    expectNoKey(error);
  });
});
