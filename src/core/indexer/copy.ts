import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { ProjectionStore } from './types.js';

export type CopyValue = string | number | bigint | boolean | Uint8Array | null;

/** Bulk insert with COPY, one round trip per batch; values are written as text, null as NULL, bytes as bytea hex. */
export async function copyInto(client: pg.PoolClient, table: string, columns: string[], rows: Iterable<CopyValue[]>): Promise<void> {
  const stream = client.query(copyFrom(`copy ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) from stdin`));
  await pipeline(Readable.from(copyLines(rows)), stream);
}

/** A projection's view of the batch transaction: plain queries, and COPY for bulk inserts. */
export function projectionStore(client: pg.PoolClient, replaying: boolean): ProjectionStore {
  return {
    replaying,
    query: (text, values) => client.query(text, values),
    copy: async (table, columns, rows) => {
      if (rows.length > 0) await copyInto(client, table, columns, rows);
    },
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * COPY text format, 1,000 rows per chunk. Rows are joined into one flat string per
 * chunk: growing a string with += builds a rope that keeps every piece alive.
 */
function* copyLines(rows: Iterable<CopyValue[]>): Generator<string> {
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(row.map(copyValue).join('\t'));
    if (lines.length === 1000) yield lines.splice(0).join('\n') + '\n';
  }
  if (lines.length > 0) yield lines.join('\n') + '\n';
}

function copyValue(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return copyText(value);
  // bytea's hex input form, its backslash doubled for COPY's text format.
  if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  return String(value);
}

/** Escapes the characters COPY's text format gives a meaning to. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
}
