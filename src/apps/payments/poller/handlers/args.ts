import { normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import type { JsonValue } from '../../../../engine/index.js';

/** Reading event arguments as the engine stores them (decimal strings, lower-case hex, Sui JSON), loudly. */

export class UnreadableEventError extends Error {
  override name = 'UnreadableEventError';
}

export function uint(args: Record<string, JsonValue>, name: string): bigint {
  const value = args[name];
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^\d+$/.test(String(value))) throw new UnreadableEventError(`argument ${name} is not an unsigned integer: ${JSON.stringify(value)}`);
  return BigInt(value);
}

export function signedInt(args: Record<string, JsonValue>, name: string): bigint {
  const value = args[name];
  if ((typeof value !== 'string' && typeof value !== 'number') || !/^-?\d+$/.test(String(value))) throw new UnreadableEventError(`argument ${name} is not an integer: ${JSON.stringify(value)}`);
  return BigInt(value);
}

export function evmAddressArg(args: Record<string, JsonValue>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw new UnreadableEventError(`argument ${name} is not an address: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

export function suiAddressArg(args: Record<string, JsonValue>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) throw new UnreadableEventError(`argument ${name} is not a Sui address: ${JSON.stringify(value)}`);
  return normalizeSuiAddress(value);
}

export function hexArg(args: Record<string, JsonValue>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]*$/.test(value)) throw new UnreadableEventError(`argument ${name} is not hex: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

export function boolArg(args: Record<string, JsonValue>, name: string): boolean {
  const value = args[name];
  if (typeof value !== 'boolean') throw new UnreadableEventError(`argument ${name} is not a boolean: ${JSON.stringify(value)}`);
  return value;
}

/**
 * A Move `vector<u8>` as the node renders it in JSON: base64 (gRPC) or an array of
 * numbers (JSON-RPC's parsedJson), as text when it is printable UTF-8 (a payment id,
 * a trade id, `CUSD`), else as 0x-hex.
 */
export function moveBytesText(args: Record<string, JsonValue>, name: string): string {
  const value = args[name];
  let bytes: Uint8Array;
  if (typeof value === 'string') bytes = Buffer.from(value, 'base64');
  else if (Array.isArray(value) && value.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < 256)) bytes = Uint8Array.from(value as number[]);
  else throw new UnreadableEventError(`argument ${name} is not a vector<u8>: ${JSON.stringify(value)}`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const printable = !text.includes('\uFFFD') && ![...text].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  return printable ? text : `0x${Buffer.from(bytes).toString('hex')}`;
}

/** A coin type in its normal form, to compare with the configured one. */
export const coinType = (value: JsonValue | undefined) => normalizeStructTag(String(value ?? ''));

export const ZERO_EVM_ADDRESS = '0x0000000000000000000000000000000000000000';
