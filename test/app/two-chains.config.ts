/**
 * A deployment on two chains at once, for test/cli/two-chains.test.ts: BlockProof
 * (the credentials app) on an EIP-1559 chain (31337, finality 2) and the neutral
 * test app on a Polygon Edge-like chain without a base fee (100, legacy gas,
 * finality 4), each with its own endpoint, finality, gas and signer. The
 * endpoints come from the environment: RPC_URL_A / WS_URL_A, RPC_URL_B / WS_URL_B.
 */
import { defineConfig, evmChain } from '../../src/engine/index.js';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { ledgerTestApp } from './index.js';

/** anvil's first and second dev accounts: public knowledge. The first deploys the vault and so administers it. */
const DEV_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const DEV_KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export default defineConfig({
  chains: [
    evmChain({ id: 31337, rpc: process.env.RPC_URL_A, ws: process.env.WS_URL_A, finalityDepth: 2, deployerPrivateKey: DEV_KEY_0, signers: [{ privateKey: DEV_KEY_0 }] }),
    evmChain({
      id: 100,
      rpc: process.env.RPC_URL_B,
      ws: process.env.WS_URL_B,
      finalityDepth: 4,
      gas: { type: 'legacy', maxFeeGwei: 50 },
      deployerPrivateKey: DEV_KEY_0,
      signers: [{ privateKey: DEV_KEY_1 }],
    }),
  ],
  apps: () => [credentialsApp({ chain: 'evm:31337' }), ledgerTestApp({ chain: 'evm:100' })],
});
