import type { ChainIndexer } from './context.js';
import type { ConnectedChain, Source } from '../chain.js';
import { NodeBehindError } from '../chain.js';
import { startJournal, stopJournal } from './projections.js';
import { reindexProjection } from './reindex.js';
import { advanceSources, setSourceState, type SourceProgress } from './sources.js';
import { insertChildren, insertEvents, storedBlock, storedChildren, type Checkpoint } from './store.js';
import { finalizedBlock } from '../finality.js';
import { inTransaction } from '../../db/transaction.js';

/**
 * Brings sources added after the chain was indexed up to its checkpoint, without
 * fetching the others' history again: their history is fetched (final blocks in
 * batches, each commit moving their own progress; then each unfinalized block,
 * checked against the header we hold and journaled), and the projections that
 * read them are replayed from stored events. A crash anywhere resumes from their
 * own progress.
 */
export async function catchUpSources(
  ctx: ChainIndexer,
  chain: ConnectedChain,
  sources: Source[],
  progress: SourceProgress[],
  checkpoint: Checkpoint,
  head: bigint,
  shouldStop: () => boolean,
): Promise<void> {
  // Sources that joined at different times have got different distances: the ones furthest behind
  // go first, up to where the next ones are, so that nothing is fetched (or stored) twice.
  for (;;) {
    const catching = progress.filter((p) => p.state === 'catching-up');
    if (catching.length === 0) break;
    const low = catching.reduce((min, p) => (p.syncedTo! < min ? p.syncedTo! : min), checkpoint.blockNumber);
    const cohort = catching.filter((p) => p.syncedTo === low);
    const next = catching.filter((p) => p.syncedTo! > low).reduce((min, p) => (p.syncedTo! < min ? p.syncedTo! : min), checkpoint.blockNumber);
    await fetchHistory(ctx, chain, sources, cohort.map((p) => p.name), low + 1n, next, checkpoint, head, shouldStop);
    if (shouldStop()) return;
    for (const p of cohort) p.syncedTo = next;
    if (next === checkpoint.blockNumber) {
      await setSourceState(ctx.pool, ctx.chain, cohort.map((p) => p.name), 'fetched');
      for (const p of cohort) p.state = 'fetched';
    }
  }

  // Their history is stored: the projections that read them are rebuilt from it, in chain order with the rest.
  const names = progress.map((p) => p.name);
  for (const projection of ctx.projections.filter((p) => p.events.some((key) => names.includes(key.slice(0, key.lastIndexOf('.')))))) {
    const result = await reindexProjection(ctx.pool, ctx.chain, projection);
    ctx.logger.info({ projection: projection.name, events: result.events }, 'projection replayed with the new sources');
  }
  await setSourceState(ctx.pool, ctx.chain, names, 'live');
  ctx.logger.info({ sources: names }, 'new sources caught up; indexed with the others from now on');
}

/** The events of `names` in blocks [from, to], stored; the sources' progress moves with each commit. */
async function fetchHistory(
  ctx: ChainIndexer,
  chain: ConnectedChain,
  sources: Source[],
  names: string[],
  from: bigint,
  to: bigint,
  checkpoint: Checkpoint,
  head: bigint,
  shouldStop: () => boolean,
): Promise<void> {
  if (from > to) return;
  ctx.logger.info({ sources: names, from: from.toString(), to: to.toString() }, 'new sources: fetching their history up to the checkpoint');
  // A source may need another to be read (a factory's children need the factory's announcements):
  // those are read along, but only what belongs to the new sources is stored.
  const reading = withDependencies(sources, names);
  const children = (await storedChildren(ctx.pool, ctx.chain)).filter((c) => reading.some((s) => s.name === c.source));
  const { reader } = chain.openReader(reading, children, ctx.addressSets);
  const mine = <T extends { source: string }>(items: T[]) => items.filter((item) => names.includes(item.source));
  const lastFinal = finalizedBlock(head, ctx.finalityDepth) < to ? finalizedBlock(head, ctx.finalityDepth) : to;

  if (from <= lastFinal) {
    for await (const batch of reader.ranges(from, lastFinal, shouldStop)) {
      if (shouldStop()) return;
      await inTransaction(ctx.pool, async (client) => {
        await insertEvents(client, mine(batch.events));
        await insertChildren(client, ctx.chain, mine(batch.children));
        await advanceSources(client, ctx.chain, names, batch.to.number);
      });
    }
  }
  // Above finality, block by block against the headers we hold: a block that differs is a reorg the
  // main loop has not seen yet; it goes first, and this resumes after.
  for (let height = from > lastFinal ? from : lastFinal + 1n; height <= to; height++) {
    if (shouldStop()) return;
    const batch = await reader.next(height);
    const held = height === checkpoint.blockNumber ? checkpoint.blockHash : (await storedBlock(ctx.pool, ctx.chain, height))?.hash;
    if (batch.to.hash !== held) throw new NodeBehindError(`block ${height} is not the one indexed; new sources wait for the indexer to settle it`);
    await inTransaction(ctx.pool, async (client) => {
      await insertEvents(client, mine(batch.events));
      await startJournal(client, ctx.chain, height);
      await insertChildren(client, ctx.chain, mine(batch.children));
      await stopJournal(client);
      await advanceSources(client, ctx.chain, names, height);
    });
  }
}

/** These sources and every source they read through (the factory of a factory's children), transitively. */
function withDependencies(sources: Source[], names: string[]): Source[] {
  const wanted = new Set(names);
  for (let grew = true; grew; ) {
    grew = false;
    for (const { name, readThrough } of sources) {
      if (wanted.has(name) && readThrough && !wanted.has(readThrough)) {
        wanted.add(readThrough);
        grew = true;
      }
    }
  }
  return sources.filter((s) => wanted.has(s.name));
}
