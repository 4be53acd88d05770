import type pg from 'pg';
import { badInput } from './errors.js';

/** A row of payment_transactions as the API reads it (numbers that may exceed 2^53 as text). */
export interface RecordRow {
  chain: string;
  transaction_id: string;
  event_index: number;
  kind: string;
  token: string;
  amount: string;
  fee: string;
  sender_address: string | null;
  recipient_address: string | null;
  sender_account: string | null;
  recipient_account: string | null;
  reference: string | null;
  status: string;
  block_number: string;
  block_timestamp: string;
}

/** A row of payment_sends as the API reads it. */
export interface SendRow {
  id: string;
  account_id: string;
  token: string;
  recipient_address: string;
  amount: string;
  intent_id: string;
  idempotency_key: string;
  state: string;
  mode: 'custodial' | 'user_signed';
  transaction_id: string | null;
  error: string | null;
  created_at: Date;
  settled_at: Date | null;
}

/** The history's order, newest first; unique within a chain (the table's key is chain, transaction, event index, kind). */
type Position = [blockNumber: string, eventIndex: number, transactionId: string, kind: string];

export const MAX_PAGE = 100;

/** Opaque to clients (base64url JSON): a cursor is a position, not an offset, so pages stay right while records arrive. */
export const cursorOf = (row: RecordRow) => Buffer.from(JSON.stringify([row.block_number, row.event_index, row.transaction_id, row.kind] satisfies Position)).toString('base64url');

function parseCursor(cursor: string): Position {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  const valid =
    Array.isArray(position) &&
    position.length === 4 &&
    typeof position[0] === 'string' &&
    /^[0-9]{1,19}$/.test(position[0]) &&
    Number.isSafeInteger(position[1]) &&
    typeof position[2] === 'string' &&
    typeof position[3] === 'string';
  if (!valid) throw badInput('after is not a cursor this API gave (use pageInfo.endCursor)');
  return position as Position;
}

/** The table's columns as they are: `union` compares whole rows, and the page is ordered on the stored types. */
const STORED = `chain, transaction_id, event_index, kind, token, amount, fee, sender_address, recipient_address,
  sender_account, recipient_account, reference, status, block_number, block_timestamp`;
/** As the API reads them: numbers that may exceed 2^53 as text. */
const COLUMNS = `chain, transaction_id, event_index, kind, token, amount::text, fee::text, sender_address, recipient_address,
  sender_account::text, recipient_account::text, reference, status, block_number::text, block_timestamp::text`;
/**
 * Newest first, on the stored columns of `table`. Qualified on purpose: in a
 * select whose list has `block_number::text`, a bare `block_number` in ORDER
 * BY names that text column, and "9" sorts after "16".
 */
const newestFirst = (table: string) => `${table}.block_number desc, ${table}.event_index desc, ${table}.transaction_id desc, ${table}.kind desc`;

/**
 * A page of the account's records, newest first: those it sends and those it
 * receives, each read through its own index (payment_transactions_sender,
 * _recipient) and merged; `union` keeps a transfer to oneself once.
 */
export async function historyPage(pool: pg.Pool, accountId: string, first: number, after: string | null | undefined) {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`);
  const position = after ? parseCursor(after) : null;
  const before = position ? 'and (block_number, event_index, transaction_id, kind) < ($3::bigint, $4::integer, $5::text, $6::text)' : '';
  const side = (column: string) => `(select ${STORED} from payment_transactions t where ${column} = $1 ${before} order by ${newestFirst('t')} limit $2)`;
  const { rows } = await pool.query<RecordRow>(
    `select ${COLUMNS} from (${side('sender_account')} union ${side('recipient_account')}) page order by ${newestFirst('page')} limit $2`,
    [accountId, first + 1, ...(position ?? [])],
  );
  const edges = rows.slice(0, first).map((row) => ({ cursor: cursorOf(row), node: row }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

const SEND_COLUMNS = 'id::text, account_id::text, token, recipient_address, amount::text, intent_id::text, idempotency_key, state, mode, transaction_id, error, created_at, settled_at';

export async function pendingSends(pool: pg.Pool, accountId: string): Promise<SendRow[]> {
  const { rows } = await pool.query<SendRow>(`select ${SEND_COLUMNS} from payment_sends s where account_id = $1 and state = 'pending' order by s.id desc`, [accountId]);
  return rows;
}

export async function sendById(pool: pg.Pool, sendId: string): Promise<SendRow | undefined> {
  const { rows } = await pool.query<SendRow>(`select ${SEND_COLUMNS} from payment_sends where id = $1`, [sendId]);
  return rows[0];
}
