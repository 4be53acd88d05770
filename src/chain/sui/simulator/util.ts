/**
 * Small deterministic building blocks of the Sui simulator: a seeded PRNG, digests and
 * addresses derived from seeds, and Sui's spelling of types and addresses.
 */
import { createHash } from 'node:crypto';
import { normalizeStructTag, normalizeSuiAddress, toBase58 } from '@mysten/sui/utils';

export const SUI_TYPE = normalizeStructTag('0x2::sui::SUI');
export const ZERO_ADDRESS = normalizeSuiAddress('0x0');

/** A 32-bit mix of its arguments: seeds the PRNG of one checkpoint or one transaction. */
export function mix32(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    // Two halves so that numbers above 2^32 (checkpoint sequence numbers can be) still count.
    for (const part of [value >>> 0, Math.floor(value / 2 ** 32) >>> 0]) {
      h = Math.imul(h ^ part, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** mulberry32: fast, seedable and good enough to pick traffic; never used for anything secret. */
export class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** A 32-bit integer: a seed for something drawn later (an address), so drawing stays cheap. */
  u32(): number {
    return Math.floor(this.next() * 2 ** 32);
  }
}

const words = new Uint32Array(8);
const wordBytes = Buffer.from(words.buffer);
/** A 32-byte address spun from a 32-bit seed: cheaper than hashing, for generated traffic's strangers. */
export function seededAddress(seed: number): string {
  const rng = new Prng(seed);
  for (let i = 0; i < 8; i++) words[i] = rng.u32();
  return `0x${wordBytes.toString('hex')}`;
}

type Part = string | number | bigint | Uint8Array;

/** SHA-256 over tagged parts: the simulator's digests (only transaction digests must be Sui's own). */
export function hash(domain: string, ...parts: Part[]): Uint8Array {
  const h = createHash('sha256').update(domain);
  for (const part of parts) {
    // A separator keeps ('ab','c') and ('a','bc') apart.
    h.update('\u0000');
    h.update(part instanceof Uint8Array ? part : String(part));
  }
  return new Uint8Array(h.digest());
}

/** A digest as Sui spells them: base58 of 32 bytes. */
export function digest58(domain: string, ...parts: Part[]): string {
  return toBase58(hash(domain, ...parts));
}

/** An address or object id derived from parts. */
export function address(domain: string, ...parts: Part[]): string {
  return `0x${Buffer.from(hash(domain, ...parts)).toString('hex')}`;
}

export function normalizeType(type: string): string {
  return normalizeStructTag(type);
}

export function coinObjectType(coinType: string): string {
  return normalizeStructTag(`0x2::coin::Coin<${coinType}>`);
}

export function timestampOf(ms: number): { seconds: bigint; nanos: number } {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}
