import type pg from 'pg';

type Db = Pick<pg.ClientBase, 'query'>;

export type SendMode = 'custodial' | 'user_signed';
export type SendState = 'pending' | 'confirmed' | 'failed';

/** A row of payment_sends, money as bigint. */
export interface Send {
  id: string;
  accountId: string;
  token: string;
  recipientAddress: string;
  /** Our account it goes to, if it is one. */
  recipientAccount: string | null;
  amount: bigint;
  mode: SendMode;
  intentId: string;
  idempotencyKey: string;
  state: SendState;
  transactionId: string | null;
  error: string | null;
  createdAt: Date;
  settledAt: Date | null;
}

const COLUMNS = `id::text, account_id::text as "accountId", token, recipient_address as "recipientAddress", recipient_account::text as "recipientAccount",
  amount::text, mode, intent_id::text as "intentId", idempotency_key as "idempotencyKey", state, transaction_id as "transactionId", error,
  created_at as "createdAt", settled_at as "settledAt"`;

const toSend = (row: Omit<Send, 'amount'> & { amount: string }): Send => ({ ...row, amount: BigInt(row.amount) });

export async function findSend(db: Db, id: string): Promise<Send | undefined> {
  const { rows } = await db.query(`select ${COLUMNS} from payment_sends where id = $1`, [id]);
  return rows[0] && toSend(rows[0]);
}

export async function sendByKey(db: Db, idempotencyKey: string): Promise<Send | undefined> {
  const { rows } = await db.query(`select ${COLUMNS} from payment_sends where idempotency_key = $1`, [idempotencyKey]);
  return rows[0] && toSend(rows[0]);
}

export async function insertSend(
  db: Db,
  send: Pick<Send, 'accountId' | 'token' | 'recipientAddress' | 'recipientAccount' | 'amount' | 'mode' | 'intentId' | 'idempotencyKey'>,
): Promise<Send> {
  const { rows } = await db.query(
    `insert into payment_sends (account_id, token, recipient_address, recipient_account, amount, mode, intent_id, idempotency_key)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${COLUMNS}`,
    [send.accountId, send.token, send.recipientAddress, send.recipientAccount, send.amount.toString(), send.mode, send.intentId, send.idempotencyKey],
  );
  return toSend(rows[0]);
}

/**
 * Settles the pending send carried by `intentId`: its final state, and its
 * reservation released (the sender's pending_out, our recipient's pending_in),
 * both balances marked stale (the chain moved; the next refresh reads it). Rows
 * are locked in account order, as sends lock them. Nothing when the send is
 * already settled (a handler retried): it is settled once.
 */
export async function settleSend(client: Db, intentId: bigint, outcome: { state: 'confirmed' | 'failed'; transactionId: string | null; error: string | null }): Promise<Send | undefined> {
  const { rows } = await client.query(
    `update payment_sends set state = $2, transaction_id = $3, error = $4, settled_at = now()
     where intent_id = $1 and state = 'pending' returning ${COLUMNS}`,
    [intentId, outcome.state, outcome.transactionId, outcome.error],
  );
  if (!rows[0]) return undefined;
  const send = toSend(rows[0]);
  const accounts = [send.accountId, ...(send.recipientAccount ? [send.recipientAccount] : [])];
  await client.query(`select 1 from payment_balances where account_id = any($1::bigint[]) and token = $2 order by account_id for update`, [accounts, send.token]);
  await client.query(`update payment_balances set pending_out = pending_out - $3, stale = true where account_id = $1 and token = $2`, [send.accountId, send.token, send.amount.toString()]);
  if (send.recipientAccount) {
    await client.query(`update payment_balances set pending_in = pending_in - $3, stale = true where account_id = $1 and token = $2`, [send.recipientAccount, send.token, send.amount.toString()]);
  }
  return send;
}
