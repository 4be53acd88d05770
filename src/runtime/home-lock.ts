import { mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export class HomeInUseError extends Error {
  override name = 'HomeInUseError';
}

/**
 * Claims LEDGERSYNC_HOME for this process, so that two processes never run the
 * same embedded PostgreSQL and anvil. A claim left by a process that died without
 * cleaning up (SIGKILL, power loss) is taken over, and the services it started
 * and left orphaned are stopped first.
 */
export async function claimHome(home: string): Promise<() => void> {
  mkdirSync(home, { recursive: true });
  const lockPath = join(home, 'ledgersync.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (readPid(lockPath) === process.pid) rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readPid(lockPath);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
        throw new HomeInUseError(`${home} is in use by ledgersync process ${owner}; stop it, or set DATABASE_URL and RPC_URL to share its services`);
      }
      await stopOrphans(home);
      rmSync(lockPath, { force: true });
    }
  }
  throw new HomeInUseError(`could not claim ${home}`);
}

/** Where an embedded anvil's pid is kept (one per local chain), so an orphan can be found after a crash. */
export const anvilPidFile = (home: string, index = 0) => {
  mkdirSync(join(home, 'anvil'), { recursive: true });
  return join(home, 'anvil', index === 0 ? 'anvil.pid' : `anvil-${index}.pid`);
};

async function stopOrphans(home: string): Promise<void> {
  const pidFiles = existsSync(join(home, 'anvil')) ? readdirSync(join(home, 'anvil')).filter((f) => /^anvil(-\d+)?\.pid$/.test(f)) : [];
  for (const file of pidFiles) {
    const anvil = readPid(join(home, 'anvil', file));
    if (anvil !== undefined && commandOf(anvil).includes('anvil')) await stopProcess(anvil, 'SIGTERM');
  }
  // postgres writes its own lock file; its first line is the postmaster's pid.
  const postmaster = readPid(join(home, 'postgres', 'data', 'postmaster.pid'));
  if (postmaster !== undefined && commandOf(postmaster).includes('postgres')) await stopProcess(postmaster, 'SIGINT');
}

async function stopProcess(pid: number, signal: NodeJS.Signals): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

function readPid(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, String(pid));
}
