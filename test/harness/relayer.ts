import type pg from 'pg';
import { onTestFinished } from 'vitest';
import { keccak256, toHex, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { createLogger } from '../../src/runtime/logger.js';
import { credentialIntents } from '../../src/apps/credentials/intents.js';
import { createOutbox, type SubmitIntent } from '../../src/core/relayer/outbox.js';
import { startRelayer, type RelayerOptions } from '../../src/core/relayer/relayer.js';
import { fastRelayer } from './ledger-relayer.js';
import type { IntentKind } from '../../src/core/relayer/types.js';
import { connectTestChain, type TestChainOptions } from './evm.js';
import { createTestDatabase } from './db.js';
import { vaultWorld } from './vault-world.js';
import { inTransaction } from '../../src/db/transaction.js';
import { startRpcProxy, type FaultPlan } from './rpc-proxy.js';
import { blockProofCredentialVaultAbi } from '../../contracts/artifacts/BlockProofCredentialVault.js';

/** anvil's second dev account: the institution registered in the vault world, and the relayer's signer. */
export const INSTITUTION_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const MNEMONIC = 'test test test test test test test test test test test junk';

/** The credentials app's intents on the test anvils (chain 31337). */
export const credentialKinds = credentialIntents('evm:31337');

/** A private anvil with the vault, a fresh database, and an outbox whose signer is the institution. */
export async function relayerWorld(
  options: { blockTime?: number; finalityDepth?: number; kinds?: IntentKind[]; hardfork?: string; gas?: TestChainOptions['gas']; /** Relay through a fault proxy in front of the chain. */ node?: FaultPlan } = {},
) {
  const world = await vaultWorld({ blockTime: options.blockTime ?? 0.2, ...(options.hardfork ? { hardfork: options.hardfork } : {}) });
  const database = await createTestDatabase();
  onTestFinished(() => database.drop());
  const node = options.node ? await startRpcProxy(world.rpcUrl, options.node) : undefined;
  if (node) onTestFinished(() => node.close());
  const evm = await connectTestChain(node?.url ?? world.rpcUrl, { deploymentsFile: world.deploymentsFile, finalityDepth: options.finalityDepth ?? 1, ...(options.gas ? { gas: options.gas } : {}) });
  const chain = evm.conn;
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
  const kinds = options.kinds ?? credentialKinds;
  const outbox = createOutbox({ chains: [{ key: evm.key, codec: evm.codec, signers: [{ address: account.address.toLowerCase(), roles: ['default'] }] }], kinds });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

  /** An issue intent whose metadata URI is its key: the chain's events say which key each effect belongs to. */
  const issue = (key: string): SubmitIntent => ({
    idempotencyKey: key,
    kind: 'credentials.issue',
    functionName: 'issueCredential',
    args: [{ student: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', fingerprint: keccak256(toHex(`${key}-${Math.random()}`)), metadataURI: key, expiresAt: 0n }],
  });

  return {
    world,
    node,
    evm,
    database,
    chain,
    account,
    outbox,
    issue,
    /** Submits intents, all in one application transaction. */
    submit: (intents: SubmitIntent[]) =>
      inTransaction(database.pool, async (client) => {
        const submitted = [];
        for (const intent of intents) submitted.push(await outbox.submit(client, intent));
        return submitted;
      }),
    async startRelayer(overrides: Partial<RelayerOptions> = {}, pool: pg.Pool = database.pool) {
      const relayer = await startRelayer(evm.key, pool, evm.lifecycle(account, kinds, pool, logger), kinds, { ...fastRelayer, finalityDepth: options.finalityDepth ?? 1, ...overrides }, logger);
      onTestFinished(() => relayer.stop());
      return relayer;
    },
    /** Resolves when no intent is left outside a final state. */
    async settled(timeoutMs = 60_000): Promise<Record<string, number>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await database.pool.query<{ state: string; n: number }>('select state, count(*)::int as n from relayer_intents group by state');
        const states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
        if (Object.keys(states).every((s) => s === 'confirmed' || s === 'failed')) return states;
        if (Date.now() > deadline) throw new Error(`intents not settled: ${JSON.stringify(states)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** CredentialIssued events on chain per metadata URI (= idempotency key). */
    async effectsByKey(): Promise<Map<string, number>> {
      const logs = await world.publicClient.getContractEvents({ address: world.vault, abi: blockProofCredentialVaultAbi, eventName: 'CredentialIssued', fromBlock: 0n });
      const counts = new Map<string, number>();
      for (const log of logs) {
        const key = (log.args as { metadataURI: string }).metadataURI;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    nonceOnChain: () => world.publicClient.getTransactionCount({ address: account.address, blockTag: 'latest' }),
  };
}
