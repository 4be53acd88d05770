/**
 * The cursor-bounded range queries of LedgerService (ListCheckpoints, ListTransactions,
 * ListEvents): checkpoints [start, end) scanned in either order, items after/before opaque
 * cursors, a watermark on every frame, and exactly one `end` with its reason on the last frame
 * (ITEM_LIMIT rides on the last item). The server coerces limits to its maximum, as Sui's does.
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { invalid } from './errors.js';

const { QueryEndReason, Ordering } = GrpcTypes;

/** An item's place: checkpoint, transaction index, event index (0 where it does not apply). */
export type Position = [number, number, number];

const MAX_INDEX = 0xffffffff;

export function encodeCursor([seq, tx, event]: Position): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(seq));
  view.setUint32(8, tx);
  view.setUint32(12, event);
  return bytes;
}

function decodeCursor(bytes: Uint8Array | undefined): Position | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  if (bytes.length !== 16) throw invalid('malformed cursor');
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return [Number(view.getBigUint64(0)), view.getUint32(8), view.getUint32(12)];
}

function compare(a: Position, b: Position): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export interface QueryLimits {
  /** Items when the request gives no limit. */
  defaultItems: number;
  /** The most items one call returns, whatever the request asks. */
  maxItems: number;
  /** The most checkpoints one call scans (a filtered query over a long range ends with SCAN_LIMIT). */
  maxScan: number;
}

export interface QueryRequest {
  startCheckpoint?: bigint;
  endCheckpoint?: bigint;
  options?: GrpcTypes.QueryOptions;
}

export interface QueryFrame<T> {
  item?: T;
  watermark: GrpcTypes.Watermark;
  end?: GrpcTypes.QueryEnd;
}

/** Streams the items of `itemsAt(seq)` (ascending within a checkpoint) over the requested range. */
export async function runQuery<T>(request: QueryRequest, tip: number, limits: QueryLimits, itemsAt: (seq: number) => { position: Position; item: T }[], send: (frame: QueryFrame<T>) => Promise<void>): Promise<void> {
  const options = request.options ?? {};
  const descending = options.ordering === Ordering.DESCENDING;
  const after = decodeCursor(options.after);
  const before = decodeCursor(options.before);
  const limit = Math.min(Math.max(options.limit || limits.defaultItems, 1), limits.maxItems);
  const start = Number(request.startCheckpoint ?? 0n);
  const requestedEnd = request.endCheckpoint === undefined ? undefined : Number(request.endCheckpoint);
  const end = Math.min(requestedEnd ?? tip + 1, tip + 1);
  // The checkpoints the cursors leave in range, in scan order.
  let first = Math.max(start, after?.[0] ?? start);
  let last = Math.min(end - 1, before?.[0] ?? end - 1);
  if (descending) [first, last] = [last, first];
  const step = descending ? -1 : 1;
  // A terminal watermark marks a checkpoint as fully scanned: resuming after (or before) it skips all of it.
  const watermark = (seq: number, position?: Position): GrpcTypes.Watermark => {
    const at = Math.max(seq, 0);
    return { cursor: encodeCursor(position ?? (descending ? [at, 0, 0] : [at, MAX_INDEX, MAX_INDEX])), checkpoint: BigInt(at) };
  };
  let count = 0;
  let scanned = 0;
  let seq = first;
  for (; descending ? seq >= last : seq <= last; seq += step) {
    if (scanned === limits.maxScan) {
      await send({ watermark: watermark(seq - step), end: { reason: QueryEndReason.SCAN_LIMIT } });
      return;
    }
    scanned++;
    const items = itemsAt(seq).filter(({ position }) => (!after || compare(position, after) > 0) && (!before || compare(position, before) < 0));
    if (descending) items.reverse();
    for (const { position, item } of items) {
      count++;
      const done = count === limit;
      await send({ item, watermark: watermark(seq, position), end: done ? { reason: QueryEndReason.ITEM_LIMIT } : undefined });
      if (done) return;
    }
  }
  // Which bound stopped the scan: a cursor, the requested range, or the ledger's tip.
  let reason: GrpcTypes.QueryEndReason;
  if (descending) reason = after && after[0] >= start ? QueryEndReason.CURSOR_BOUND : QueryEndReason.CHECKPOINT_BOUND;
  else if (before && before[0] < end) reason = QueryEndReason.CURSOR_BOUND;
  else reason = requestedEnd !== undefined && requestedEnd <= tip + 1 ? QueryEndReason.CHECKPOINT_BOUND : QueryEndReason.LEDGER_TIP;
  await send({ watermark: watermark(seq - step), end: { reason } });
}
