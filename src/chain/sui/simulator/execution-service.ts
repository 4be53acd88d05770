/**
 * TransactionExecutionService: ExecuteTransaction (signed BCS TransactionData in, effects out;
 * the transaction joins the next checkpoint) and SimulateTransaction (the same checks and
 * execution on the current state, nothing applied: gas estimates and aborts surface here; given
 * an unfinished proto transaction instead of BCS, it resolves it as `build({ client })` needs).
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { invalid, unimplemented } from './errors.js';
import { unary, type Handler } from './grpc-web.js';
import type { SuiLedger } from './ledger.js';
import { parseMask, prune, sub } from './mask.js';
import { protoTransaction } from './proto-tx.js';
import { renderTransaction } from './records.js';
import { resolveTransaction } from './resolve.js';

const { TransactionExecutionService, SimulateTransactionRequest_TransactionChecks: Checks } = GrpcTypes;

/** The BCS bytes of a request's transaction. */
function transactionBytes(transaction: GrpcTypes.Transaction | undefined): Uint8Array {
  const bytes = transaction?.bcs?.value;
  if (bytes && bytes.length > 0) return bytes;
  if (transaction) throw unimplemented('ExecuteTransaction needs transaction.bcs: send the signed bytes');
  throw invalid('transaction is required');
}

export function executionService(ledger: SuiLedger): Handler[] {
  return [
    unary<GrpcTypes.ExecuteTransactionRequest, GrpcTypes.ExecuteTransactionResponse>(TransactionExecutionService, 'ExecuteTransaction', async (req) => {
      const bytes = transactionBytes(req.transaction);
      const signatures = req.signatures.map((s) => {
        if (!s.bcs?.value) throw invalid('signatures must be given as BCS (flag, signature, public key)');
        return s.bcs.value;
      });
      if (signatures.length === 0) throw invalid('a transaction needs its signatures');
      const placed = await ledger.execute(bytes, signatures);
      return { transaction: renderTransaction(placed, parseMask(req.readMask?.paths, ['effects.status', 'checkpoint'])) };
    }),
    unary<GrpcTypes.SimulateTransactionRequest, GrpcTypes.SimulateTransactionResponse>(TransactionExecutionService, 'SimulateTransaction', async (req) => {
      if (!req.transaction) throw invalid('transaction is required');
      const checks = req.checks !== Checks.DISABLED;
      // The mask is over the response; the transaction's own part is under `transaction`.
      const mask = sub(parseMask(req.readMask?.paths, ['transaction.digest', 'transaction.effects.status']), 'transaction');
      const answer = (transaction: GrpcTypes.ExecutedTransaction | undefined) => ({ transaction, commandOutputs: [], suggestedGasPrice: ledger.referenceGasPrice });
      let bytes = req.transaction.bcs?.value;
      if (!bytes?.length) {
        const resolved = await resolveTransaction(ledger, req.transaction, req.doGasSelection ?? false);
        // A transaction kind alone (no gas) cannot run: its resolved inputs are all the builder wants.
        if (resolved.data.gasData.payment.length === 0) {
          const kindOnly: GrpcTypes.ExecutedTransaction = { digest: resolved.digest, transaction: protoTransaction(resolved.data), signatures: [], balanceChanges: [] };
          return answer(mask === undefined ? undefined : prune(GrpcTypes.ExecutedTransaction, kindOnly, mask));
        }
        bytes = resolved.bytes;
      }
      const tx = await ledger.simulate(bytes, checks);
      return answer(mask === undefined ? undefined : renderTransaction({ tx }, mask));
    }),
  ];
}
