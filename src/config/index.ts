import { z } from 'zod';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import dotenv from 'dotenv';
import { gwei, type EvmChainConfig, type SignerSource } from './chains.js';
import { DEFAULT_REFUSED_SIGNED_MS } from '../core/relayer/context.js';

export type { ChainConfig, EvmChainConfig } from './chains.js';

/**
 * Every setting ledgersync reads, validated into one typed object at start-up.
 * .env.example documents each variable; keep the two in step.
 */
const port = z.coerce.number().int().min(1).max(65535);
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => value === undefined || isUrlWith(value, protocols), {
      message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    });

const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hex private key');

const envSchema = z.object({
  LEDGERSYNC_HOME: z.string().min(1).default('.ledgersync'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  EMBEDDED_POSTGRES_PORT: port.default(54329),
  // Connections per process. Some are held for as long as the process runs: per chain, the indexer's
  // leader lock and its address-set LISTEN; one LISTEN for the relayers, one per cache or live feed.
  DATABASE_POOL_SIZE: z.coerce.number().int().min(4).max(1000).default(20),

  RPC_URL: optionalUrl(['http:', 'https:']),
  WS_URL: optionalUrl(['ws:', 'wss:']),
  // The chain RPC_URL serves; without it, learned from the node (eth_chainId) when the stack starts.
  CHAIN_ID: z.coerce.number().int().min(1).max(2 ** 53 - 1).optional(),
  // How long one JSON-RPC request waits for the node's answer.
  RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  ANVIL_PORT: port.default(8545),
  ANVIL_BLOCK_TIME: z.coerce.number().int().min(1).max(3600).default(1),
  ANVIL_CHAIN_ID: z.coerce.number().int().min(1).max(2 ** 53 - 1).default(31337),
  ANVIL_HARDFORK: z.string().regex(/^[a-z]+$/, 'expected a hardfork name such as berlin or cancun').optional(),
  // How transactions pay: `auto` (EIP-1559 where the chain has a base fee), `eip1559`, or `legacy` (a gas price: Polygon Edge without London).
  RELAYER_GAS: z.enum(['auto', 'eip1559', 'legacy']).default('auto'),
  LEDGERSYNC_CONFIG: z.string().min(1).optional(),

  // Blocks on top of a block before it is final, for the indexer and the relayer alike (src/chain/finality.ts).
  FINALITY_DEPTH: z.coerce.number().int().min(0).max(10_000).optional(),
  INDEXER_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  INDEXER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  INDEXER_MAX_BLOCK_RANGE: z.coerce.number().int().min(1).max(1_000_000).default(20_000),

  DEPLOYMENTS_FILE: z.string().min(1).optional(),
  DEPLOYER_PRIVATE_KEY: privateKey.optional(),

  // Comma-separated signing keys of the single-chain shorthand; the first is the chain's `default` signer.
  RELAYER_PRIVATE_KEY: z
    .string()
    .optional()
    .transform((value) => (value ?? '').split(',').map((k) => k.trim()).filter(Boolean))
    .refine((keys) => keys.every((k) => /^0x[0-9a-fA-F]{64}$/.test(k)), { message: 'expected 0x-prefixed 32-byte hex private keys, comma-separated' }),
  RELAYER_KEYSTORE_FILE: z
    .string()
    .optional()
    .transform((value) => (value ?? '').split(',').map((k) => k.trim()).filter(Boolean)),
  RELAYER_KEYSTORE_PASSWORD: z.string().optional(),
  // Replaced by FINALITY_DEPTH (one definition of final); named here only to say so when it is set.
  RELAYER_CONFIRMATIONS: z.string().optional(),
  RELAYER_STUCK_BLOCKS: z.coerce.number().int().min(1).max(10_000).default(3),
  RELAYER_REFUSED_SIGNED_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(DEFAULT_REFUSED_SIGNED_MS),
  RELAYER_FEE_BUMP_PERCENT: z.coerce.number().int().min(10).max(1000).default(15),
  RELAYER_MAX_FEE_GWEI: z.coerce.number().positive().max(1_000_000).default(500),
  // The configured gas price of a legacy-gas chain: the least paid, and what is paid when eth_gasPrice fails or says 0.
  RELAYER_GAS_PRICE_GWEI: z.coerce.number().min(0).max(1_000_000).optional(),
  RELAYER_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
  RELAYER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),

  PUBLIC_URL: optionalUrl(['http:', 'https:']),
  /** Proxies in front of the API whose X-Forwarded-For is believed (the client address for rate limits and logs). */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  READ_CACHE_ENTRIES: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  READ_CACHE_HEARTBEAT_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).max(10_000_000).default(6_000),
  RATE_LIMIT_PER_KEY: z.coerce.number().int().min(0).max(1_000_000).default(600),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) => (value ?? '').split(',').map((o) => o.trim()).filter(Boolean))
    .refine((origins) => origins.every((o) => o === '*' || isUrlWith(o, ['http:', 'https:'])), { message: 'expected * or comma-separated origins like https://app.example' }),

  WEBHOOK_URLS: z
    .string()
    .optional()
    .transform((value) => (value ?? '').split(',').map((u) => u.trim()).filter(Boolean))
    .refine((urls) => urls.every((u) => isUrlWith(u, ['http:', 'https:'])), { message: 'expected comma-separated URLs starting with http:// or https://' }),
  WEBHOOK_SECRET: z.string().min(16).optional(),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(25).default(10),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
});

/** The first account of anvil's default mnemonic: public knowledge, used only on embedded chains. */
/**
 * The embedded Sui simulator's funded dev key (sha256 of "ledgersync embedded sui dev key";
 * address 0xb839e179…2a41): public like anvil's, so it never signs on a network reached by URL.
 */
export const SUI_DEV_KEY = 'suiprivkey1qplagkqeagvzfpa6crrf2udv23ujhfk0dvc39f4jz9axersh7u2aycaf726';
export const ANVIL_DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads `.env` (if present; real environment variables win) and returns the validated config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const merged = { ...readDotenv(cwd), ...env };
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${describeIssue(issue)}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return buildConfig(parsed.data, cwd);
}

function buildConfig(env: z.infer<typeof envSchema>, cwd: string) {
  const home = resolve(cwd, env.LEDGERSYNC_HOME);
  const embeddedChain = env.RPC_URL === undefined;
  if (env.RELAYER_PRIVATE_KEY.length > 0 && env.RELAYER_KEYSTORE_FILE.length > 0) {
    throw new ConfigError('invalid configuration: RELAYER_KEYSTORE_FILE: set either it or RELAYER_PRIVATE_KEY, not both');
  }
  if (env.RELAYER_KEYSTORE_FILE.length > 0 && env.RELAYER_KEYSTORE_PASSWORD === undefined) {
    throw new ConfigError('invalid configuration: RELAYER_KEYSTORE_PASSWORD: required with RELAYER_KEYSTORE_FILE');
  }
  if (env.WEBHOOK_URLS.length > 0 && !env.WEBHOOK_SECRET) {
    throw new ConfigError('invalid configuration: WEBHOOK_SECRET: required when WEBHOOK_URLS is set (deliveries are signed with it)');
  }
  if (env.RELAYER_CONFIRMATIONS !== undefined) {
    throw new ConfigError(
      'invalid configuration: RELAYER_CONFIRMATIONS: no longer read; an intent is confirmed when its block is final, FINALITY_DEPTH blocks deep, as the indexer counts it',
    );
  }
  if (env.RELAYER_GAS_PRICE_GWEI !== undefined && env.RELAYER_GAS_PRICE_GWEI > env.RELAYER_MAX_FEE_GWEI) {
    throw new ConfigError('invalid configuration: RELAYER_GAS_PRICE_GWEI: above RELAYER_MAX_FEE_GWEI (the configured gas price is the least a transaction pays, the cap the most)');
  }
  if (env.WS_URL && embeddedChain) {
    throw new ConfigError('invalid configuration: WS_URL: set RPC_URL too (WS_URL only adds a WebSocket to an RPC_URL chain)');
  }
  const chain: EvmChainConfig = {
    family: 'evm',
    key: embeddedChain ? `evm:${env.ANVIL_CHAIN_ID}` : env.CHAIN_ID ? `evm:${env.CHAIN_ID}` : undefined,
    endpoint: embeddedChain
      ? { kind: 'embedded', port: env.ANVIL_PORT, blockTime: env.ANVIL_BLOCK_TIME, chainId: env.ANVIL_CHAIN_ID, hardfork: env.ANVIL_HARDFORK, statePath: resolve(home, 'anvil', 'state.json') }
      : { kind: 'rpc', rpcUrl: env.RPC_URL!, wsUrl: env.WS_URL },
    rpcTimeoutMs: env.RPC_TIMEOUT_MS,
    // The embedded chain has one sealer and never reorganises by itself: one block on top is final there.
    finalityDepth: env.FINALITY_DEPTH ?? (embeddedChain ? 1 : 64),
    pollIntervalMs: env.INDEXER_POLL_INTERVAL_MS,
    concurrency: env.INDEXER_CONCURRENCY,
    maxBlockRange: env.INDEXER_MAX_BLOCK_RANGE,
    gas: {
      type: env.RELAYER_GAS,
      maxFeePerGas: gwei(env.RELAYER_MAX_FEE_GWEI),
      bumpPercent: env.RELAYER_FEE_BUMP_PERCENT,
      gasPrice: env.RELAYER_GAS_PRICE_GWEI === undefined ? undefined : gwei(env.RELAYER_GAS_PRICE_GWEI),
    },
    /** One relayer per signer; none: the worker sends nothing (intents wait in the outbox). The first is the `default` role. */
    signers: relayerSigners(env, embeddedChain, cwd).map((source, i) => ({ ...source, roles: i === 0 ? ['default'] : [] })),
    deployerPrivateKey: (env.DEPLOYER_PRIVATE_KEY ?? (embeddedChain ? ANVIL_DEV_KEY : undefined)) as `0x${string}` | undefined,
  };
  return {
    home,
    /** A module whose default export is `defineConfig({ chains?, apps })`; default: the package's ledgersync.config. */
    configFile: env.LEDGERSYNC_CONFIG ? resolve(cwd, env.LEDGERSYNC_CONFIG) : undefined,
    http: { host: env.HOST, port: env.PORT, trustProxyHops: env.TRUST_PROXY_HOPS, publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''), readCacheEntries: env.READ_CACHE_ENTRIES, readCacheHeartbeatMs: env.READ_CACHE_HEARTBEAT_MS, rateLimitPerIp: env.RATE_LIMIT_PER_IP, rateLimitPerKey: env.RATE_LIMIT_PER_KEY, corsOrigins: env.CORS_ORIGINS },
    logLevel: env.LOG_LEVEL,
    database: env.DATABASE_URL
      ? ({ kind: 'url', url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE } as const)
      : ({ kind: 'embedded', port: env.EMBEDDED_POSTGRES_PORT, dir: resolve(home, 'postgres'), poolSize: env.DATABASE_POOL_SIZE } as const),
    /** The chains of this deployment: from the environment (one chain), unless the config file lists them. */
    chains: [chain] as EvmChainConfig[],
    /**
     * The keys the environment gives (RELAYER_PRIVATE_KEY or keystores, DEPLOYER_PRIVATE_KEY), for the
     * chains the config file lists without their own. Unlike the environment's chain above, no dev key:
     * whether a listed chain may use that depends on that chain being embedded, not on RPC_URL.
     */
    keys: {
      signers: relayerSigners(env, false, cwd).map((source, i) => ({ ...source, roles: i === 0 ? ['default'] : [] })),
      deployerPrivateKey: env.DEPLOYER_PRIVATE_KEY as `0x${string}` | undefined,
    },
    deploymentsFile: resolve(cwd, env.DEPLOYMENTS_FILE ?? resolve(home, 'deployments.json')),
    relayer: {
      stuckBlocks: env.RELAYER_STUCK_BLOCKS,
      refusedSignedMs: env.RELAYER_REFUSED_SIGNED_MS,
      batchSize: env.RELAYER_BATCH_SIZE,
      pollIntervalMs: env.RELAYER_POLL_INTERVAL_MS,
    },
    webhooks: { urls: env.WEBHOOK_URLS, secret: env.WEBHOOK_SECRET ?? '', maxAttempts: env.WEBHOOK_MAX_ATTEMPTS, timeoutMs: env.WEBHOOK_TIMEOUT_MS },
  };
}

function relayerSigners(env: z.infer<typeof envSchema>, embeddedChain: boolean, cwd: string): SignerSource[] {
  if (env.RELAYER_KEYSTORE_FILE.length > 0) {
    return env.RELAYER_KEYSTORE_FILE.map((path) => ({ kind: 'keystore', path: resolve(cwd, path), password: env.RELAYER_KEYSTORE_PASSWORD ?? '' }));
  }
  const keys = env.RELAYER_PRIVATE_KEY.length > 0 ? env.RELAYER_PRIVATE_KEY : embeddedChain ? [ANVIL_DEV_KEY] : [];
  return keys.map((key) => ({ kind: 'key', privateKey: key as `0x${string}` }));
}

function readDotenv(cwd: string): Record<string, string> {
  const path = resolve(cwd, '.env');
  if (!existsSync(path)) return {};
  return dotenv.config({ path, processEnv: {}, quiet: true }).parsed ?? {};
}

function isUrlWith(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

// Values are never echoed: some variables hold secrets (DATABASE_URL, DEPLOYER_PRIVATE_KEY, RELAYER_PRIVATE_KEY, RELAYER_KEYSTORE_PASSWORD, WEBHOOK_SECRET).
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'number' ? 'a number' : issue.expected}`;
    case 'too_small':
    case 'too_big':
      if (issue.origin === 'string') return `expected ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} characters`;
      return `expected ${issue.origin === 'number' ? 'a number' : 'a value'} ${issue.code === 'too_small' ? '>=' : '<='} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    default:
      return issue.message;
  }
}
