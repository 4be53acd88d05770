import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { onTestFinished } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/runtime/paths.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

/** A scratch working directory, removed when the test ends; no `.env` in it unless a test writes one. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ledgersync-cli-'));
  chmodSync(dir, 0o755);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Only what a test sets, plus PATH and HOME: nothing leaks in from the developer's shell. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI with TypeScript modules importable (tsx's loader): for a
 * LEDGERSYNC_CONFIG written in TypeScript, as a project's ledgersync.config.ts is.
 */
export const CLI_WITH_TS_CONFIG = ['--import', pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, CLI];

/** Runs a one-shot command (`migrate`, `deploy`, `status`, …) to completion; `script` as for RunningCli. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; script?: string[] }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(options.script ?? [CLI]), ...args], { cwd: options.cwd, env: cleanEnv(options.env ?? {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running `ledgersync start` (or another role) in a child process. */
export class RunningCli {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  /** `script`: what node runs instead of the ledgersync CLI (node arguments, e.g. a test's own worker). */
  constructor(args: string[], options: { cwd: string; env: Record<string, string>; script?: string[] }) {
    // Its own process group, like a command in a terminal, so that stop() can signal it the way Ctrl-C does.
    this.child = spawn(process.execPath, [...(options.script ?? [CLI]), ...args], { cwd: options.cwd, env: cleanEnv(options.env), detached: true });
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.unref();
    // A failed test must not leave a ledgersync (and its anvil and PostgreSQL) running.
    onTestFinished(async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) await this.stop('SIGTERM');
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Polls `url` until it answers 200; returns the milliseconds it took. */
  async waitForReady(url: string, timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (this.child.exitCode !== null) throw new Error(`ledgersync exited with ${this.child.exitCode}:\n${this.output}`);
      try {
        const res = await fetch(url);
        if (res.status === 200) return Date.now() - started;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${url} not ready within ${timeoutMs} ms:\n${this.output}`);
  }

  /**
   * /ready's checks, from an answer that says ready (200). Readiness follows the chains: under load an
   * indexer may fall a block behind between two requests, so a test reads the checks from a ready answer
   * rather than from a second request after `waitForReady`.
   */
  async readyChecks<C = Record<string, { ok: boolean } & Record<string, unknown>>>(url: string, timeoutMs = 20_000): Promise<C> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (this.child.exitCode !== null) throw new Error(`ledgersync exited with ${this.child.exitCode}:\n${this.output}`);
      const res = await fetch(url).catch(() => undefined);
      if (res?.status === 200) return ((await res.json()) as { checks: C }).checks;
      await res?.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} not ready within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Sends `signal` to the whole process group (as Ctrl-C in a terminal does) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(-this.pid, signal);
    return this.exited;
  }

  /** Kills only the ledgersync process, with no chance to clean up. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
