import type { AppContext } from '../../../engine/index.js';
import { prepareSend, sendSigned, type PreparedSend } from '../sends/index.js';
import type { PaymentsSettings } from '../settings.js';
import { accountFor, requireViewer } from './auth.js';
import { formatAmount, parseSendAmount } from './amounts.js';
import { badInput, notFound } from './errors.js';
import { sendById } from './history.js';
import { accountKey, MAX_KEY } from './operations.js';
import { sendOf, type PaymentsContext } from './resolvers.js';

/** The largest signed transaction taken (base64 or hex text): a cUSD transfer is a few hundred bytes. */
const MAX_TRANSACTION = 64 * 1024;
const MAX_SIGNATURE = 4 * 1024;

interface PrepareInput {
  account: string;
  to: string;
  amount?: string | null;
  amountFormatted?: string | null;
}

interface SendSignedInput {
  account: string;
  transaction: string;
  signatures?: string[] | null;
  idempotencyKey: string;
}

/** A prepared send as the schema's PreparedSend: the family's part filled in, the other null. */
function preparedOf(account: string, to: string, amount: bigint, prepared: PreparedSend) {
  const common = { account, chain: prepared.chain, to, amount: amount.toString(), amountFormatted: formatAmount(amount, 'cUSD') };
  if (prepared.family === 'sui') {
    return {
      ...common,
      evm: null,
      sui: { transaction: prepared.transaction, digest: prepared.digest, sponsor: prepared.sponsor, gasBudget: prepared.gasBudget.toString(), expiresAt: prepared.expiresAt.toISOString() },
    };
  }
  return {
    ...common,
    evm: {
      type: 'eip1559',
      chainId: prepared.chainId,
      to: prepared.contract,
      data: prepared.data,
      value: '0',
      nonce: prepared.nonce,
      gas: prepared.gas.toString(),
      maxFeePerGas: prepared.maxFeePerGas.toString(),
      maxPriorityFeePerGas: prepared.maxPriorityFeePerGas.toString(),
    },
    sui: null,
  };
}

/** The mutations of sends the user signs on their device: prepareSend (what to sign) and sendSigned (the signed bytes). */
export function signedSendMutations(context: AppContext, settings: PaymentsSettings) {
  const ports = { ...context, settings };

  const prepare = async (_p: unknown, args: Record<string, unknown>, ctx: PaymentsContext) => {
    const input = args.input as PrepareInput;
    const viewer = requireViewer(ctx.auth);
    await ctx.countWrite(ctx.auth);
    const account = await accountFor(context.pool, viewer, input.account);
    const amount = parseSendAmount(input, 'cUSD');
    const prepared = await prepareSend(ports, { accountId: account.id, to: input.to, amount });
    return preparedOf(account.id, input.to, amount, prepared);
  };

  const submit = async (_p: unknown, args: Record<string, unknown>, ctx: PaymentsContext) => {
    const input = args.input as SendSignedInput;
    const viewer = requireViewer(ctx.auth);
    await ctx.countWrite(ctx.auth);
    const account = await accountFor(context.pool, viewer, input.account);
    if (input.idempotencyKey.length < 1 || input.idempotencyKey.length > MAX_KEY) throw badInput(`idempotencyKey must be 1 to ${MAX_KEY} characters`);
    if (input.transaction.length === 0 || input.transaction.length > MAX_TRANSACTION) throw badInput(`transaction must be 1 to ${MAX_TRANSACTION} characters`);
    const signatures = input.signatures ?? undefined;
    if (signatures && (signatures.length > 4 || signatures.some((s) => s.length === 0 || s.length > MAX_SIGNATURE))) throw badInput('signatures: at most 4, each 1 to 4096 characters');
    const { send } = await sendSigned(ports, {
      accountId: account.id,
      signed: { transaction: input.transaction, ...(signatures && signatures.length > 0 ? { signatures } : {}) },
      idempotencyKey: accountKey(account.id, input.idempotencyKey),
    });
    const row = await sendById(context.pool, send.id);
    if (!row) throw notFound(`send ${send.id} does not exist`);
    return sendOf(row);
  };

  return { prepareSend: prepare, sendSigned: submit };
}
