/**
 * What validators check before they sign a transaction: its BCS, its signatures over the intent
 * message, its expiration, its gas price and budget, and each owned object it uses (that version
 * is live, owned by the signer, not locked by another transaction this epoch). A refusal here
 * is an RPC error, as Sui's; nothing of the transaction reaches the chain.
 */
import { bcs } from '@mysten/sui/bcs';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { verifyTransactionSignature } from '@mysten/sui/verify';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { Equivocation, invalid, unimplemented } from './errors.js';
import type { Coin, ObjectStore } from './objects.js';
import type { TransactionDataV1 } from './proto-tx.js';
import { SUI_TYPE } from './util.js';

/** What admission reads of the ledger. */
export interface ChainView {
  chainId: string;
  epoch: number;
  referenceGasPrice: bigint;
  objects: ObjectStore;
  /** Packages that hold the simulated `payments` module. */
  packages: ReadonlySet<string>;
  /** The transaction that used this object version in this epoch, if any. */
  lockHolder(objectId: string, version: bigint): string | undefined;
  equivocated(objectId: string): { version: bigint; digests: string[] } | undefined;
}

export interface Admitted {
  digest: string;
  bytes: Uint8Array;
  data: TransactionDataV1;
  signatures: Uint8Array[];
  /** Gas coins in payment order: the first is the one the others are merged into. */
  gas: Coin[];
  /** Owned object inputs by input index. */
  objects: Map<number, Coin>;
}

export const MAX_GAS_BUDGET = 50_000_000_000n;
/** Sui's floor for a budget is a fixed number of computation units at the transaction's price. */
export const MIN_BUDGET_UNITS = 1_000n;
const FRAMEWORK = new Set(['0x1', '0x2', '0x3'].map((a) => normalizeSuiAddress(a)));

export function parseTransaction(bytes: Uint8Array): { digest: string; data: TransactionDataV1 } {
  let parsed;
  try {
    parsed = bcs.TransactionData.parse(bytes);
  } catch (error) {
    throw invalid(`Invalid transaction BCS: ${(error as Error).message}`);
  }
  if (!parsed.V1) throw invalid('Unsupported TransactionData version');
  if (parsed.V1.kind.$kind !== 'ProgrammableTransaction') throw invalid(`Only programmable transactions can be submitted, not ${parsed.V1.kind.$kind}`);
  return { digest: TransactionDataBuilder.getDigestFromBytes(bytes), data: parsed.V1 };
}

async function checkSignatures(bytes: Uint8Array, signatures: Uint8Array[], data: TransactionDataV1): Promise<void> {
  const signers = new Set<string>();
  for (const signature of signatures) {
    try {
      const key = await verifyTransactionSignature(bytes, Buffer.from(signature).toString('base64'));
      signers.add(key.toSuiAddress());
    } catch (error) {
      throw invalid(`Invalid user signature: ${(error as Error).message}`);
    }
  }
  for (const required of new Set([data.sender, data.gasData.owner])) {
    if (!signers.has(required)) throw invalid(`Required Signature from ${required} is absent ${JSON.stringify([...signers])}`);
  }
  if (signers.size !== new Set([data.sender, data.gasData.owner]).size) throw invalid(`Expected ${new Set([data.sender, data.gasData.owner]).size} signatures, got ${signatures.length}`);
}

function checkExpiration(data: TransactionDataV1, chain: ChainView): void {
  const expiration = data.expiration;
  if (expiration.$kind === 'None') return;
  if (expiration.$kind === 'Epoch') {
    if (Number(expiration.Epoch) < chain.epoch) throw invalid('Transaction Expired');
    return;
  }
  const window = expiration.$kind === 'ValidDuring' ? expiration.ValidDuring : expiration.Validity;
  if (window.chain !== chain.chainId) throw invalid(`Transaction is for chain ${window.chain}, not ${chain.chainId}`);
  if ((window.minEpoch != null && Number(window.minEpoch) > chain.epoch) || (window.maxEpoch != null && Number(window.maxEpoch) < chain.epoch)) throw invalid('Transaction Expired');
}

function checkCommands(data: TransactionDataV1, chain: ChainView): void {
  const ptb = data.kind.ProgrammableTransaction!;
  ptb.inputs.forEach((input, i) => {
    if (input.$kind === 'FundsWithdrawal') throw unimplemented(`input ${i}: funds withdrawals are not simulated`);
    if (input.$kind === 'Object' && input.Object.$kind !== 'ImmOrOwnedObject') throw unimplemented(`input ${i}: ${input.Object.$kind} objects are not simulated`);
  });
  for (const command of ptb.commands) {
    if (command.$kind === 'MakeMoveVec' || command.$kind === 'Publish' || command.$kind === 'Upgrade') throw unimplemented(`${command.$kind} commands are not simulated`);
    if (command.$kind !== 'MoveCall') continue;
    const pkg = normalizeSuiAddress(command.MoveCall.package);
    if (FRAMEWORK.has(pkg)) throw unimplemented(`Move function ${pkg}::${command.MoveCall.module}::${command.MoveCall.function} is not simulated`);
    if (!chain.packages.has(pkg)) throw invalid(`Dependent package not found on-chain: ${pkg}`);
  }
}

/** Looks up one owned object reference as validators do; throws Sui's refusal. */
function checkRef(ref: { objectId: string; version: string | number; digest: string }, owner: string, digest: string, chain: ChainView, locks: boolean): Coin {
  const version = BigInt(ref.version);
  // A dry run executes on the latest state without asking validators for locks, as Sui's does.
  if (locks) {
    const locked = chain.equivocated(ref.objectId);
    if (locked) throw new Equivocation(ref.objectId, locked.version, locked.digests);
    const holder = chain.lockHolder(ref.objectId, version);
    if (holder !== undefined && holder !== digest) throw new Equivocation(ref.objectId, version, [holder, digest]);
  }
  const coin = chain.objects.get(ref.objectId);
  if (!coin) {
    const deletedAt = chain.objects.deletedAt(ref.objectId);
    if (deletedAt !== undefined) throw invalid(`Object ID ${ref.objectId} Version ${version} Digest ${ref.digest} is not available for consumption, it was deleted at version ${deletedAt}`);
    throw invalid(`Could not find the referenced object ${ref.objectId} at version ${version}`);
  }
  if (version < coin.version) throw invalid(`Object ID ${ref.objectId} Version ${version} Digest ${ref.digest} is not available for consumption, current version: ${coin.version}`);
  if (version > coin.version) throw invalid(`Could not find the referenced object ${ref.objectId} at version ${version}`);
  if (ref.digest !== coin.digest) throw invalid(`Invalid object digest for object ${ref.objectId}. Expected digest: ${coin.digest}`);
  if (coin.owner !== owner) throw invalid(`Object ${ref.objectId} is owned by account address ${coin.owner}, but given owner/signer address is ${owner}`);
  return coin;
}

/**
 * Admits a transaction, or throws the RPC error Sui would answer. `signatures` null is a dry run
 * (no signature needed); `checks` false skips the gas price, budget and balance checks as
 * SimulateTransaction with checks DISABLED does.
 */
export async function admit(bytes: Uint8Array, signatures: Uint8Array[] | null, chain: ChainView, checks = true): Promise<Admitted> {
  const { digest, data } = parseTransaction(bytes);
  if (signatures) await checkSignatures(bytes, signatures, data);
  checkExpiration(data, chain);
  checkCommands(data, chain);
  const { price, budget, payment, owner } = data.gasData;
  if (checks) {
    if (BigInt(price) < chain.referenceGasPrice) throw invalid(`Gas price ${price} under reference gas price (RGP) ${chain.referenceGasPrice}`);
    const min = MIN_BUDGET_UNITS * BigInt(price);
    if (BigInt(budget) < min) throw invalid(`Gas budget: ${budget} is lower than min: ${min}`);
    if (BigInt(budget) > MAX_GAS_BUDGET) throw invalid(`Gas budget: ${budget} is higher than max: ${MAX_GAS_BUDGET}`);
  }
  if (payment.length === 0) throw unimplemented('gas paid from address balances is not simulated: give gas payment objects');
  const seen = new Set<string>();
  const once = (objectId: string) => {
    if (seen.has(objectId)) throw invalid(`Mutable object ${objectId} cannot appear more than once in one transaction`);
    seen.add(objectId);
  };
  const gas = payment.map((ref) => {
    once(ref.objectId);
    const coin = checkRef(ref, owner, digest, chain, signatures !== null);
    if (coin.coinType !== SUI_TYPE) throw invalid(`Gas object ${ref.objectId} is not a SUI coin`);
    return coin;
  });
  const objects = new Map<number, Coin>();
  data.kind.ProgrammableTransaction!.inputs.forEach((input, i) => {
    if (input.$kind !== 'Object' || !input.Object.ImmOrOwnedObject) return;
    once(input.Object.ImmOrOwnedObject.objectId);
    objects.set(i, checkRef(input.Object.ImmOrOwnedObject, data.sender, digest, chain, signatures !== null));
  });
  const gasBalance = gas.reduce((sum, coin) => sum + coin.balance, 0n);
  if (checks && gasBalance < BigInt(budget)) throw invalid(`Balance of gas object ${gasBalance} is lower than the needed amount: ${budget}`);
  return { digest, bytes, data, signatures: signatures ?? [], gas, objects };
}
