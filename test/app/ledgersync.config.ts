/**
 * A deployment running only the neutral test app, on the chain the environment
 * describes (RPC_URL, with or without CHAIN_ID), for tests that run `ledgersync`
 * itself in a child process. TypeScript: the built CLI imports it through tsx's
 * loader (`node --import <tsx loader> dist/src/cli/main.js`, LEDGERSYNC_CONFIG=<this file>).
 */
import { defineConfig } from '../../src/engine/index.js';
import { ledgerTestApp } from './index.js';

export default defineConfig({
  apps: ([chain]) => [ledgerTestApp({ chain: chain! })],
});
