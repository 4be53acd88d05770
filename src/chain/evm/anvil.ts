import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

export interface AnvilOptions {
  host?: string;
  port: number;
  /** Seconds between blocks; omit for automine (a block per transaction). */
  blockTime?: number;
  /** Block gas limit (anvil's default is 30,000,000). */
  gasLimit?: number;
  /** EVM hardfork, e.g. `berlin` for a chain without EIP-1559 fees. */
  hardfork?: string;
  /** Load the chain from this file at start and save it there on exit. */
  statePath?: string;
  /** Only load from this file (benchmarks reuse a built chain without rewriting it). */
  loadStatePath?: string;
  /** Only save to this file on exit. */
  dumpStatePath?: string;
  /** Also save the state every N seconds, so a hard kill loses at most that much. */
  stateIntervalSeconds?: number;
  chainId?: number;
  /**
   * Keep this many recent states in memory, as a node keeps them (default 64;
   * anvil_reorg and anvil_rollback need the state below the blocks they replace).
   * With none kept, a read at 'latest' fails now and then ("Invalid parameters")
   * when a block is mined while it runs.
   */
  keepStates?: number;
  /** Append anvil's output to this file; otherwise the last lines are kept in memory for errors. */
  logFile?: string;
}

export interface Anvil {
  rpcUrl: string;
  wsUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export class AnvilStartError extends Error {
  override name = 'AnvilStartError';
}

/**
 * Where the anvil binary is: `ANVIL_BIN`, else the npm package for this platform,
 * else `anvil` on the PATH (foundryup installs it there on macOS and elsewhere).
 */
export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}/package.json`);
    const bin = pkg.replace(/package\.json$/, 'bin/anvil');
    if (existsSync(bin)) return bin;
  } catch {
    // not installed for this platform
  }
  return 'anvil';
}

const DEFAULT_KEPT_STATES = 64;

export async function startAnvil(options: AnvilOptions): Promise<Anvil> {
  const host = options.host ?? '127.0.0.1';
  // --prune-history: without it anvil writes every block's state to ~/.foundry/anvil/tmp.
  const args = ['--host', host, '--port', String(options.port), '--prune-history', String(options.keepStates ?? DEFAULT_KEPT_STATES)];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.gasLimit !== undefined) args.push('--gas-limit', String(options.gasLimit));
  if (options.hardfork !== undefined) args.push('--hardfork', options.hardfork);
  if (options.statePath) args.push('--state', options.statePath);
  if (options.loadStatePath) args.push('--load-state', options.loadStatePath);
  if (options.dumpStatePath) args.push('--dump-state', options.dumpStatePath);
  if (options.stateIntervalSeconds) args.push('--state-interval', String(options.stateIntervalSeconds));
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId));

  // Its own process group: Ctrl-C reaches only ledgersync, which stops anvil in order.
  const log = options.logFile ? openSync(options.logFile, 'a') : 'pipe';
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', log, log], detached: true });
  if (typeof log === 'number') closeSync(log);
  const output: string[] = [];
  const onData = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim()));
    output.splice(0, Math.max(0, output.length - 20));
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const lastLines = () => (options.logFile && existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8').trim().split('\n') : output).slice(-3).join(' | ');

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  const rpcUrl = `http://${host}:${options.port}`;

  const ready = await Promise.race([
    waitForRpc(rpcUrl, 15_000).then(() => 'ready' as const),
    exited.then((code) => new AnvilStartError(`anvil exited with code ${code} before answering on ${rpcUrl}: ${lastLines()}`)),
    spawnFailed.then((err) => new AnvilStartError(`could not run anvil (${anvilBinary()}): ${err.message}; install it with npm or foundryup, or set ANVIL_BIN`)),
  ]);
  if (ready !== 'ready') {
    child.kill('SIGKILL');
    throw ready;
  }

  return {
    rpcUrl,
    wsUrl: `ws://${host}:${options.port}`,
    pid: child.pid!,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGTERM lets anvil write its state file before it exits.
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitForRpc(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new AnvilStartError(`anvil did not answer on ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
