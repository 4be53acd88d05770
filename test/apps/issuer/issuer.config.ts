/**
 * The issuer platform on a Polygon Edge-like chain (chain 100, legacy gas) whose
 * endpoint the test gives: ISSUER_RPC_URL (and ISSUER_WS_URL). Used in process
 * (test/harness/issuer-world.ts) and by the roles started as separate processes,
 * with the same environment. Timing knobs come from the environment too.
 */
import { defineConfig, evmChain } from '../../../src/engine/index.js';
import { issuerApp } from '../../../src/apps/issuer/index.js';

/** anvil's first dev account (public knowledge): deploys the contracts and sends the platform's transactions. */
const DEV_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export default defineConfig({
  chains: [
    evmChain({
      id: 100,
      rpc: process.env.ISSUER_RPC_URL,
      ws: process.env.ISSUER_WS_URL,
      finalityDepth: Number(process.env.ISSUER_FINALITY ?? '2'),
      pollIntervalMs: 100,
      gas: { type: 'legacy', maxFeeGwei: 100 },
      deployerPrivateKey: DEV_KEY_0,
      signers: [{ privateKey: DEV_KEY_0, roles: ['default', 'platform'] }],
    }),
  ],
  apps: () => [
    issuerApp({
      chain: 'evm:100',
      platformSigner: 'platform',
      deployTimeoutSeconds: Number(process.env.ISSUER_DEPLOY_TIMEOUT ?? '120'),
      // Small limits, so that a test can trip each rule with a few investments.
      aml: { sanctionedCountries: ['KP', 'IR'], periodLimit: 10_000n, periodDays: 30, velocityMax: 100, velocityWindowHours: 24, reviewAbove: 5_000n },
    }),
  ],
});
