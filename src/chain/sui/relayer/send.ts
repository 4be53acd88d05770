import { bcs } from '@mysten/sui/bcs';
import { RpcError } from '@mysten/sui/grpc';
import { fromBase64, normalizeSuiAddress } from '@mysten/sui/utils';
import type { SendFailure } from '../../../core/relayer/lifecycle.js';
import type { SuiRelayerContext } from './context.js';
import { applyEffects } from './effects.js';
import { open } from './envelope.js';
import { isEquivocation, isSpentObject } from './errors.js';
import { rpcMessage } from './reads.js';

/**
 * Executes stored bytes (ExecuteTransaction), each on its own: undefined when the
 * chain has it or may have it, else why not. The same bytes answer with their
 * first effects when sent again ("already executed" is success too), and effects
 * in the answer free the transaction's coins at once. An object version the node
 * calls spent or unknown means our transaction executed, or another spent the
 * coin, or the node is behind: as EVM's "nonce too low", the intent counts as sent
 * (its bytes go out again until settled) and observing finds out which.
 * An equivocation cannot come from this relayer (it never signs twice on an
 * object version); if the chain reports one, someone else signs with this key:
 * said loudly, and observing finds the coin spent and signs the intent again.
 */
export async function send(ctx: SuiRelayerContext, transactions: Array<{ id: string; raw: Uint8Array }>): Promise<Array<SendFailure | undefined>> {
  return Promise.all(transactions.map((t) => executeStored(ctx, t)));
}

export async function executeStored(ctx: SuiRelayerContext, stored: { id: string; raw: Uint8Array }): Promise<SendFailure | undefined> {
  const { transaction, signatures } = open(stored.raw);
  signatures.push(...(await sponsorSignature(ctx, transaction)));
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
      ctx.logger.error(
        { transaction: stored.id, error: message },
        'GasCoinEquivocated: Sui reports another transaction signed on an object version this one consumes (is the key used outside this relayer?); the object is locked until the epoch ends',
      );
      return undefined;
    }
    if (isSpentObject(message)) return undefined;
    // The node judged the transaction (a malformed or unsigned one, an object it cannot use); UNAVAILABLE,
    // DEADLINE_EXCEEDED or INTERNAL is the node failing.
    return { message, refused: error instanceof RpcError && (error.code === 'INVALID_ARGUMENT' || error.code === 'FAILED_PRECONDITION' || error.code === 'NOT_FOUND') };
  }
}

/**
 * A transaction the user signed whose gas this signer pays (sponsored: the outbox took it
 * only against a live reservation of this signer's gas coin) needs this signer's signature
 * too: added as it is sent. Ed25519 signatures are deterministic and a Sui digest covers the
 * TransactionData alone, so every send is the same transaction, as with stored bytes.
 */
async function sponsorSignature(ctx: SuiRelayerContext, transaction: Uint8Array): Promise<Uint8Array[]> {
  const data = bcs.TransactionData.parse(transaction).V1!;
  if (normalizeSuiAddress(data.gasData.owner) !== ctx.signer || normalizeSuiAddress(data.sender) === ctx.signer) return [];
  const { signature } = await ctx.keypair.signTransaction(transaction);
  return [fromBase64(signature)];
}
