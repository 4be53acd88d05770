/**
 * A worker process for crash tests of the relayer with an app whose handler
 * sometimes throws: the engine's own relayer (startRelayer, as `ledgersync
 * worker` runs it) with the credentials intents, where `credentials.issue` has an
 * `onConfirmed` that records the intent in `handled` and throws for intents whose
 * key is listed in `failing_keys`. Both tables belong to the test's database.
 *
 * Run: node --import tsx test/harness/relayer-child.ts (env: DATABASE_URL, RPC_URL, RELAYER_PRIVATE_KEY, FINALITY_DEPTH).
 */
import type { Hex } from 'viem';
import { credentialsApp } from '../../src/apps/credentials/index.js';
import { connectChain } from '../../src/chain/evm/client.js';
import { startRelayer } from '../../src/relayer/relayer.js';
import { signerFromPrivateKey } from '../../src/relayer/signer.js';
import type { IntentKind } from '../../src/relayer/types.js';
import { createLogger } from '../../src/runtime/logger.js';
import { connectDatabase } from '../../src/db/client.js';

const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is required`); })();

const kinds: IntentKind[] = credentialsApp.intents.map((kind) =>
  kind.name !== 'credentials.issue'
    ? kind
    : {
        ...kind,
        async onConfirmed(intent, client) {
          await client.query('insert into handled (key) values ($1)', [intent.idempotencyKey]);
          const { rows } = await client.query('select 1 from failing_keys where key = $1', [intent.idempotencyKey]);
          if (rows.length > 0) throw new Error(`the app refuses ${intent.idempotencyKey} for now`);
        },
      },
);

const { pool, close } = connectDatabase(env('DATABASE_URL'), { max: 6 });
const relayer = await startRelayer(
  await connectChain(env('RPC_URL')),
  pool,
  signerFromPrivateKey(env('RELAYER_PRIVATE_KEY') as Hex),
  kinds,
  { finalityDepth: Number(env('FINALITY_DEPTH')), fees: { maxFeePerGas: 500_000_000_000n, bumpPercent: 15 }, batchSize: 20, stuckBlocks: 3, rebroadcastMs: 3_000, pollIntervalMs: 50, gapCheckMs: 5_000 },
  createLogger('info'),
);
process.once('SIGTERM', () => void relayer.stop().then(close).then(() => process.exit(0)));
