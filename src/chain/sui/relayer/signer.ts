import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';

export class SuiSignerKeyError extends Error {
  override name = 'SuiSignerKeyError';
}

/** An Ed25519 key in Sui's bech32 form (`suiprivkey1…`, as `sui keytool export` prints it). The key never appears in an error. */
export function suiKeypair(privateKey: string): Ed25519Keypair {
  if (!privateKey.startsWith('suiprivkey1')) throw new SuiSignerKeyError("a Sui signer key must be an Ed25519 key in Sui's bech32 form (suiprivkey1…, as `sui keytool export` prints it)");
  try {
    return Ed25519Keypair.fromSecretKey(privateKey);
  } catch {
    throw new SuiSignerKeyError('the Sui signer key is not a valid Ed25519 key in bech32 form (suiprivkey1…)');
  }
}
