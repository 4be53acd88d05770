/**
 * A worker process for crash tests of the relayer with an app whose handler
 * sometimes throws: the engine's own relayer (startRelayer, as `ledgersync
 * worker` runs it) with the neutral test app's intents, where `ledger.write` has
 * an `onConfirmed` that records the intent in `handled` and throws for intents
 * whose key is listed in `failing_keys`. Both tables belong to the test's database.
 *
 * Run: node --import tsx test/harness/relayer-child.ts (env: DATABASE_URL, RPC_URL, DEPLOYMENTS_FILE, RELAYER_PRIVATE_KEY, FINALITY_DEPTH).
 */
import type { Hex } from 'viem';
import { startRelayer } from '../../src/core/relayer/relayer.js';
import { signerFromPrivateKey } from '../../src/chain/evm/relayer/signer.js';
import type { IntentKind } from '../../src/core/relayer/types.js';
import { connectTestChain } from './evm.js';
import { ledgerIntents } from '../app/index.js';
import { createLogger } from '../../src/runtime/logger.js';
import { connectDatabase } from '../../src/db/client.js';

const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is required`); })();

const { pool, close } = connectDatabase(env('DATABASE_URL'), { max: 6 });
const chain = await connectTestChain(env('RPC_URL'), { deploymentsFile: env('DEPLOYMENTS_FILE'), finalityDepth: Number(env('FINALITY_DEPTH')) });
const kinds: IntentKind[] = ledgerIntents(chain.key).map((kind) =>
  kind.name !== 'ledger.write'
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

const logger = createLogger('info');
const starting = startRelayer(
  chain.key,
  pool,
  chain.lifecycle(signerFromPrivateKey(env('RELAYER_PRIVATE_KEY') as Hex), kinds, pool, logger),
  kinds,
  { finalityDepth: Number(env('FINALITY_DEPTH')), batchSize: 20, stuckBlocks: 3, rebroadcastMs: 3_000, pollIntervalMs: 50, maintainMs: 5_000 },
  logger,
);
// Handled from the start: a SIGTERM while the relayer starts stops it once it has (else it would kill the process).
process.once('SIGTERM', () => void starting.then((relayer) => relayer.stop()).then(close).then(() => process.exit(0)));
await starting;
