import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { startAnvil, type Anvil } from '../../src/chain/evm/anvil.js';
import { loadConfig } from '../../src/config/index.js';
import { createApiKey } from '../../src/http/api-keys.js';
import { createLogger } from '../../src/runtime/logger.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { freePort } from '../../src/runtime/ports.js';
import { openStack, type Stack } from '../../src/wiring/stack.js';
import { startRole, type Role, type RunningRole } from '../../src/wiring/roles.js';
import { CLI_WITH_TS_CONFIG, runCli, scratchDir } from './cli.js';
import { createEmptyDatabase } from './db.js';

export const ISSUER_CONFIG = join(packageRoot, 'test', 'apps', 'issuer', 'issuer.config.ts');

/**
 * The issuer platform on its own Polygon Edge-like anvil (berlin, chain 100) and
 * PostgreSQL: the environment its roles run with (in this process with `start`,
 * or as separate processes), keys for each role, and a small HTTP client.
 * `start` works once per test file: the config module reads the environment
 * (RPC URL, finality, timeouts) when first imported, and imports are cached.
 */
export async function issuerWorld(
  options: { blockTime?: number; finality?: number; deployTimeoutSeconds?: number; rpcUrl?: (anvil: Anvil) => string | Promise<string>; keepStates?: number } = {},
) {
  // keepStates: anvil_reorg needs the states below the blocks it replaces.
  const anvil = await startAnvil({ port: await freePort(), chainId: 100, hardfork: 'berlin', blockTime: options.blockTime ?? 1, keepStates: options.keepStates });
  onTestFinished(() => anvil.stop());
  const database = await createEmptyDatabase();
  onTestFinished(() => database.drop());
  const cwd = scratchDir();
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    LEDGERSYNC_CONFIG: ISSUER_CONFIG,
    ISSUER_RPC_URL: (await options.rpcUrl?.(anvil)) ?? anvil.rpcUrl,
    ISSUER_FINALITY: String(options.finality ?? 2),
    ISSUER_DEPLOY_TIMEOUT: String(options.deployTimeoutSeconds ?? 120),
    DEPLOYMENTS_FILE: join(cwd, 'deployments.json'),
    LEDGERSYNC_HOME: join(cwd, 'home'),
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  const base = `http://127.0.0.1:${port}`;
  let stack: Stack | undefined;
  const running: RunningRole[] = [];

  /** `ledgersync deploy`, as an operator runs it on a chain reached by URL: the platform's contracts, constructor arguments linked. */
  const deploy = async () => {
    const result = await runCli(['deploy'], { cwd, env, script: CLI_WITH_TS_CONFIG });
    if (result.code !== 0) throw new Error(`ledgersync deploy failed: ${result.stderr}`);
    return result.stdout;
  };

  /** The stack in this process, with these roles. The config file reads process.env, so it is set first. */
  const start = async (roles: Role[] = ['api', 'indexer', 'worker']) => {
    Object.assign(process.env, env);
    stack ??= await openStack(loadConfig(env, cwd), createLogger('warn'));
    for (const role of roles) running.push(await startRole(stack, role));
  };
  const stop = async () => {
    for (const role of running.splice(0).reverse()) await role.stop();
    await stack?.close();
    stack = undefined;
  };
  onTestFinished(stop);

  const keys = async () => {
    if (!stack) throw new Error('start the stack first');
    const pool = stack.database.pool;
    return {
      admin: (await createApiKey(pool, { roles: ['admin'] }, 'admin')).key,
      officer: (await createApiKey(pool, { roles: ['issuer.compliance'] }, 'officer')).key,
      company: async (id: string) => (await createApiKey(pool, { roles: ['issuer.company'], scope: { company: id } }, `company ${id}`)).key,
      investor: async (id: string) => (await createApiKey(pool, { roles: ['issuer.investor'], scope: { investor: id } }, `investor ${id}`)).key,
    };
  };

  /** A request to the API; the body is JSON. */
  const http = async <T = Record<string, unknown>>(method: string, path: string, key?: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : undefined) as T };
  };

  return { anvil, database, cwd, env, base, deploy, start, stop, keys, http, pool: () => stack!.database.pool, stack: () => stack! };
}

export type IssuerWorld = Awaited<ReturnType<typeof issuerWorld>>;
