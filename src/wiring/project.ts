import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChainKey } from '../core/chain.js';
import type { LedgersyncApp } from '../engine/app.js';
import type { ProjectDefinition } from '../engine/config.js';
import { packageRoot } from '../runtime/paths.js';
import { ANVIL_DEV_KEY, SUI_DEV_KEY, ConfigError, type ChainConfig, type Config } from '../config/index.js';

/** The deployment: its chains (keys known) and the apps on them. */
export interface Project {
  chains: Array<ChainConfig & { key: ChainKey }>;
  apps: LedgersyncApp[];
}

/**
 * Loads the project's `ledgersync.config` (LEDGERSYNC_CONFIG, else the package's
 * own) and settles every chain's key, asking `learnKey` for a chain configured
 * without one (RPC_URL without CHAIN_ID: the node says).
 */
export async function loadProject(config: Config, learnKey: (chain: ChainConfig) => Promise<ChainKey>): Promise<Project> {
  const definition = await importDefinition(config.configFile);
  const listed = definition.chains?.map((make, index) => make({ chain: config.chains[0]!, keys: config.keys, devKey: ANVIL_DEV_KEY, suiDevKey: SUI_DEV_KEY, home: config.home, index })) ?? config.chains;
  const chains: Project['chains'] = [];
  for (const chain of listed) chains.push({ ...chain, key: chain.key ?? (await learnKey(chain)) });
  const keys = chains.map((c) => c.key);
  const duplicate = keys.find((key, i) => keys.indexOf(key) !== i);
  if (duplicate) throw new ConfigError(`invalid configuration: chain ${duplicate} is listed twice`);
  const apps = typeof definition.apps === 'function' ? definition.apps(keys) : definition.apps;
  for (const app of apps) {
    for (const chain of appChains(app)) {
      if (!keys.includes(chain)) throw new ConfigError(`invalid configuration: app ${app.name} uses chain ${chain}, which is not configured (configured: ${keys.join(', ')})`);
    }
  }
  return { chains, apps };
}

/** Every chain an app reads or writes. */
export function appChains(app: LedgersyncApp): ChainKey[] {
  return [...new Set([...(app.sources ?? []).map((s) => s.chain), ...(app.intents ?? []).map((k) => k.chain), ...(app.contracts ?? []).map((c) => c.chain)])];
}

async function importDefinition(file: string | undefined): Promise<ProjectDefinition> {
  const path = file ?? [join(packageRoot, 'dist', 'ledgersync.config.js'), join(packageRoot, 'ledgersync.config.ts')].find((p) => existsSync(p));
  if (!path || !existsSync(path)) throw new ConfigError(`invalid configuration: LEDGERSYNC_CONFIG: no such file ${path ?? 'ledgersync.config'}`);
  const module = (await import(pathToFileURL(path).href)) as { default?: ProjectDefinition };
  if (!module.default?.apps) throw new ConfigError(`invalid configuration: ${path} must export default defineConfig({ apps })`);
  return module.default;
}
