/**
 * Live objects: the coins that addresses own (Coin<T> with an id, a version, a digest, an owner),
 * and the address balances (Sui's balance accumulators) that generated traffic moves.
 */
import { digest58 } from './util.js';

export interface Coin {
  objectId: string;
  coinType: string;
  balance: bigint;
  owner: string;
  version: bigint;
  digest: string;
  previousTransaction: string;
}

/** The simulator's object digest: a hash of what identifies the object's state. */
export function objectDigest(objectId: string, version: bigint, owner: string, balance: bigint): string {
  return digest58('object', objectId, version, owner, balance);
}

export class ObjectStore {
  readonly #live = new Map<string, Coin>();
  /** Objects merged away, with their last version: "deleted" is not "never existed". */
  readonly #deleted = new Map<string, bigint>();
  readonly #addressBalances = new Map<string, Map<string, bigint>>();

  get(objectId: string): Coin | undefined {
    return this.#live.get(objectId);
  }

  deletedAt(objectId: string): bigint | undefined {
    return this.#deleted.get(objectId);
  }

  put(coin: Coin): void {
    this.#live.set(coin.objectId, coin);
  }

  delete(objectId: string, version: bigint): void {
    this.#live.delete(objectId);
    this.#deleted.set(objectId, version);
  }

  /** Coins owned by `owner`, by object id, optionally of one object type or one coin type. */
  owned(owner: string, match: (coin: Coin) => boolean = () => true): Coin[] {
    const coins: Coin[] = [];
    for (const coin of this.#live.values()) if (coin.owner === owner && match(coin)) coins.push(coin);
    return coins.sort((a, b) => (a.objectId < b.objectId ? -1 : 1));
  }

  addressBalance(owner: string, coinType: string): bigint {
    return this.#addressBalances.get(owner)?.get(coinType) ?? 0n;
  }

  addToAddressBalance(owner: string, coinType: string, amount: bigint): void {
    let balances = this.#addressBalances.get(owner);
    if (!balances) this.#addressBalances.set(owner, (balances = new Map()));
    const next = (balances.get(coinType) ?? 0n) + amount;
    if (next < 0n) throw new Error(`address balance of ${owner} in ${coinType} would go below zero`);
    balances.set(coinType, next);
  }

  /** Every coin type `owner` holds, in coins or in its address balance. */
  coinTypes(owner: string): string[] {
    const types = new Set(this.#addressBalances.get(owner)?.keys());
    for (const coin of this.#live.values()) if (coin.owner === owner) types.add(coin.coinType);
    return [...types].sort();
  }
}
