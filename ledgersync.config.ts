import { defineConfig } from './src/engine/index.js';
import { credentialsApp } from './src/apps/credentials/index.js';

/**
 * This deployment: its chains (here, the one the environment describes: RPC_URL,
 * or an embedded anvil) and the apps on them. List chains with `evmChain({ … })`
 * to run several; secrets come from the environment. See README, "Configuration".
 */
export default defineConfig({
  apps: ([chain]) => [credentialsApp({ chain: chain! })],
});
