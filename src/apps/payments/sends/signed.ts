import type pg from 'pg';
import { IdempotencyConflictError, inTransaction, type SignedSubmission } from '../../../engine/index.js';
import { findAccount, type Account } from '../accounts.js';
import { AccountNotFoundError } from '../balances/balance.js';
import { ChainUnavailableError, ContractNotDeployedError } from '../balances/chain.js';
import type { SendPorts } from '../balances/ports.js';
import { chainOf, CUSD_CONTRACT, type SuiPaymentsChain } from '../settings.js';
import { decodeEvmTransfer, decodeSuiTransfer, InvalidSignedTransactionError, requireCusdCoins, type DecodedTransfer } from './decode.js';
import { transferIntentName } from './intents.js';
import { checkRequest, InsufficientFundsError, intentKey, InvalidSendError, reserveSend, type SendResult } from './send.js';
import { sendByKey, type Send } from './store.js';

export interface SignedSendRequest {
  /** The user's account: the transaction's sender. */
  accountId: string;
  /**
   * EVM: `{ transaction: '0x…' }`, a signed CUSD.transfer(to, amount). Sui: `{ transaction: '<base64 TransactionData>',
   * signatures: ['<base64 user signature>'] }`, a cUSD transfer (sponsored: the bytes of prepareSponsoredSend).
   */
  signed: SignedSubmission;
  /** The caller's key for this send: the same key with the same bytes returns the same send. */
  idempotencyKey: string;
}

/**
 * A cUSD send the user signed on their device (custody `user`). What it sends is
 * read from the bytes (decode.ts) and reserved exactly as a custodial send is
 * (send.ts: the balance row locked, a critical read, InsufficientFundsError when
 * the chain amount less the reservations does not cover it), and the send is
 * recorded with its intent in the same commit: the outbox stores the bytes and
 * the relayer broadcasts exactly these, once. Its outcome settles the send as
 * any other (intents.ts); a transaction the user replaces with one of their own
 * (the same nonce on EVM, the same coin version on Sui) fails, releasing the
 * reservation.
 */
export async function sendSigned(ports: SendPorts, request: SignedSendRequest): Promise<SendResult> {
  const account = await findAccount(ports.pool, request.accountId);
  if (!account) throw new AccountNotFoundError(`no payments account ${request.accountId}`);
  if (account.custody !== 'user') throw new InvalidSendError(`account ${account.id} is custodial: the platform signs its sends (send, not sendSigned)`);
  const decoded = await decodeTransfer(ports, account, request.signed);
  if (decoded.sender !== account.address) {
    throw new InvalidSignedTransactionError(`the transaction is signed by ${decoded.sender}, not by account ${account.id} (${account.address})`);
  }
  // A retry of a send already made (the phone did not hear the answer): the same send, whatever became of its coins since.
  const earlier = await sendByKey(ports.pool, request.idempotencyKey);
  if (earlier) {
    if (earlier.accountId !== account.id) throw new IdempotencyConflictError(`idempotency key ${request.idempotencyKey} was used for another account's send`);
    await requireSameTransaction(ports.pool, earlier, decoded.transactionId);
    return { send: earlier, created: false };
  }
  if (decoded.coins) await requireCusdCoins(suiReader(ports, account).client, decoded.coins, (chainOf(ports.settings, account.chain) as SuiPaymentsChain).cusdType);
  const reservation = await checkRequest(ports.pool, account, { accountId: account.id, to: decoded.to, amount: decoded.amount, idempotencyKey: request.idempotencyKey }, 'user_signed');
  const result = await inTransaction(ports.pool, async (client) => {
    const reserved = await reserveSend(client, ports, reservation, async (tx) => {
      const intent = await ports.outbox.submit(tx, { idempotencyKey: intentKey(request.idempotencyKey), kind: transferIntentName(account.chain), signed: request.signed });
      await requireEngineAgrees(tx, intent.id, account, decoded);
      return intent;
    });
    // The same key with the same transfer in other bytes would be another transaction: a conflict, never a second send.
    if (!(reserved instanceof InsufficientFundsError) && !reserved.created) await requireSameTransaction(client, reserved.send, decoded.transactionId);
    return reserved;
  });
  // Refused after the commit: the chain read it made stays cached; nothing else was stored.
  if (result instanceof InsufficientFundsError) throw result;
  return result;
}

/** The transfer the bytes make, read by the account's chain's family. */
export async function decodeTransfer(ports: SendPorts, account: Account, signed: SignedSubmission): Promise<DecodedTransfer> {
  if (!signed || typeof signed !== 'object') throw new InvalidSignedTransactionError('signed must be { transaction, signatures? }');
  const config = chainOf(ports.settings, account.chain);
  if (config.family === 'sui') return decodeSuiTransfer(signed);
  const reader = ports.chains.get(account.chain);
  if (!reader) throw new ChainUnavailableError(`chain ${account.chain} is not configured in this deployment`);
  const cusd = ports.deployment(account.chain, CUSD_CONTRACT);
  if (!cusd) throw new ContractNotDeployedError(`${CUSD_CONTRACT} is not deployed on ${account.chain}: run \`ledgersync deploy\``);
  return decodeEvmTransfer(signed, cusd, reader.chainId);
}

/**
 * The outbox decoded the same bytes on its own (its family's codec): its sender and
 * arguments must be what was reserved, or the reservation would not follow the
 * transaction. A difference rolls the whole send back.
 */
async function requireEngineAgrees(client: pg.ClientBase, intentId: bigint, account: Account, decoded: DecodedTransfer): Promise<void> {
  const { rows } = await client.query<{ sender: string | null; args: unknown }>('select sender, args from relayer_intents where id = $1', [intentId]);
  const [to, amount] = (rows[0]?.args ?? []) as [unknown, unknown];
  if (rows[0]?.sender !== account.address || to !== decoded.to || amount !== decoded.amount.toString()) {
    throw new InvalidSignedTransactionError(`the transaction's transfer as the outbox reads it (${String(to)}, ${String(amount)}) is not the one reserved (${decoded.to}, ${decoded.amount})`);
  }
}

function suiReader(ports: SendPorts, account: Account) {
  const reader = ports.suiChains.get(account.chain);
  if (!reader) throw new ChainUnavailableError(`chain ${account.chain} is not configured in this deployment`);
  return reader;
}

async function requireSameTransaction(client: Pick<pg.ClientBase, 'query'>, send: Send, transactionId: string): Promise<void> {
  const { rows } = await client.query('select 1 from relayer_transactions where intent_id = $1 and id = $2', [send.intentId, transactionId]);
  if (rows.length === 0) throw new IdempotencyConflictError(`idempotency key ${send.idempotencyKey} was used for another transaction (send ${send.id})`);
}
