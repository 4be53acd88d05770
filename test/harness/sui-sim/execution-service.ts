/**
 * TransactionExecutionService: ExecuteTransaction (signed BCS TransactionData in, effects out;
 * the transaction joins the next checkpoint) and SimulateTransaction (the same checks and
 * execution on the current state, nothing applied: gas estimates and aborts surface here).
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { invalid, unimplemented } from './errors.js';
import { unary, type Handler } from './grpc-web.js';
import type { SuiLedger } from './ledger.js';
import { parseMask, sub } from './mask.js';
import { renderTransaction } from './records.js';

const { TransactionExecutionService, SimulateTransactionRequest_TransactionChecks: Checks } = GrpcTypes;

/** The BCS bytes of a request's transaction: the simulator does not resolve unresolved transactions. */
function transactionBytes(transaction: GrpcTypes.Transaction | undefined, method: string): Uint8Array {
  const bytes = transaction?.bcs?.value;
  if (bytes && bytes.length > 0) return bytes;
  if (transaction) {
    throw unimplemented(`${method} needs transaction.bcs: the simulator does not resolve transactions; build them offline (sender, gas payment, price and budget set, object inputs as full references) and send the bytes`);
  }
  throw invalid('transaction is required');
}

export function executionService(ledger: SuiLedger): Handler[] {
  return [
    unary<GrpcTypes.ExecuteTransactionRequest, GrpcTypes.ExecuteTransactionResponse>(TransactionExecutionService, 'ExecuteTransaction', async (req) => {
      const bytes = transactionBytes(req.transaction, 'ExecuteTransaction');
      const signatures = req.signatures.map((s) => {
        if (!s.bcs?.value) throw invalid('signatures must be given as BCS (flag, signature, public key)');
        return s.bcs.value;
      });
      if (signatures.length === 0) throw invalid('a transaction needs its signatures');
      const placed = await ledger.execute(bytes, signatures);
      return { transaction: renderTransaction(placed, parseMask(req.readMask?.paths, ['effects.status', 'checkpoint'])) };
    }),
    unary<GrpcTypes.SimulateTransactionRequest, GrpcTypes.SimulateTransactionResponse>(TransactionExecutionService, 'SimulateTransaction', async (req) => {
      const bytes = transactionBytes(req.transaction, 'SimulateTransaction');
      const tx = await ledger.simulate(bytes, req.checks !== Checks.DISABLED);
      // The mask is over the response; the transaction's own part is under `transaction`.
      const mask = sub(parseMask(req.readMask?.paths, ['transaction.digest', 'transaction.effects.status']), 'transaction');
      return { transaction: mask === undefined ? undefined : renderTransaction({ tx }, mask), commandOutputs: [], suggestedGasPrice: ledger.referenceGasPrice };
    }),
  ];
}
