import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ledgerWorld, runLedgerIndexer } from '../harness/ledger-world.js';
import { reportProgress } from '../../src/core/indexer/progress.js';
import { createLogger } from '../../src/runtime/logger.js';

describe('realtime indexing', () => {
  it('follows new heads and skips eth_getLogs for blocks whose bloom rules our contract out', async () => {
    const world = await ledgerWorld();
    const live = await runLedgerIndexer(world.rpcUrl, { deploymentsFile: world.deploymentsFile, wsUrl: world.wsUrl, finalityDepth: 32 });
    await world.writeMany('a', 2);
    let head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);

    const before = live.evm.conn.meter.callsByMethod().eth_getLogs ?? 0;
    await world.mine(10);
    head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    // Ten empty blocks indexed, not one log request for them.
    expect(live.evm.conn.meter.callsByMethod().eth_getLogs ?? 0).toBe(before);

    await world.writeMany('b', 1);
    head = await world.publicClient.getBlockNumber();
    await live.indexer.waitForBlock(head);
    expect(live.evm.conn.meter.callsByMethod().eth_getLogs).toBe(before + 1);
    const { rows } = await live.database.pool.query('select count(*)::int as n from ledger_entries');
    expect(rows[0].n).toBe(3);
  }, 60_000);
});

describe('progress of long work', () => {
  it('logs a line every interval when not on a terminal, and a summary at the end', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const progress = reportProgress(createLogger('info', { destination: sink }), { label: 'backfill', total: 100, unit: 'blocks', tty: false, intervalMs: 20 });
    progress.update(10, 500);
    await new Promise((r) => setTimeout(r, 30));
    progress.update(60, 2500);
    progress.stop();
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual(['backfill started', 'backfill progress', 'backfill finished']);
    expect(lines[1]).toMatchObject({ done: 60, total: 100, percent: 60, events: 3000, unit: 'blocks' });
    expect(lines[2]).toMatchObject({ done: 60, events: 3000 });
  });
});
