import type { MercuriusContext } from 'mercurius';
import mercurius from 'mercurius';
import type { AppContext } from '../../../engine/index.js';
import type { Account, User } from '../accounts.js';
import { findUser } from '../accounts.js';
import { accountFor, requireViewer, userFor, type Authentication, type Viewer } from './auth.js';
import type { CountWrite } from './write-limit.js';
import { formatAmount } from './amounts.js';
import { PaymentsApiError, forbidden, notFound } from './errors.js';
import { historyPage, pendingSends, type RecordRow, type SendRow } from './history.js';
import { receivedTopic, type ReceivedNotice } from './subscriptions.js';

/** The context of every operation: mercurius' own, and who is asking (from the request's header or connection_init). */
export interface PaymentsContext extends MercuriusContext {
  auth: Authentication;
  countWrite: CountWrite;
}

const ACCOUNT_COLUMNS = 'id::text, user_id::text as "userId", chain, address, active, custody';

/** The fields of Account and User that read more, with the viewer checked once at the root. */
async function accountsOf(context: AppContext, userId: string): Promise<Account[]> {
  const { rows } = await context.pool.query<Account>(`select ${ACCOUNT_COLUMNS} from payment_accounts a where user_id = $1 order by a.chain, a.id`, [userId]);
  return rows;
}

async function accountOn(context: AppContext, userId: string, chain: string): Promise<Account | null> {
  const { rows } = await context.pool.query<Account>(`select ${ACCOUNT_COLUMNS} from payment_accounts where user_id = $1 and chain = $2`, [userId, chain]);
  return rows[0] ?? null;
}

async function userById(context: AppContext, userId: string): Promise<User> {
  const user = await findUser(context.pool, userId);
  if (!user) throw notFound(`user ${userId} does not exist`);
  return user;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const upper = (value: string) => value.toUpperCase();

/** A record as the schema's Transaction, seen from the account whose history it is in. */
export function transactionOf(row: RecordRow, accountId: string) {
  const sent = row.sender_account === accountId;
  const received = row.recipient_account === accountId;
  return {
    id: `${row.chain}:${row.transaction_id}:${row.event_index}:${row.kind}`,
    chain: row.chain,
    transactionId: row.transaction_id,
    eventIndex: row.event_index,
    kind: upper(row.kind),
    direction: sent && received ? 'SELF' : sent ? 'SENT' : 'RECEIVED',
    token: row.token,
    amount: row.amount,
    amountFormatted: formatAmount(BigInt(row.amount), row.token),
    fee: row.fee,
    sender: row.sender_address,
    recipient: row.recipient_address,
    reference: row.reference,
    status: upper(row.status),
    blockNumber: row.block_number,
    timestamp: new Date(Number(row.block_timestamp) * 1000).toISOString(),
  };
}

export function sendOf(row: SendRow) {
  return {
    id: row.id,
    account: row.account_id,
    state: upper(row.state),
    mode: upper(row.mode),
    token: row.token,
    to: row.recipient_address,
    amount: row.amount,
    amountFormatted: formatAmount(BigInt(row.amount), row.token),
    intentId: row.intent_id,
    // Kept per account (operations.ts): the client sees the key it gave.
    idempotencyKey: row.idempotency_key.startsWith(`${row.account_id}:`) ? row.idempotency_key.slice(row.account_id.length + 1) : row.idempotency_key,
    transactionId: row.transaction_id,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    settledAt: iso(row.settled_at),
  };
}

export function receivedOf(notice: ReceivedNotice) {
  return {
    account: notice.accountId,
    chain: notice.chain,
    transactionId: notice.transactionId,
    eventIndex: notice.eventIndex,
    kind: upper(notice.kind),
    token: notice.token,
    amount: notice.amount,
    amountFormatted: /^[0-9]+$/.test(notice.amount) ? formatAmount(BigInt(notice.amount), notice.token) : null,
    sender: notice.sender,
    reference: notice.reference,
    blockNumber: notice.blockNumber,
  };
}

type Args = Record<string, unknown>;
type Resolver<P = unknown> = (parent: P, args: Args, ctx: PaymentsContext) => unknown;

/** The resolvers; `extra` adds those of modules that land later (balances, sends) without touching these. */
export function resolvers(context: AppContext, logger: AppContext['logger']) {
  const viewer = (ctx: PaymentsContext): Viewer => requireViewer(ctx.auth);
  const history = async (accountId: string, args: Args) => {
    const page = await historyPage(context.pool, accountId, (args.first as number | undefined) ?? 20, args.after as string | null | undefined);
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: transactionOf(e.node, accountId) })) };
  };

  const Query: Record<string, Resolver> = {
    me: async (_p, _a, ctx) => {
      const who = viewer(ctx);
      if (who.admin) throw forbidden('an admin key speaks for no user: read user(id:) instead');
      return userById(context, who.userId);
    },
    user: async (_p, args, ctx) => userById(context, userFor(viewer(ctx), args.id as string)),
    account: async (_p, args, ctx) => accountOn(context, userFor(viewer(ctx), args.user as string | undefined), args.chain as string),
    transactions: async (_p, args, ctx) => history((await accountFor(context.pool, viewer(ctx), args.account as string)).id, args),
    pendingSends: async (_p, args, ctx) => (await pendingSends(context.pool, (await accountFor(context.pool, viewer(ctx), args.account as string)).id)).map(sendOf),
  };

  // Below the root, the viewer was checked where the user or account came from: a User or Account object is one the key may see.
  const UserType: Record<string, Resolver<User>> = {
    accounts: (user) => accountsOf(context, user.id),
    account: (user, args) => accountOn(context, user.id, args.chain as string),
  };
  const AccountType: Record<string, Resolver<Account>> = {
    custody: (account) => upper(account.custody),
    transactions: (account, args) => history(account.id, args),
    pendingSends: async (account) => (await pendingSends(context.pool, account.id)).map(sendOf),
  };

  const Subscription = {
    paymentReceived: {
      subscribe: mercurius.withFilter(
        async (_p: unknown, args: Args, ctx: PaymentsContext) => {
          try {
            const who = viewer(ctx);
            const userId = args.account ? (await accountFor(context.pool, who, args.account as string)).userId : userFor(who, undefined);
            return await ctx.pubsub.subscribe(receivedTopic(userId));
          } catch (error) {
            // Errors at a subscription's start reach the client without the error formatter: only ours may pass as they are.
            if (error instanceof PaymentsApiError) throw error;
            logger.error({ err: error }, 'payments GraphQL: a subscription could not start');
            throw new PaymentsApiError('INTERNAL', 'internal error');
          }
        },
        (payload: { paymentReceived: ReturnType<typeof receivedOf> }, args: Args) => !args.account || payload.paymentReceived.account === args.account,
      ),
    },
  };

  return { Query, User: UserType, Account: AccountType, Subscription };
}
