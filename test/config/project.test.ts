import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANVIL_DEV_KEY, SUI_DEV_KEY, loadConfig } from '../../src/config/index.js';
import { evmChain, type EvmChainInput } from '../../src/engine/config.js';
import { loadProject } from '../../src/wiring/project.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { scratchDir } from '../harness/cli.js';

/** anvil's first dev account: public knowledge, fit for a local chain only. */
const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY_1 = `0x${'1'.repeat(64)}`;
const KEY_2 = `0x${'2'.repeat(64)}`;

/** A configuration file listing a chain reached by URL (Polygon) and an embedded one. */
function configFile(): { cwd: string; file: string } {
  const cwd = scratchDir();
  const file = join(cwd, 'ledgersync.config.ts');
  writeFileSync(
    file,
    `import { defineConfig, evmChain } from ${JSON.stringify(join(packageRoot, 'src', 'engine', 'index.js'))};
export default defineConfig({ chains: [evmChain({ id: 137, rpc: 'https://polygon.example/v1' }), evmChain({ id: 31337 })], apps: [] });\n`,
  );
  return { cwd, file };
}

const chainsOf = async (env: Record<string, string>, cwd: string) => (await loadProject(loadConfig(env, cwd), async () => 'evm:unknown')).chains;

describe('chains listed in the configuration file', () => {
  it("sign and deploy with anvil's dev key only when embedded, never on a chain reached by URL", async () => {
    const { cwd, file } = configFile();
    // No RPC_URL and no keys in the environment: its own chain would be an embedded one.
    const [polygon, local] = await chainsOf({ LEDGERSYNC_CONFIG: file }, cwd);
    expect(polygon).toMatchObject({ key: 'evm:137', endpoint: { kind: 'rpc' }, signers: [], deployerPrivateKey: undefined });
    expect(local).toMatchObject({ key: 'evm:31337', endpoint: { kind: 'embedded' }, signers: [{ kind: 'key', privateKey: DEV_KEY, roles: ['default'] }], deployerPrivateKey: DEV_KEY });

    // With RPC_URL in the environment, a listed embedded chain still has the dev key to deploy and sign with.
    const [polygonAgain, localAgain] = await chainsOf({ LEDGERSYNC_CONFIG: file, RPC_URL: 'https://mainnet.example/v1' }, cwd);
    expect(polygonAgain).toMatchObject({ signers: [], deployerPrivateKey: undefined });
    expect(localAgain).toMatchObject({ signers: [{ kind: 'key', privateKey: DEV_KEY, roles: ['default'] }], deployerPrivateKey: DEV_KEY });
  });

  it('take the keys the environment gives, on every chain that lists none of its own', async () => {
    const { cwd, file } = configFile();
    const chains = await chainsOf({ LEDGERSYNC_CONFIG: file, RELAYER_PRIVATE_KEY: `${KEY_1},${KEY_2}`, DEPLOYER_PRIVATE_KEY: KEY_2 }, cwd);
    for (const chain of chains) {
      expect(chain.signers).toEqual([
        { kind: 'key', privateKey: KEY_1, roles: ['default'] },
        { kind: 'key', privateKey: KEY_2, roles: [] },
      ]);
      expect(chain.family === 'evm' && chain.deployerPrivateKey).toBe(KEY_2);
    }
  });
});

describe('an EVM chain in the configuration file', () => {
  /** The chain `input` describes, over the environment `env`'s defaults. */
  const listed = (input: EvmChainInput, env: Record<string, string> = {}) => {
    const config = loadConfig(env, scratchDir());
    return evmChain(input)({ chain: config.chains[0]!, keys: config.keys, devKey: ANVIL_DEV_KEY, suiDevKey: SUI_DEV_KEY, home: config.home, index: 0 });
  };

  it('takes its configured gas price (gas.priceGwei) under its cap, else the environment\'s', () => {
    expect(listed({ id: 100, gas: { type: 'legacy', maxFeeGwei: 50, priceGwei: 2 } }).gas).toEqual({ type: 'legacy', maxFeePerGas: 50_000_000_000n, gasPrice: 2_000_000_000n, bumpPercent: 15 });
    expect(listed({ id: 100 }, { RELAYER_GAS_PRICE_GWEI: '3' }).gas.gasPrice).toBe(3_000_000_000n);
    expect(listed({ id: 100 }).gas.gasPrice).toBeUndefined();
  });

  it("waits rpcTimeoutMs for each RPC answer, else the environment's RPC_TIMEOUT_MS, and is refused without a positive one", () => {
    expect(listed({ id: 100, rpc: 'https://edge.example', rpcTimeoutMs: 3_000 }).rpcTimeoutMs).toBe(3_000);
    expect(listed({ id: 100 }, { RPC_TIMEOUT_MS: '4000' }).rpcTimeoutMs).toBe(4_000);
    expect(() => listed({ id: 100, rpcTimeoutMs: 0 })).toThrow('evmChain 100: rpcTimeoutMs must be a positive number of milliseconds');
  });

  it('is refused when its gas price is above its cap: the price is the least paid, the cap the most', () => {
    expect(() => listed({ id: 100, gas: { maxFeeGwei: 50, priceGwei: 60 } })).toThrow(
      'evmChain 100: the gas price, 60 gwei (gas.priceGwei or RELAYER_GAS_PRICE_GWEI), is above the cap, 50 gwei (gas.maxFeeGwei or RELAYER_MAX_FEE_GWEI): it is the least a transaction pays, the cap the most',
    );
    // The environment's price over a cap lowered here is refused just the same.
    expect(() => listed({ id: 100, gas: { maxFeeGwei: 2 } }, { RELAYER_GAS_PRICE_GWEI: '3' })).toThrow(/evmChain 100: the gas price, 3 gwei .* is above the cap, 2 gwei/);
  });
});
