import type { SuiRelayerContext } from './context.js';
import { applyEffects } from './effects.js';
import { open } from './envelope.js';
import { isEquivocation } from './errors.js';
import { rpcMessage } from './reads.js';

/**
 * Executes stored bytes (ExecuteTransaction), each on its own: undefined when the
 * chain has it (executed now or before: the same bytes answer with their first
 * effects), else why not. Effects in the answer free the transaction's coins at
 * once. An equivocation cannot come from this relayer (it never signs twice on an
 * object version); if the chain reports one, someone else signed with this key:
 * said loudly, and the same bytes are tried after the core's backoff (the lock
 * ends with the epoch; if the other transaction spent the coin, observing reports
 * it as taken and the intent is signed again with another).
 */
export async function send(ctx: SuiRelayerContext, transactions: Array<{ id: string; raw: Uint8Array }>): Promise<Array<string | undefined>> {
  return Promise.all(transactions.map((t) => executeStored(ctx, t)));
}

export async function executeStored(ctx: SuiRelayerContext, stored: { id: string; raw: Uint8Array }): Promise<string | undefined> {
  const { transaction, signatures } = open(stored.raw);
  try {
    const { response } = await ctx.client.transactionExecutionService.executeTransaction({
      transaction: { bcs: { value: transaction } },
      signatures: signatures.map((value) => ({ bcs: { value }, signature: { oneofKind: undefined } })),
      readMask: { paths: ['effects'] },
    });
    if (response.transaction?.effects) await applyEffects(ctx.pool, ctx, response.transaction.effects);
    return undefined;
  } catch (error) {
    const message = rpcMessage(error);
    if (/already executed/i.test(message)) return undefined;
    if (isEquivocation(message)) {
      ctx.logger.error({ transaction: stored.id, error: message }, 'Sui reports an equivocation on an object of this signer: another transaction was signed on the same object version (the key is used outside this relayer?); the object is locked until the epoch ends');
      return `GasCoinEquivocated: ${message}`;
    }
    return message;
  }
}
