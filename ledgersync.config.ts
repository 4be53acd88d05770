import { defineConfig, environmentChain, evmChain } from './src/engine/index.js';
import { credentialsApp } from './src/apps/credentials/index.js';
import { issuerApp } from './src/apps/issuer/index.js';
import { paymentsApp } from './src/apps/payments/index.js';

/**
 * This deployment: its chains and the apps on them (README, "Configuration").
 * - BlockProof (credentials) on the chain the environment describes: RPC_URL, or an embedded anvil.
 * - Confío payments on the embedded chain too (its contracts CUSD, Pay and P2PTrade beside BlockProof's);
 *   pointed at a real chain with RPC_URL, payments is left out (its contracts name a platform signer).
 * - The issuer platform on a Polygon Edge chain (chain 100, legacy gas): ISSUER_RPC_URL, or, on
 *   embedded defaults (no RPC_URL), a second embedded anvil (`--hardfork berlin --chain-id 100`).
 *   Pointed at a real chain with RPC_URL and no ISSUER_RPC_URL, the issuer platform is left out.
 * Secrets come from the environment; list chains with `evmChain({ … })` to run others.
 */
// Seed 003's fix 3: the node's gas price, never below the configured one, which is also the fallback.
const issuerGas = { type: 'legacy' as const, ...(process.env.ISSUER_GAS_PRICE_GWEI ? { priceGwei: Number(process.env.ISSUER_GAS_PRICE_GWEI) } : {}) };
const issuerChain = process.env.ISSUER_RPC_URL
  ? evmChain({ id: Number(process.env.ISSUER_CHAIN_ID ?? 100), rpc: process.env.ISSUER_RPC_URL, ws: process.env.ISSUER_WS_URL, gas: issuerGas })
  : process.env.RPC_URL
    ? undefined
    : evmChain({
        id: 100,
        embedded: { hardfork: 'berlin', ...(process.env.ISSUER_ANVIL_PORT ? { port: Number(process.env.ISSUER_ANVIL_PORT) } : {}) },
        finalityDepth: 2,
        gas: issuerGas,
      });

export default defineConfig({
  chains: issuerChain ? [environmentChain(), issuerChain] : [environmentChain()],
  apps: ([main, issuer]) => [
    credentialsApp({ chain: main! }),
    ...(issuer ? [issuerApp({ chain: issuer })] : []),
    ...(process.env.RPC_URL ? [] : [paymentsApp({ chains: [{ family: 'evm', chain: main! }] })]),
  ],
});
