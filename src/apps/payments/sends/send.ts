import type pg from 'pg';
import { IdempotencyConflictError, inTransaction } from '../../../engine/index.js';
import { accountByAddress, findAccount, normalizeAddress, type Account } from '../accounts.js';
import { CUSD } from '../settings.js';
import { AccountNotFoundError } from '../balances/balance.js';
import { lockBalances, recordChainRead } from '../balances/cache.js';
import { readChainBalance } from '../balances/chain.js';
import type { SendPorts } from '../balances/ports.js';
import { transferIntentName } from './intents.js';
import { insertSend, sendByKey, type Send, type SendMode } from './store.js';

/** The chain holds less than the send asks for, once what other sends reserved is taken off. */
export class InsufficientFundsError extends Error {
  override name = 'InsufficientFundsError';
  constructor(
    readonly accountId: string,
    readonly requested: bigint,
    readonly available: bigint,
  ) {
    super(`account ${accountId} cannot send ${requested}: ${available} available (on chain, less what pending sends reserve)`);
  }
}

/** The request is not a send the app can make (amount, key, recipient). */
export class InvalidSendError extends Error {
  override name = 'InvalidSendError';
}

/** The platform does not hold this account's key: the user signs its sends on the device. */
export class NotCustodialError extends Error {
  override name = 'NotCustodialError';
}

export interface SendRequest {
  accountId: string;
  /** An address on the account's chain. */
  to: string;
  /** In the token's smallest unit (cUSD: 6 decimals). */
  amount: bigint;
  /** The caller's key for this send: asking again with it returns the same send and reserves nothing more. */
  idempotencyKey: string;
}

/** The send, and whether this call created it (false: the idempotency key was known). */
export interface SendResult {
  send: Send;
  created: boolean;
}

/**
 * Sends cUSD from a custodial account (the platform holds its key: the
 * account's address is one of the chain's configured signers). In one
 * PostgreSQL transaction: the balance row locked, the balance read from the
 * chain, the amount reserved (refused if the chain's amount less what is
 * already reserved does not cover it), the send recorded and its intent put in
 * the outbox, signed by the account's own key. The relayer sends it; its
 * outcome settles the send and releases the reservation (intents.ts).
 */
export async function sendCusd(ports: SendPorts, request: SendRequest): Promise<SendResult> {
  const account = await findAccount(ports.pool, request.accountId);
  if (!account) throw new AccountNotFoundError(`no payments account ${request.accountId}`);
  if (account.custody !== 'custodial') throw new NotCustodialError(`account ${account.id} is signed by its user on the device: the platform cannot send from it`);
  if (!ports.outbox.signers(account.chain).some((s) => s.address === account.address)) {
    throw new NotCustodialError(`account ${account.id} is custodial but this deployment holds no key for ${account.address} on ${account.chain}`);
  }
  const reservation = await checkRequest(ports.pool, account, request, 'custodial');
  const result = await inTransaction(ports.pool, (client) =>
    reserveSend(client, ports, reservation, (tx) =>
      ports.outbox.submit(tx, {
        idempotencyKey: intentKey(request.idempotencyKey),
        kind: transferIntentName(account.chain),
        functionName: 'transfer',
        args: [reservation.to, reservation.amount],
        signer: account.address,
      }),
    ),
  );
  // Refused after the commit: the chain read it made stays cached.
  if (result instanceof InsufficientFundsError) throw result;
  return result;
}

/** A send checked and resolved, ready to be reserved. */
export interface Reservation {
  account: Account;
  to: string;
  /** Our account `to` is, if it is one. */
  recipient: Account | undefined;
  amount: bigint;
  token: string;
  idempotencyKey: string;
  mode: SendMode;
}

/** The outbox's key of a send's intent: one namespace for custodial and user-signed sends. */
export const intentKey = (idempotencyKey: string) => `payments.send:${idempotencyKey}`;

/** The request's checks that need no lock: amount, key, recipient (resolved to our account when it is one). */
export async function checkRequest(db: Pick<pg.ClientBase, 'query'>, account: Account, request: SendRequest, mode: SendMode): Promise<Reservation> {
  if (typeof request.amount !== 'bigint' || request.amount <= 0n) throw new InvalidSendError(`the amount must be a positive integer of the token's smallest unit, not ${String(request.amount)}`);
  if (typeof request.idempotencyKey !== 'string' || request.idempotencyKey.length === 0 || request.idempotencyKey.length > 200) {
    throw new InvalidSendError('the idempotency key must be 1 to 200 characters');
  }
  const to = normalizeAddress(account.chain, request.to);
  if (to === account.address) throw new InvalidSendError(`account ${account.id} cannot send to itself`);
  const recipient = await accountByAddress(db, account.chain, to);
  return { account, to, recipient, amount: request.amount, token: CUSD.symbol, idempotencyKey: request.idempotencyKey, mode };
}

/**
 * The reservation, in the caller's transaction (`client` inside BEGIN): both
 * balance rows locked (in account order), an earlier send with the key returned
 * as it is, else the sender's balance read from the chain and cached, the
 * amount refused (returned, not thrown, so the caller commits the read) or
 * reserved, the intent submitted by `submit`, the send recorded.
 *
 * `submit` is what differs between modes: custodial sends submit a call the
 * platform signs; user-signed sends (signed.ts) submit the bytes signed on the
 * device, through the same reservation.
 */
export async function reserveSend(
  client: pg.PoolClient,
  ports: SendPorts,
  reservation: Reservation,
  submit: (client: pg.PoolClient) => Promise<{ id: bigint; created: boolean }>,
): Promise<SendResult | InsufficientFundsError> {
  const { account, recipient, amount, token } = reservation;
  const rows = await lockBalances(client, [account.id, ...(recipient ? [recipient.id] : [])], token);
  const earlier = await sendByKey(client, reservation.idempotencyKey);
  if (earlier) return { send: sameRequest(earlier, reservation), created: false };

  const read = await readChainBalance(ports, account.chain, account.address);
  await recordChainRead(client, account.id, token, read);
  const available = read.amount - rows.get(account.id)!.pendingOut;
  if (available < amount) return new InsufficientFundsError(account.id, amount, available > 0n ? available : 0n);

  await client.query(`update payment_balances set pending_out = pending_out + $3 where account_id = $1 and token = $2`, [account.id, token, amount.toString()]);
  if (recipient) await client.query(`update payment_balances set pending_in = pending_in + $3 where account_id = $1 and token = $2`, [recipient.id, token, amount.toString()]);
  const intent = await submit(client);
  // The intent's key was taken by another account's send with the same key (this one's row is locked, not that one's).
  if (!intent.created) throw new IdempotencyConflictError(`idempotency key ${reservation.idempotencyKey} was used for another send`);
  try {
    const send = await insertSend(client, {
      accountId: account.id,
      token,
      recipientAddress: reservation.to,
      recipientAccount: recipient?.id ?? null,
      amount,
      mode: reservation.mode,
      intentId: intent.id.toString(),
      idempotencyKey: reservation.idempotencyKey,
    });
    return { send, created: true };
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new IdempotencyConflictError(`idempotency key ${reservation.idempotencyKey} was used for another send`);
    throw error;
  }
}

/** An earlier send with the same key must be the same request; anything else is a conflict, not a second send. */
function sameRequest(earlier: Send, reservation: Reservation): Send {
  const same =
    earlier.accountId === reservation.account.id && earlier.recipientAddress === reservation.to && earlier.amount === reservation.amount && earlier.token === reservation.token && earlier.mode === reservation.mode;
  if (!same) throw new IdempotencyConflictError(`idempotency key ${reservation.idempotencyKey} was used for a different send (${earlier.id})`);
  return earlier;
}
