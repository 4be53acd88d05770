import type { ProjectionStore } from '../../../engine/index.js';
import { queueNotifications, notificationKey, type NotificationRequest } from '../notifications/delivery.js';
import { CUSD } from '../settings.js';
import type { PaymentTx, RecordDraft } from './types.js';
import { RECEIVED_CHANNEL } from '../graphql/subscriptions.js';

/** What the poller writes with: the projection's store, or a worker's client inside BEGIN … COMMIT. */
export type Db = Pick<ProjectionStore, 'query'>;


/** A record as inserted, with the accounts it resolved to. */
interface Inserted {
  transaction_id: string;
  event_index: number;
  kind: string;
  token: string;
  amount: string;
  sender_address: string | null;
  reference: string | null;
  block_number: string;
  sender_account: string | null;
  recipient_account: string | null;
}

/** Kinds after which an account's balance is not what it was (escrow paid or disputed moves nothing). */
const MOVES_MONEY = new Set(['transfer', 'payment', 'escrow_created', 'escrow_released', 'escrow_cancelled', 'escrow_resolved']);

/**
 * Writes the records of some transactions, and with them (same transaction)
 * what follows from each new one: our accounts resolved by (chain, address), the
 * recipient's push queued (once ever per record, recipient and kind: the
 * notification key), the touched accounts' cUSD balances marked stale, and the
 * subscription feed told (unless `live` is false: a reindex). A record already there
 * is left as it is and causes nothing again. At most seven statements, whatever
 * the number of records and pushes.
 */
export async function writeRecords(db: Db, items: Array<{ tx: PaymentTx; drafts: RecordDraft[] }>, options: { live?: boolean } = {}): Promise<number> {
  const rows = items.flatMap(({ tx, drafts }) =>
    drafts.map((d) => ({
      chain: tx.chain,
      transaction_id: tx.transactionId,
      event_index: d.eventIndex,
      kind: d.kind,
      token: d.token,
      amount: d.amount.toString(),
      fee: d.fee.toString(),
      sender_address: d.sender,
      recipient_address: d.recipient,
      reference: d.reference,
      block_number: tx.blockNumber.toString(),
      block_timestamp: tx.blockTimestamp.toString(),
    })),
  );
  if (rows.length === 0) return 0;
  const chain = items[0]!.tx.chain;
  const { rows: inserted } = await db.query<Inserted>(
    `insert into payment_transactions (chain, transaction_id, event_index, kind, token, amount, fee, sender_address, recipient_address, sender_account, recipient_account, reference, block_number, block_timestamp)
     select d.chain, d.transaction_id, d.event_index, d.kind, d.token, d.amount, d.fee, d.sender_address, d.recipient_address, s.id, r.id, d.reference, d.block_number, d.block_timestamp
     from jsonb_to_recordset($1::jsonb) as d(chain text, transaction_id text, event_index integer, kind text, token text, amount numeric, fee numeric,
                                            sender_address text, recipient_address text, reference text, block_number bigint, block_timestamp bigint)
     left join payment_accounts s on s.chain = d.chain and s.address = d.sender_address
     left join payment_accounts r on r.chain = d.chain and r.address = d.recipient_address
     on conflict (chain, transaction_id, event_index, kind) do nothing
     returning transaction_id, event_index, kind, token, amount::text, sender_address, reference, block_number::text, sender_account::text, recipient_account::text`,
    [JSON.stringify(rows)],
  );
  if (inserted.length === 0) return 0;
  // RETURNING follows the join's plan, not the input: the feed and the pushes go in chain order.
  inserted.sort((a, b) => Number(BigInt(a.block_number) - BigInt(b.block_number)) || a.event_index - b.event_index);

  const touched = [...new Set(inserted.filter((r) => r.token === CUSD.symbol && MOVES_MONEY.has(r.kind)).flatMap((r) => [r.sender_account, r.recipient_account]).filter((a): a is string => a !== null))];
  if (touched.length > 0) {
    await db.query(
      `insert into payment_balances (account_id, token) select unnest($1::bigint[]), $2
       on conflict (account_id, token) do update set stale = true`,
      [touched, CUSD.symbol],
    );
  }

  const ours = inserted.filter((r) => r.recipient_account !== null);
  if (ours.length === 0) return inserted.length;
  const accountIds = [...new Set(ours.flatMap((r) => [r.recipient_account!, ...(r.sender_account ? [r.sender_account] : [])]))];
  const { rows: people } = await db.query<{ account: string; user_id: string; locale: string; display_name: string | null; push_provider: string | null; push_target: string | null }>(
    `select a.id::text as account, u.id::text as user_id, u.locale, u.display_name, u.push_provider, u.push_target
     from payment_accounts a join payment_users u on u.id = a.user_id where a.id = any($1::bigint[])`,
    [accountIds],
  );
  const person = new Map(people.map((p) => [p.account, p]));

  if (options.live ?? true) await tellFeed(db, chain, ours, person);

  const notifyOf = new Map<string, RecordDraft['notify']>(items.flatMap(({ tx, drafts }) => drafts.map((d) => [`${tx.transactionId}:${d.eventIndex}:${d.kind}`, d.notify] as const)));
  const pushes: NotificationRequest[] = [];
  for (const record of ours) {
    const kind = notifyOf.get(`${record.transaction_id}:${record.event_index}:${record.kind}`);
    const recipient = person.get(record.recipient_account!);
    if (!kind || !recipient?.push_provider || !recipient.push_target) continue;
    const counterparty = record.sender_account ? person.get(record.sender_account)?.display_name : null;
    pushes.push({
      account: recipient.user_id,
      provider: recipient.push_provider,
      target: recipient.push_target,
      locale: recipient.locale,
      kind,
      params: {
        amount: BigInt(record.amount),
        decimals: CUSD.decimals,
        symbol: record.token,
        ...(counterparty ? { counterparty } : {}),
        ...(record.kind === 'payment' && record.reference ? { reference: readableReference(record.reference) } : {}),
        data: { chain, transactionId: record.transaction_id, eventIndex: String(record.event_index), recordKind: record.kind },
      },
      idempotencyKey: notificationKey(`${chain}:${record.transaction_id}:${record.event_index}`, recipient.user_id, kind),
    });
  }
  await queueNotifications(db, pushes);
  return inserted.length;
}

/** A bytes32 reference that is right-padded text (`INV-42`) reads as that text in a push; anything else as it is. */
export function readableReference(reference: string): string {
  const m = /^0x([0-9a-f]{64})$/.exec(reference);
  if (!m) return reference;
  const text = Buffer.from(m[1]!, 'hex').toString('utf8').replace(/\0+$/, '');
  return text.length > 0 && /^[\x20-\x7e]+$/.test(text) ? text : reference;
}

/** The subscription feed (`payments_received`, delivered at commit): one notice per new record of ours. */
async function tellFeed(db: Db, chain: string, ours: Inserted[], person: Map<string, { user_id: string }>): Promise<void> {
  await db.query(`select pg_notify($1, p) from unnest($2::text[]) as p`, [
    RECEIVED_CHANNEL,
    ours.map((r) =>
      JSON.stringify({
        accountId: r.recipient_account,
        userId: person.get(r.recipient_account!)?.user_id ?? null,
        chain,
        transactionId: r.transaction_id,
        eventIndex: r.event_index,
        kind: r.kind,
        token: r.token,
        amount: r.amount,
        sender: r.sender_address,
        reference: r.reference,
        blockNumber: r.block_number,
      }),
    ),
  ]);
}
