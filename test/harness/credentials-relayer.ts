import { onTestFinished } from 'vitest';
import { keccak256, toHex, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { createLogger } from '../../src/runtime/logger.js';
import { credentialIntents } from '../../src/apps/credentials/intents.js';
import { createOutbox, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import { startRelayer, type RelayerOptions } from '../../src/core/relayer/relayer.js';
import { inTransaction } from '../../src/db/transaction.js';
import { connectTestChain } from './evm.js';
import { createTestDatabase } from './db.js';
import { credentialsMigrations } from './credentials-indexer.js';
import { fastRelayer } from './ledger-relayer.js';
import { vaultWorld } from './vault-world.js';

/** anvil's second dev account: the institution registered in the vault world, and the relayer's signer. */
export const INSTITUTION_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * For the credentials app's own tests (test/apps/): a private anvil with the
 * vault (a block every 0.2 s), a fresh database with the app's tables, and an
 * outbox and relayer of the app's intents whose signer is the institution. The
 * engine's relayer tests use the neutral test app's ledgerRelayerWorld instead.
 */
export async function credentialsRelayerWorld(options: { finalityDepth?: number } = {}) {
  const world = await vaultWorld({ blockTime: 0.2 });
  const database = await createTestDatabase(credentialsMigrations);
  onTestFinished(() => database.drop());
  const finalityDepth = options.finalityDepth ?? 1;
  const evm = await connectTestChain(world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth });
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
  const kinds = credentialIntents(evm.key);
  const outbox = createOutbox({ chains: [{ key: evm.key, codec: evm.codec, signers: [{ address: account.address.toLowerCase(), roles: ['default'] }] }], kinds });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

  return {
    world,
    evm,
    database,
    account,
    outbox,
    /** An issue intent whose metadata URI is its key. */
    issue: (key: string): SubmitIntent => ({
      idempotencyKey: key,
      kind: 'credentials.issue',
      functionName: 'issueCredential',
      args: [{ student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', fingerprint: keccak256(toHex(`${key}-${Math.random()}`)), metadataURI: key, expiresAt: 0n }],
    }),
    /** Submits intents, all in one application transaction. */
    submit: (intents: SubmitIntent[]) =>
      inTransaction(database.pool, async (client) => {
        const submitted = [];
        for (const intent of intents) submitted.push(await outbox.submit(client, intent));
        return submitted;
      }),
    async startRelayer(overrides: Partial<RelayerOptions> = {}) {
      const relayer = await startRelayer(evm.key, database.pool, evm.lifecycle(account, kinds, database.pool, logger), kinds, { ...fastRelayer, finalityDepth, ...overrides }, logger);
      onTestFinished(() => relayer.stop());
      return relayer;
    },
  };
}
