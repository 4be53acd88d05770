/** What every benchmark needs: a scratch directory, things to stop at the end, a fresh database, PASS/FAIL lines. */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { freePort } from '../src/runtime/ports.js';

export class BenchRun {
  /** A scratch directory, removed at the end. */
  readonly work: string;
  private readonly cleanups: Array<() => Promise<unknown> | void>;

  constructor(name: string) {
    this.work = mkdtempSync(join(tmpdir(), `ledgersync-${name}-`));
    chmodSync(this.work, 0o755);
    this.cleanups = [() => rmSync(this.work, { recursive: true, force: true })];
  }

  /** Runs `cleanup` at the end, before everything registered earlier (what started last stops first). */
  onEnd(cleanup: () => Promise<unknown> | void): void {
    this.cleanups.unshift(cleanup);
  }

  async end(): Promise<void> {
    for (const cleanup of this.cleanups) await cleanup();
  }

  /** A new, empty database `name`: on DATABASE_URL's server, else on an embedded PostgreSQL started for this run. */
  async freshDatabase(name: string): Promise<string> {
    const adminUrl = process.env.DATABASE_URL ?? (await this.startPostgres());
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  private async startPostgres(): Promise<string> {
    const postgres = await startEmbeddedPostgres({ dir: join(this.work, 'postgres'), port: await freePort() });
    this.onEnd(() => postgres.stop());
    return postgres.url;
  }
}

export function check(ok: boolean, target: string): string {
  return `${ok ? 'PASS' : 'FAIL'} (target ${target})`;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
