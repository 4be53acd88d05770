import { privateKeyToAccount, type LocalAccount } from 'viem/accounts';
import type { Hex } from 'viem';

/**
 * What the relayer signs with: any viem LocalAccount, so a KMS-backed account
 * (which implements signTransaction remotely) can stand in for a key later.
 */
export type RelayerSigner = LocalAccount;

export class SignerKeyError extends Error {
  override name = 'SignerKeyError';
}

/** An account from a private key. The key never appears in an error: only its shape is described. */
export function signerFromPrivateKey(key: string): RelayerSigner {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new SignerKeyError('the relayer private key must be 0x followed by 64 hex digits');
  return privateKeyToAccount(key as Hex);
}
