import { z } from 'zod';

/**
 * Input checks that follow from where values end up, so that a bad value is a
 * 400 at the edge rather than an error from PostgreSQL or the ABI encoder (a 500).
 */

/** PostgreSQL's bigint tops out here: a larger id cannot name a row, and comparing with one is an error. */
const BIGINT_MAX = 9223372036854775807n;

/** An id kept in a PostgreSQL bigint column (a positive integer up to 9223372036854775807). */
export function bigintId(message: string) {
  // `abort`: the bound is only checked on digits.
  return z
    .string()
    .regex(/^[1-9]\d{0,18}$/, { message, abort: true })
    .refine((id) => BigInt(id) <= BIGINT_MAX, message);
}

const UINT256_MAX = 2n ** 256n - 1n;

/** A uint256 as decimal digits, positive (what numeric(78) columns hold). */
export function positiveUint256(message: string) {
  return z
    .string()
    .regex(/^[1-9]\d{0,77}$/, { message, abort: true })
    .refine((id) => BigInt(id) <= UINT256_MAX, message);
}

/** An EVM address in its stored form (lower-case), as the outbox and the indexer keep them. */
export const evmAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address')
  .transform((a) => a.toLowerCase());

// A lone surrogate is one code point in a `u` pattern; a valid pair is not matched.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What PostgreSQL can store, as text or inside jsonb: no NUL (neither accepts
 * it) and well-formed Unicode (jsonb refuses the escape of a lone surrogate).
 */
function storable(text: z.ZodString) {
  return text
    .refine((t) => !t.includes('\u0000'), 'must not contain a NUL character (\\u0000)')
    .refine((t) => !LONE_SURROGATE.test(t), 'must be well-formed Unicode (a lone surrogate such as \\ud800 is not a character)');
}

/** Text of at most `maxLength` UTF-16 code units that PostgreSQL can store. */
export function storableText(maxLength: number, minLength = 0) {
  return storable(z.string().min(minLength).max(maxLength));
}

/** Text stored on chain in a `bytes32`: its UTF-8 encoding must fit. */
export const bytes32Text = storable(
  z
    .string()
    .min(1)
    .refine((t) => Buffer.byteLength(t, 'utf8') <= 32, 'expected at most 32 bytes as UTF-8 (it is stored on chain as bytes32; é, for one, takes 2 bytes)'),
);
