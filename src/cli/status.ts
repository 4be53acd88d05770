import type pg from 'pg';
import type { Config } from '../config/index.js';
import type { SuiChainConfig } from '../config/chains.js';
import { connectSui } from '../chain/sui/client.js';
import { latestCheckpoint } from '../chain/sui/indexer/checkpoints.js';
import { connectDatabase } from '../db/client.js';
import { embeddedPostgresUrl } from '../db/embedded.js';
import { connectChain } from '../chain/evm/client.js';
import { hasCode } from '../chain/evm/deploy.js';
import { readDeployments } from '../chain/evm/deployments.js';
import { redactUrl } from '../runtime/redact.js';
import { loadProject } from '../wiring/project.js';

interface Line {
  name: string;
  ok: boolean;
  text: string;
}

/**
 * Reports on the configured database, chain, indexer head and contracts without
 * starting anything: embedded services are reported as not running unless a
 * `ledgersync start` is up.
 */
export async function collectStatus(config: Config): Promise<Line[]> {
  const lines: Line[] = [];

  const databaseUrl = config.database.kind === 'url' ? config.database.url : embeddedPostgresUrl(config.database.dir, config.database.port);
  const where = config.database.kind === 'embedded' ? ' (embedded)' : '';
  const indexers = new Map<string, { indexed: bigint; seen: Date | null; halted: string | null }>();
  if (!databaseUrl) {
    lines.push({ name: 'database', ok: false, text: `embedded PostgreSQL not created yet under ${config.database.dir}; run ledgersync start` });
  } else {
    const database = connectDatabase(databaseUrl, { max: 1 });
    try {
      const { rows } = await database.pool.query<{ n: string }>('select count(*)::text as n from drizzle.__drizzle_migrations');
      lines.push({ name: 'database', ok: true, text: `${redactUrl(databaseUrl)}${where}, ${rows[0]?.n ?? 0} engine migrations applied` });
      const checkpoints = await database.pool.query<{ chain: string; block_number: bigint; head_seen_at: Date | null; halted_reason: string | null }>(
        'select chain, block_number, head_seen_at, halted_reason from indexer_checkpoints order by chain',
      );
      for (const row of checkpoints.rows) indexers.set(row.chain, { indexed: row.block_number, seen: row.head_seen_at, halted: row.halted_reason });
      lines.push({ name: 'relayer', ...(await relayerSummary(database.pool)) });
    } catch (error) {
      lines.push({ name: 'database', ok: false, text: `${redactUrl(databaseUrl)}${where}: ${firstLine(error)}` });
    } finally {
      await database.close();
    }
  }

  /** `head` undefined: the node did not answer, so only where the indexer stands is known. */
  const indexerLine = (key: string, head: bigint | undefined, words: IndexerWords): Line => {
    const indexer = indexers.get(key);
    if (!indexer) return { name: 'indexer', ok: true, text: `${key} not indexed in this database yet` };
    const age = indexer.seen ? `${Math.round((Date.now() - indexer.seen.getTime()) / 1000)} s ago` : 'never';
    return indexer.halted
      ? { name: 'indexer', ok: false, text: `${key} HALTED at ${words.unit} ${indexer.indexed}: ${indexer.halted}` }
      : { name: 'indexer', ok: true, text: `${key} indexed to ${words.unit} ${indexer.indexed}${head === undefined ? '' : words.progress(indexer.indexed, head)} (last seen ${age})` };
  };

  for (const configured of await chainsOf(config)) {
    if (configured.family === 'sui') {
      lines.push(...(await suiStatus(configured, indexerLine)));
      continue;
    }
    const rpcUrl = configured.endpoint.kind === 'rpc' ? configured.endpoint.rpcUrl : `http://127.0.0.1:${configured.endpoint.port}`;
    const embedded = configured.endpoint.kind === 'embedded' ? ' (embedded)' : '';
    try {
      const chain = await connectChain(rpcUrl, undefined, { rpcTimeoutMs: configured.rpcTimeoutMs });
      const key = `evm:${chain.chainId}`;
      const head = await chain.publicClient.getBlockNumber();
      lines.push({ name: 'chain', ok: true, text: `${key} at ${redactUrl(rpcUrl)}${embedded}, head ${head}` });
      lines.push(indexerLine(key, head, EVM_WORDS));
      const recorded = readDeployments(config.deploymentsFile)[key] ?? {};
      if (Object.keys(recorded).length === 0) lines.push({ name: 'contracts', ok: false, text: `none recorded for ${key} in ${config.deploymentsFile}` });
      for (const [name, deployment] of Object.entries(recorded)) {
        const live = await hasCode(chain, deployment.address);
        lines.push({ name: 'contracts', ok: live, text: `${key} ${name} ${deployment.address} from block ${deployment.blockNumber}${live ? '' : ': no code at this address'}` });
      }
    } catch (error) {
      lines.push({ name: 'chain', ok: false, text: `${redactUrl(rpcUrl)}${embedded}: ${firstLine(error)}` });
    }
  }
  return lines;
}

/** How the indexer line speaks of a family's blocks: what it indexed, and how far behind the chain that is. */
interface IndexerWords {
  unit: string;
  progress(indexed: bigint, head: bigint): string;
}

const EVM_WORDS: IndexerWords = { unit: 'block', progress: (indexed, head) => `, ${head - indexed} behind the head` };
const SUI_WORDS: IndexerWords = { unit: 'checkpoint', progress: (indexed, head) => ` of ${head}, lag ${head - indexed} checkpoint${head - indexed === 1n ? '' : 's'}` };

/** A Sui network: the node's latest checkpoint, and how far the indexer is behind it. */
async function suiStatus(chain: SuiChainConfig, indexerLine: (key: string, head: bigint | undefined, words: IndexerWords) => Line): Promise<Line[]> {
  const url = chain.endpoint.kind === 'grpc' ? chain.endpoint.url : `http://127.0.0.1:${chain.endpoint.port}`;
  const embedded = chain.endpoint.kind === 'embedded';
  const where = `${chain.key} at ${redactUrl(url)}${embedded ? ' (embedded simulator)' : ''}`;
  try {
    const head = await latestCheckpoint(connectSui(url, chain.key).client);
    return [{ name: 'chain', ok: true, text: `${where}, latest checkpoint ${head}` }, indexerLine(chain.key, head, SUI_WORDS)];
  } catch (error) {
    // The key does not come from the node: where its indexer stands is known all the same.
    const why = embedded ? `not answering (${firstLine(error)}): it runs only while ledgersync start does` : firstLine(error);
    return [{ name: 'chain', ok: false, text: `${where}: ${why}` }, indexerLine(chain.key, undefined, SUI_WORDS)];
  }
}


/** The configured chains, from the project's config file when it lists them (keys not needed: each node is asked). */
async function chainsOf(config: Config) {
  try {
    return (await loadProject(config, async () => 'evm:unknown')).chains;
  } catch {
    return config.chains;
  }
}

/** Intents not yet final by state, failures, webhook deliveries that used up their tries, and app handlers being retried. */
async function relayerSummary(pool: pg.Pool): Promise<{ ok: boolean; text: string }> {
  const { rows } = await pool.query<{ state: string; n: number }>("select state, count(*)::int as n from relayer_intents where state <> 'confirmed' group by state");
  const count = (state: string) => rows.find((r) => r.state === state)?.n ?? 0;
  const inFlight = ['pending', 'signed', 'broadcast', 'included'].filter((state) => count(state) > 0).map((state) => `${count(state)} ${state}`);
  const { rows: dead } = await pool.query<{ n: number }>('select count(*)::int as n from relayer_webhook_dead_letters');
  const { rows: handlers } = await pool.query<{ n: number }>('select count(distinct intent_id)::int as n from relayer_handler_calls where attempts > 0');
  const failing = handlers[0]?.n ?? 0;
  const text = `${inFlight.length > 0 ? inFlight.join(', ') : 'no intents in flight'}; ${count('failed')} failed; ${dead[0]?.n ?? 0} webhook dead letters`;
  return failing > 0 ? { ok: false, text: `${text}; app handlers failing for ${failing} intents (pendingHandlers in GET /api/tx/:id)` } : { ok: true, text };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
