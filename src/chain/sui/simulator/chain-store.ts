/**
 * The checkpoint chain's skeleton: for each checkpoint only its digest (hash-chained to the
 * previous one), its running transaction total, its epoch and whether it ends the epoch —
 * about 40 bytes each. Contents live elsewhere (executed transactions) or are regenerated
 * (traffic segments).
 */
import { toBase58 } from '@mysten/sui/utils';
import { hash } from './util.js';

export interface Skeleton {
  sequenceNumber: number;
  digest: string;
  previousDigest?: string;
  contentDigest: string;
  epoch: number;
  totalNetworkTransactions: number;
  endOfEpoch: boolean;
}

export class ChainStore {
  #digests = new Uint8Array(32 * 1024);
  #contents = new Uint8Array(32 * 1024);
  #totals = new Float64Array(1024);
  #count = 0;
  /** First checkpoint of each epoch, ascending. */
  readonly #epochStarts: number[] = [];
  readonly #endsEpoch = new Set<number>();
  #byDigest: Map<string, number> | undefined;

  get height(): number {
    return this.#count - 1;
  }

  get epoch(): number {
    return this.#epochStarts.length - 1;
  }

  /** Appends a checkpoint of `transactions` transactions whose contents hash to `contentKey`. */
  append(contentKey: Uint8Array, transactions: number, timestampMs: number, endOfEpoch = false): number {
    const seq = this.#count;
    if (this.#epochStarts.length === 0) this.#epochStarts.push(0);
    if (seq === this.#totals.length) this.#grow();
    const previous = seq > 0 ? this.#digests.subarray((seq - 1) * 32, seq * 32) : new Uint8Array(32);
    const digest = hash('checkpoint', seq, previous, contentKey, this.epoch, timestampMs, String(endOfEpoch));
    this.#digests.set(digest, seq * 32);
    this.#contents.set(contentKey.subarray(0, 32), seq * 32);
    this.#totals[seq] = (seq > 0 ? this.#totals[seq - 1]! : 0) + transactions;
    this.#count++;
    this.#byDigest?.set(toBase58(digest), seq);
    if (endOfEpoch) {
      this.#endsEpoch.add(seq);
      this.#epochStarts.push(seq + 1);
    }
    return seq;
  }

  #grow() {
    const grow = <T extends Uint8Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const next = make(old.length * 2);
      next.set(old as never);
      return next;
    };
    this.#digests = grow(this.#digests, (n) => new Uint8Array(n));
    this.#contents = grow(this.#contents, (n) => new Uint8Array(n));
    this.#totals = grow(this.#totals, (n) => new Float64Array(n));
  }

  epochOf(seq: number): number {
    // Epochs are few: a backwards scan beats bookkeeping.
    for (let e = this.#epochStarts.length - 1; e >= 0; e--) if (this.#epochStarts[e]! <= seq) return e;
    return 0;
  }

  epochRange(epoch: number): { first: number; last?: number } | undefined {
    const first = this.#epochStarts[epoch];
    if (first === undefined) return undefined;
    const next = this.#epochStarts[epoch + 1];
    return { first, last: next === undefined ? undefined : next - 1 };
  }

  /** A checkpoint's summary; its digests are spelled in base58 (the costly part) only when read. */
  skeleton(seq: number): Skeleton | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.#count) return undefined;
    const digests = this.#digests;
    const contents = this.#contents;
    let digest: string | undefined;
    let previous: string | undefined;
    let content: string | undefined;
    return {
      sequenceNumber: seq,
      get digest() {
        return (digest ??= toBase58(digests.subarray(seq * 32, seq * 32 + 32)));
      },
      get previousDigest() {
        return seq > 0 ? (previous ??= toBase58(digests.subarray((seq - 1) * 32, seq * 32))) : undefined;
      },
      get contentDigest() {
        return (content ??= toBase58(contents.subarray(seq * 32, seq * 32 + 32)));
      },
      epoch: this.epochOf(seq),
      totalNetworkTransactions: this.#totals[seq]!,
      endOfEpoch: this.#endsEpoch.has(seq),
    };
  }

  /** The sequence number of the checkpoint with this digest; the index is built on first use. */
  find(digest: string): number | undefined {
    if (!this.#byDigest) {
      this.#byDigest = new Map();
      for (let seq = 0; seq < this.#count; seq++) this.#byDigest.set(toBase58(this.#digests.subarray(seq * 32, seq * 32 + 32)), seq);
    }
    return this.#byDigest.get(digest);
  }
}
