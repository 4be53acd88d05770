/**
 * A worker process for crash tests of the Sui relayer: the engine's relayer
 * (startRelayer, as `ledgersync worker` runs it) with the Sui lifecycle of one
 * signer, against the simulator of the test process.
 *
 * Run: node --import tsx test/harness/sui-relayer-child.ts
 * (env: DATABASE_URL, SUI_URL, SUI_CHAIN, SUI_PACKAGE, SUI_CUSD, POOL_SIZE, and SUI_KEY, or SUI_KEYS: a relayer per key, comma-separated).
 */
import { connectSui } from '../../src/chain/sui/client.js';
import { suiSignerLifecycle } from '../../src/chain/sui/relayer/lifecycle.js';
import { startRelayer, type RunningRelayer } from '../../src/core/relayer/relayer.js';
import { connectDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/runtime/logger.js';
import { fastSuiRelayer, suiKinds } from './sui-relayer.js';

const env = (name: string) => process.env[name] ?? (() => { throw new Error(`${name} is required`); })();

const chain = env('SUI_CHAIN');
const { pool, close } = connectDatabase(env('DATABASE_URL'), { max: 8 });
const kinds = suiKinds(chain, env('SUI_PACKAGE'), env('SUI_CUSD'));
const logger = createLogger('info');
const keys = (process.env.SUI_KEYS ?? env('SUI_KEY')).split(',');
const relayers: RunningRelayer[] = [];
const starting = (async () => {
  for (const privateKey of keys) {
    const lifecycle = suiSignerLifecycle({ chain, conn: connectSui(env('SUI_URL'), chain), pool, privateKey, gas: { budget: 50_000_000n, poolSize: Number(env('POOL_SIZE')) }, logger });
    relayers.push(await startRelayer(chain, pool, lifecycle, kinds, { ...fastSuiRelayer, batchSize: 20 }, logger));
  }
})();
// Handled from the start: a SIGTERM while the relayers start stops them once they have (else it would kill the process).
process.once('SIGTERM', () => void starting.then(() => Promise.all(relayers.map((r) => r.stop()))).then(close).then(() => process.exit(0)));
await starting;
