/**
 * Two embedded chains, as `npm start` runs them with this configuration: one
 * anvil each under LEDGERSYNC_HOME (31337 with EIP-1559 on ANVIL_PORT; 100 with
 * `--hardfork berlin` on the next port, or ANVIL_PORT_B), BlockProof on the first
 * and the neutral test app on the second. For test/cli/two-chains.test.ts.
 */
import { defineConfig, evmChain } from '../../src/engine/index.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { ledgerTestApp } from './index.js';

export default defineConfig({
  chains: [
    evmChain({ id: 31337 }),
    evmChain({ id: 100, embedded: { hardfork: 'berlin', ...(process.env.ANVIL_PORT_B ? { port: Number(process.env.ANVIL_PORT_B) } : {}) }, gas: { type: 'legacy' } }),
  ],
  apps: ([a, b]) => [credentialsApp({ chain: a! }), ledgerTestApp({ chain: b! })],
});
