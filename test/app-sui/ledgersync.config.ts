/**
 * A deployment running only the Sui test app, for tests that run `ledgersync`
 * itself in a child process (through tsx's loader, as test/app's config):
 * the Sui network at SUI_URL (named SUI_NETWORK, default the simulator's
 * `localnet-sim`), or without SUI_URL the embedded simulator on SUI_SIM_PORT.
 * SUI_PACKAGE is the package whose payments the app follows; SUI_BATCH_CHECKPOINTS
 * bounds the checkpoints of one indexer commit.
 */
import { defineConfig, suiChain } from '../../src/engine/index.js';
import { suiTestApp } from './index.js';

const { SUI_URL, SUI_NETWORK, SUI_SIM_PORT, SUI_PACKAGE, SUI_BATCH_CHECKPOINTS, SUI_CHECKPOINT_INTERVAL_MS } = process.env;
if (!SUI_PACKAGE) throw new Error('test/app-sui/ledgersync.config.ts: set SUI_PACKAGE to the package the payments source follows');

export default defineConfig({
  chains: [
    suiChain({
      ...(SUI_URL ? { url: SUI_URL, network: SUI_NETWORK ?? 'localnet-sim' } : {}),
      embedded: { ...(SUI_SIM_PORT ? { port: Number(SUI_SIM_PORT) } : {}), ...(SUI_CHECKPOINT_INTERVAL_MS ? { checkpointIntervalMs: Number(SUI_CHECKPOINT_INTERVAL_MS) } : {}) },
      pollIntervalMs: 200,
      ...(SUI_BATCH_CHECKPOINTS ? { batchCheckpoints: Number(SUI_BATCH_CHECKPOINTS) } : {}),
    }),
  ],
  apps: ([chain]) => [suiTestApp({ chain: chain!, packages: [SUI_PACKAGE] })],
});
