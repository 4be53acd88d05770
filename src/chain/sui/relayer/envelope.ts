import { bcs } from '@mysten/sui/bcs';
import { fromBase64, toBase64 } from '@mysten/sui/utils';

/**
 * The stored form of a signed Sui transaction (relayer_transactions.raw): its BCS
 * TransactionData and its signatures, exactly what ExecuteTransaction is sent,
 * every time.
 */
const SignedTransaction = bcs.struct('LedgersyncSignedTransaction', {
  transaction: bcs.byteVector(),
  signatures: bcs.vector(bcs.byteVector()),
});

export function seal(transaction: Uint8Array, signatures: string[]): Uint8Array {
  return SignedTransaction.serialize({ transaction, signatures: signatures.map((s) => fromBase64(s)) }).toBytes();
}

export function open(raw: Uint8Array): { transaction: Uint8Array; signatures: Uint8Array[] } {
  const parsed = SignedTransaction.parse(raw);
  return { transaction: Uint8Array.from(parsed.transaction), signatures: parsed.signatures.map((s) => Uint8Array.from(s)) };
}

/** The signatures in the SDK's base64 form. */
export function base64Signatures(raw: Uint8Array): string[] {
  return open(raw).signatures.map((s) => toBase64(s));
}
