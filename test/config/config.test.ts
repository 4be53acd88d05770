import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { runCli, scratchDir } from '../harness/cli.js';

describe('configuration', () => {
  it('defaults to embedded PostgreSQL and anvil under .ledgersync, API on 127.0.0.1:8000', () => {
    const cwd = scratchDir();
    const config = loadConfig({}, cwd);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8000, trustProxyHops: 0, publicUrl: undefined, readCacheEntries: 100_000, readCacheHeartbeatMs: 5_000, rateLimitPerIp: 6000, rateLimitPerKey: 600, corsOrigins: [] });
    expect(config.home).toBe(join(cwd, '.ledgersync'));
    expect(config.database).toMatchObject({ kind: 'embedded', dir: join(cwd, '.ledgersync', 'postgres') });
    expect(config.chains).toEqual([expect.objectContaining({ key: 'evm:31337', endpoint: expect.objectContaining({ kind: 'embedded', port: 8545, blockTime: 1, chainId: 31337 }) })]);
    expect(config.deploymentsFile).toBe(join(cwd, '.ledgersync', 'deployments.json'));
  });

  it('uses DATABASE_URL and RPC_URL when set, and has no deployer key for a real chain unless given', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/app', RPC_URL: 'https://rpc.example/v1', WS_URL: 'wss://rpc.example/ws' }, scratchDir());
    expect(config.database).toEqual({ kind: 'url', url: 'postgres://u:p@db:5432/app', poolSize: 20 });
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/app', DATABASE_POOL_SIZE: '50' }, scratchDir()).database.poolSize).toBe(50);
    // The chain key is learned from the node when the stack starts, unless CHAIN_ID says it.
    expect(config.chains).toEqual([expect.objectContaining({ key: undefined, endpoint: { kind: 'rpc', rpcUrl: 'https://rpc.example/v1', wsUrl: 'wss://rpc.example/ws' } })]);
    expect(config.chains[0]!.deployerPrivateKey).toBeUndefined();
    expect(loadConfig({ RPC_URL: 'https://rpc.example/v1', CHAIN_ID: '137' }, scratchDir()).chains[0]!.key).toBe('evm:137');
  });

  it('reads .env, and real environment variables win over it', () => {
    const cwd = scratchDir();
    writeFileSync(join(cwd, '.env'), 'PORT=9100\nHOST=0.0.0.0\n');
    expect(loadConfig({}, cwd).http).toMatchObject({ host: '0.0.0.0', port: 9100 });
    expect(loadConfig({ PORT: '9200' }, cwd).http.port).toBe(9200);
  });

  it.each([
    [{ PORT: 'abc' }, 'invalid configuration: PORT: expected a number'],
    [{ PORT: '70000' }, 'invalid configuration: PORT: expected a number <= 65535'],
    [{ LOG_LEVEL: 'loud' }, 'invalid configuration: LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent'],
    [{ RPC_URL: 'ftp://node' }, 'invalid configuration: RPC_URL: expected a URL starting with http:// or https://'],
    [{ DATABASE_URL: 'mysql://x' }, 'invalid configuration: DATABASE_URL: expected a URL starting with postgres:// or postgresql://'],
    [{ DATABASE_POOL_SIZE: '2' }, 'invalid configuration: DATABASE_POOL_SIZE: expected a number >= 4'],
    [{ WS_URL: 'ws://node' }, 'invalid configuration: WS_URL: set RPC_URL too (WS_URL only adds a WebSocket to an RPC_URL chain)'],
    [{ PORT: 'x', ANVIL_BLOCK_TIME: '0' }, 'invalid configuration: PORT: expected a number; ANVIL_BLOCK_TIME: expected a number >= 1'],
    [{ WEBHOOK_URLS: 'https://a.example/h, ftp://b' }, 'invalid configuration: WEBHOOK_URLS: expected comma-separated URLs starting with http:// or https://'],
    [{ WEBHOOK_URLS: 'https://a.example/h' }, 'invalid configuration: WEBHOOK_SECRET: required when WEBHOOK_URLS is set (deliveries are signed with it)'],
    [{ WEBHOOK_URLS: 'https://a.example/h', WEBHOOK_SECRET: 'short' }, 'invalid configuration: WEBHOOK_SECRET: expected at least 16 characters'],
    [{ RELAYER_FEE_BUMP_PERCENT: '5' }, 'invalid configuration: RELAYER_FEE_BUMP_PERCENT: expected a number >= 10'],
    [{ RELAYER_GAS_PRICE_GWEI: '-1' }, 'invalid configuration: RELAYER_GAS_PRICE_GWEI: expected a number >= 0'],
    [{ RPC_TIMEOUT_MS: '0' }, 'invalid configuration: RPC_TIMEOUT_MS: expected a number >= 100'],
    [{ RELAYER_REFUSED_SIGNED_MS: '10' }, 'invalid configuration: RELAYER_REFUSED_SIGNED_MS: expected a number >= 1000'],
    [
      { RELAYER_GAS_PRICE_GWEI: '60', RELAYER_MAX_FEE_GWEI: '50' },
      'invalid configuration: RELAYER_GAS_PRICE_GWEI: above RELAYER_MAX_FEE_GWEI (the configured gas price is the least a transaction pays, the cap the most)',
    ],
    [{ CORS_ORIGINS: 'https://a.example, nope' }, 'invalid configuration: CORS_ORIGINS: expected * or comma-separated origins like https://app.example'],
    [{ RELAYER_KEYSTORE_FILE: 'k.json' }, 'invalid configuration: RELAYER_KEYSTORE_PASSWORD: required with RELAYER_KEYSTORE_FILE'],
    [
      { RELAYER_KEYSTORE_FILE: 'k.json', RELAYER_KEYSTORE_PASSWORD: 'x', RELAYER_PRIVATE_KEY: '0x' + '1'.repeat(64) },
      'invalid configuration: RELAYER_KEYSTORE_FILE: set either it or RELAYER_PRIVATE_KEY, not both',
    ],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env, scratchDir())).toThrow(new ConfigError(message));
  });

  it('relays with the dev key and a finality of one block on the embedded chain, and needs a key and 64 blocks (or FINALITY_DEPTH) on a real one', () => {
    const chain = (env: Record<string, string>) => loadConfig(env, scratchDir()).chains[0]!;
    expect(chain({}).finalityDepth).toBe(1);
    expect(chain({}).rpcTimeoutMs).toBe(10_000);
    expect(chain({ RPC_URL: 'https://rpc.example/v1', RPC_TIMEOUT_MS: '2500' }).rpcTimeoutMs).toBe(2_500);
    expect(chain({ RPC_URL: 'https://rpc.example/v1' }).finalityDepth).toBe(64);
    expect(loadConfig({}, scratchDir()).relayer).toMatchObject({ stuckBlocks: 3, refusedSignedMs: 120_000 });
    expect(loadConfig({ RELAYER_REFUSED_SIGNED_MS: '30000' }, scratchDir()).relayer.refusedSignedMs).toBe(30_000);
    expect(chain({}).gas).toEqual({ type: 'auto', bumpPercent: 15, maxFeePerGas: 500_000_000_000n });
    expect(chain({ RELAYER_GAS: 'legacy' }).gas.type).toBe('legacy');
    expect(chain({ RELAYER_GAS: 'legacy', RELAYER_GAS_PRICE_GWEI: '2.5', RELAYER_MAX_FEE_GWEI: '50' }).gas).toEqual({ type: 'legacy', bumpPercent: 15, maxFeePerGas: 50_000_000_000n, gasPrice: 2_500_000_000n });
    expect(chain({}).signers).toEqual([{ kind: 'key', privateKey: expect.stringMatching(/^0x[0-9a-f]{64}$/), roles: ['default'] }]);
    const two = chain({ RELAYER_PRIVATE_KEY: `0x${'1'.repeat(64)}, 0x${'2'.repeat(64)}` }).signers;
    expect(two.map((s) => s.kind === 'key' && s.privateKey)).toEqual([`0x${'1'.repeat(64)}`, `0x${'2'.repeat(64)}`]);
    expect(two.map((s) => s.roles)).toEqual([['default'], []]);
    const real = loadConfig({ RPC_URL: 'https://rpc.example/v1', FINALITY_DEPTH: '20', WEBHOOK_URLS: 'https://a.example/h', WEBHOOK_SECRET: 'x'.repeat(16) }, scratchDir());
    expect(real.chains[0]).toMatchObject({ signers: [], finalityDepth: 20 });
    // One definition of final: the relayer's own confirmation count is gone, and saying so beats ignoring it.
    expect(() => loadConfig({ RELAYER_CONFIRMATIONS: '12' }, scratchDir())).toThrow(/RELAYER_CONFIRMATIONS: no longer read; an intent is confirmed when its block is final, FINALITY_DEPTH blocks deep/);
    const cwd = scratchDir();
    expect(loadConfig({ RPC_URL: 'https://rpc.example/v1', RELAYER_KEYSTORE_FILE: 'keys/relayer.json', RELAYER_KEYSTORE_PASSWORD: 'pw' }, cwd).chains[0]!.signers).toEqual([
      { kind: 'keystore', path: join(cwd, 'keys/relayer.json'), password: 'pw', roles: ['default'] },
    ]);
    expect(real.webhooks).toMatchObject({ urls: ['https://a.example/h'], maxAttempts: 10 });
  });

  it('never echoes a rejected secret', () => {
    const key = '0x' + 'ab'.repeat(31);
    expect(() => loadConfig({ RELAYER_PRIVATE_KEY: key }, scratchDir())).toThrow(
      'invalid configuration: RELAYER_PRIVATE_KEY: expected 0x-prefixed 32-byte hex private keys, comma-separated',
    );
    expect(() => loadConfig({ DEPLOYER_PRIVATE_KEY: key }, scratchDir())).toThrow(
      'invalid configuration: DEPLOYER_PRIVATE_KEY: expected a 0x-prefixed 32-byte hex private key',
    );
    try {
      loadConfig({ DEPLOYER_PRIVATE_KEY: key, DATABASE_URL: 'nope://user:hunter2@x' }, scratchDir());
    } catch (error) {
      expect((error as Error).message).not.toContain('ab'.repeat(31));
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('stops `ledgersync start` with a one-line message and a non-zero exit, starting nothing', async () => {
    const cwd = scratchDir();
    const result = await runCli(['start'], { cwd, env: { PORT: 'eighty', LEDGERSYNC_HOME: join(cwd, 'home') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ledgersync: invalid configuration: PORT: expected a number\n');
    expect(result.stdout).toBe('');
    expect(existsSync(join(cwd, 'home'))).toBe(false);
  });
});

describe('ledgersync --help', () => {
  it.each(['start', 'api', 'indexer', 'worker', 'migrate', 'deploy', 'status'])('documents `%s`', async (command) => {
    const result = await runCli([command, '--help'], { cwd: scratchDir() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: ledgersync ${command}`));
  });

  it('rejects an unknown command with a non-zero exit', async () => {
    const result = await runCli(['launch'], { cwd: scratchDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'launch'");
  });
});
