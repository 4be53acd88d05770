import type { AppContext } from '../../../engine/index.js';
import type { Account } from '../accounts.js';
import { getBalance, type Balance } from '../balances/index.js';
import { sendCusd } from '../sends/index.js';
import type { PaymentsSettings } from '../settings.js';
import { accountFor, requireViewer } from './auth.js';
import { formatAmount, parseSendAmount, requireToken } from './amounts.js';
import { badInput, notFound } from './errors.js';
import { sendById } from './history.js';
import { sendOf, type PaymentsContext } from './resolvers.js';

type Args = Record<string, unknown>;

/**
 * Idempotency keys are unique across payment_sends; a client's key is its
 * own, so it is kept per account (`<account id>:<key>`): one user's key can
 * neither collide with nor probe another's. The prefix is taken off again when
 * the send is shown.
 */
export const accountKey = (accountId: string, key: string) => `${accountId}:${key}`;
export const MAX_KEY = 160;

/** Chain reads one request may ask for (critical balances, aliased): each is an RPC call the deployment pays for. */
const MAX_CRITICAL_READS = 10;
const criticalReads = new WeakMap<object, number>();

function balanceOf(account: Account, token: string, balance: Balance) {
  return {
    account: account.id,
    token,
    amount: balance.amount.toString(),
    amountFormatted: formatAmount(balance.amount, token),
    pendingOut: balance.pendingOut.toString(),
    pendingIn: balance.pendingIn.toString(),
    available: balance.available.toString(),
    availableFormatted: formatAmount(balance.available, token),
    height: balance.height?.toString() ?? null,
    lastSynced: balance.lastSynced?.toISOString() ?? null,
    stale: balance.stale,
    source: balance.source.toUpperCase(),
  };
}

/** The fields that read balances (seed 004's BalanceService) and make sends: the balances' and sends' modules, behind the API's checks. */
export function operations(context: AppContext, settings: PaymentsSettings) {
  const ports = { ...context, settings };

  const balance = async (account: Account, args: Args, ctx: PaymentsContext) => {
    const token = (args.token as string | undefined) ?? 'cUSD';
    requireToken(token);
    if (args.critical === true) {
      // Counted per operation (its context object), so a request cannot fan one query out into hundreds of chain reads.
      const reads = (criticalReads.get(ctx) ?? 0) + 1;
      criticalReads.set(ctx, reads);
      if (reads > MAX_CRITICAL_READS) throw badInput(`at most ${MAX_CRITICAL_READS} critical balance reads per request`);
    }
    return balanceOf(account, token, await getBalance(ports, account.id, token, { verifyCritical: args.critical === true }));
  };

  const send = async (_p: unknown, args: Args, ctx: PaymentsContext) => {
    const input = args.input as { account: string; to: string; amount?: string | null; amountFormatted?: string | null; idempotencyKey: string };
    const viewer = requireViewer(ctx.auth);
    await ctx.countWrite(ctx.auth);
    const account = await accountFor(context.pool, viewer, input.account);
    const amount = parseSendAmount(input, 'cUSD');
    if (input.idempotencyKey.length < 1 || input.idempotencyKey.length > MAX_KEY) throw badInput(`idempotencyKey must be 1 to ${MAX_KEY} characters`);
    const { send: made } = await sendCusd(ports, { accountId: account.id, to: input.to, amount, idempotencyKey: accountKey(account.id, input.idempotencyKey) });
    const row = await sendById(context.pool, made.id);
    if (!row) throw notFound(`send ${made.id} does not exist`);
    return sendOf(row);
  };

  return {
    Query: {
      balance: async (_p: unknown, args: Args, ctx: PaymentsContext) => balance(await accountFor(context.pool, requireViewer(ctx.auth), args.account as string), args, ctx),
    },
    Account: { balance: (account: Account, args: Args, ctx: PaymentsContext) => balance(account, args, ctx) },
    Mutation: { send },
  };
}
