import { readFile } from 'node:fs/promises';
import { Wallet } from '@ethereumjs/wallet';
import { privateKeyToAccount, type LocalAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import type { SignerSource } from '../../../config/chains.js';

/**
 * What the relayer signs with: any viem LocalAccount, so a KMS-backed account
 * (which implements signTransaction remotely) can stand in for a key later.
 */
export type RelayerSigner = LocalAccount;

export class SignerKeyError extends Error {
  override name = 'SignerKeyError';
}

export async function loadSigner(source: SignerSource): Promise<RelayerSigner> {
  return source.kind === 'key' ? signerFromPrivateKey(source.privateKey) : signerFromKeystore(source.path, source.password);
}

/** An account from a private key. The key never appears in an error: only its shape is described. */
export function signerFromPrivateKey(key: string): RelayerSigner {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new SignerKeyError('the relayer private key must be 0x followed by 64 hex digits');
  return privateKeyToAccount(key as Hex);
}

/** An account from an encrypted JSON keystore (Web3 Secret Storage v3: scrypt or pbkdf2, as geth and most wallets write). */
export async function signerFromKeystore(path: string, password: string): Promise<RelayerSigner> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SignerKeyError(`cannot read the keystore file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let keystore: unknown;
  try {
    keystore = JSON.parse(text);
  } catch {
    throw new SignerKeyError(`the keystore file ${path} is not JSON`);
  }
  let wallet: Wallet;
  try {
    // Non-strict: geth writes `Crypto`, others `crypto`.
    wallet = await Wallet.fromV3(keystore as Parameters<typeof Wallet.fromV3>[0], password, true);
  } catch (error) {
    const wrongPassword = /passphrase|mac/i.test((error as Error).message);
    throw new SignerKeyError(
      wrongPassword ? `cannot decrypt the keystore ${path}: wrong password` : `the keystore file ${path} is not a version 3 keystore: ${(error as Error).message}`,
    );
  }
  return privateKeyToAccount(wallet.getPrivateKeyString() as Hex);
}

/** The addresses of a chain's configured signers and their roles (keystores are decrypted to learn them). */
export async function signerAddresses(sources: Array<SignerSource & { roles: string[] }>): Promise<Array<{ address: Hex; roles: string[] }>> {
  const found = [];
  for (const source of sources) found.push({ address: (await loadSigner(source)).address, roles: source.roles });
  return found;
}
