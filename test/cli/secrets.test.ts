import { describe, expect, it, onTestFinished } from 'vitest';
import { randomBytes } from 'node:crypto';
import { RunningCli, runCli, scratchDir, type CliResult } from '../harness/cli.js';
import { createEmptyDatabase } from '../harness/db.js';
import { startRpcProxy, type FaultPlan } from '../harness/rpc-proxy.js';
import { vaultWorld } from '../harness/vault-world.js';
import { INSTITUTION_KEY } from '../harness/credentials-relayer.js';
import { until } from '../harness/until.js';
import { freePort } from '../../src/runtime/ports.js';

/** anvil's third dev account: never used to sign here, only to prove a configured key stays out of the output. */
const DEPLOYER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

describe('secrets in the output', () => {
  it('keeps RPC keys (in the path and in the query) and private keys out of every log line, CLI error and status report while RPC calls fail', async () => {
    // An Infura-style hex key in the query, an Alchemy-style alphanumeric one in the path.
    const queryKey = randomBytes(16).toString('hex');
    const pathKey = `aBcD${randomBytes(21).toString('base64url')}`;
    const world = await vaultWorld();
    const proxy = await startRpcProxy(world.rpcUrl);
    onTestFinished(() => proxy.close());
    const database = await createEmptyDatabase();
    onTestFinished(() => database.drop());
    const cwd = scratchDir();
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      DATABASE_URL: database.url,
      RPC_URL: `${proxy.url}/v2/${pathKey}?apikey=${queryKey}`,
      DEPLOYMENTS_FILE: world.deploymentsFile,
      RELAYER_PRIVATE_KEY: INSTITUTION_KEY,
      DEPLOYER_PRIVATE_KEY: DEPLOYER_KEY,
      FINALITY_DEPTH: '1',
      INDEXER_POLL_INTERVAL_MS: '200',
    };
    const running = new RunningCli(['start'], { cwd, env });
    await running.waitForReady(`${api}/ready`);
    const apiKey = (await runCli(['api-key', 'create', '--institution', world.institution], { cwd, env })).stdout.match(/lsk_\S+/)![0];

    const seen: string[] = [];
    const cli = async (args: string[]): Promise<CliResult> => {
      const result = await runCli(args, { cwd, env });
      seen.push(result.stdout, result.stderr);
      return result;
    };
    const http = async (path: string, init?: RequestInit) => {
      const response = await fetch(`${api}${path}`, init);
      const body = await response.text();
      seen.push(body);
      return { status: response.status, body };
    };

    // Every method fails except eth_chainId (so that commands get as far as their first real call): each way a provider fails.
    const plans: FaultPlan[] = [{ errorRate: 1 }, { serverErrorRate: 1 }, { timeoutRate: 1, timeoutMs: 200 }];
    for (const [i, plan] of plans.entries()) {
      proxy.setPlan(plan);
      const from = running.output.length;
      const since = () => running.output.slice(from);

      // The relayer: an intent to simulate and sign, on top of its own polling of the head.
      const issued = await http('/api/credentials/issue', {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': `secret-${i}` },
        body: JSON.stringify({ student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', fingerprint: `0x${randomBytes(32).toString('hex')}`, metadataURI: 'ipfs://secret' }),
      });
      expect(issued.status).toBe(202);
      // A read the cache cannot answer goes to the chain, which fails.
      expect((await http('/api/blockchain/status/424242')).status).toBe(500);
      expect((await http('/ready')).status).toBe(503);
      const status = await cli(['status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toMatch(/^FAIL +chain +/m);
      await until(() => since().includes('indexing step failed') && since().includes('relayer step failed') && since().includes('unhandled error'), 'the failures to be logged', 60_000, 100);
      await http(`/api/tx?kind=credentials.issue`);
    }
    // A command that fails on an RPC call prints one line on stderr.
    const deploy = await cli(['deploy']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toMatch(/^ledgersync: .+\n$/);

    expect(await running.stop('SIGTERM')).toBe(0);
    const lines = [running.output, ...seen].join('\n').split('\n');
    for (const secret of [pathKey, queryKey, INSTITUTION_KEY.slice(2), DEPLOYER_KEY.slice(2)]) {
      expect(lines.filter((line) => line.toLowerCase().includes(secret.toLowerCase()))).toEqual([]);
    }
  }, 240_000);
});
