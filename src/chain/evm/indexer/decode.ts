import { decodeAbiParameters, toEventSelector, type Abi, type AbiEvent, type AbiParameter, type Address, type Hex } from 'viem';
import type { JsonValue, StoredEvent } from '../../../core/chain.js';

export interface RawLog {
  address: Address;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
  topics: Hex[];
  data: Hex;
  /** Newer nodes (geth 1.16+, anvil) include it in logs, which saves fetching the block. */
  blockTimestamp?: bigint;
}

/** Who a log belongs to: the source whose filter it matched, and that source's ABI. */
export interface LogOwner {
  source: string;
  abi: Abi;
}

/**
 * Decodes logs with the ABI of the source that owns the emitting address. Event
 * ABIs are looked up by (address, topic0) once, so each log costs one decode, not
 * a search. A log no ABI knows (an event added in a later contract version) is
 * skipped. Owners can be added as factories reveal children.
 */
export function createDecoder(owners: Map<string, LogOwner>) {
  const events = new Map<string, { source: string; event: AbiEvent }>();
  const add = (address: string, owner: LogOwner) => {
    for (const item of owner.abi) {
      if (item.type === 'event' && !item.anonymous) events.set(`${address}:${toEventSelector(item)}`, { source: owner.source, event: item });
    }
  };
  for (const [address, owner] of owners) add(address, owner);
  const decode = (log: RawLog, chain: string, blockTimestamp: bigint): StoredEvent | undefined => {
    const address = log.address.toLowerCase() as Address;
    const known = events.get(`${address}:${log.topics[0]}`);
    if (!known) return undefined;
    return {
      chain,
      source: known.source,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash.toLowerCase(),
      blockTimestamp,
      transactionId: log.transactionHash.toLowerCase(),
      transactionIndex: log.transactionIndex,
      eventIndex: log.logIndex,
      emitter: address,
      name: known.event.name!,
      args: decodeArgs(known.event, log),
      raw: rawPayload(log),
    };
  };
  return Object.assign(decode, { add });
}

/**
 * The log as stored for decoding again: the number of topics (one byte), the
 * topics (32 bytes each), then the data. Bytes, not hex text: half the width.
 */
export function rawPayload(log: Pick<RawLog, 'topics' | 'data'>): Uint8Array {
  const hex = log.topics.map((t) => t.slice(2)).join('') + log.data.slice(2);
  const raw = Buffer.allocUnsafe(1 + hex.length / 2);
  raw[0] = log.topics.length;
  raw.write(hex, 1, 'hex');
  return raw;
}

/** The topics and data back from a raw payload. */
export function fromRawPayload(raw: Uint8Array): { topics: Hex[]; data: Hex } {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const count = bytes[0] ?? 0;
  const topics = Array.from({ length: count }, (_, i) => `0x${bytes.subarray(1 + i * 32, 33 + i * 32).toString('hex')}` as Hex);
  return { topics, data: `0x${bytes.subarray(1 + count * 32).toString('hex')}` };
}

/** A log as eth_getLogs returns it on the wire (quantities in hex). */
export interface RpcLog {
  address: Address;
  blockNumber: Hex | null;
  blockHash: Hex | null;
  blockTimestamp?: Hex | null;
  transactionHash: Hex | null;
  transactionIndex: Hex | null;
  logIndex: Hex | null;
  topics: Hex[];
  data: Hex;
  removed?: boolean;
}

/** A log straight from the RPC answer, with the fields a mined log always has. */
export function fromRpcLog(log: RpcLog): RawLog {
  if (log.blockNumber === null || log.blockHash === null || log.transactionHash === null || log.logIndex === null || log.transactionIndex === null) {
    throw new Error('pending log returned for a mined block range');
  }
  return {
    address: log.address,
    blockNumber: BigInt(log.blockNumber),
    blockHash: log.blockHash,
    transactionHash: log.transactionHash,
    transactionIndex: Number(log.transactionIndex),
    logIndex: Number(log.logIndex),
    topics: log.topics,
    data: log.data,
    ...(log.blockTimestamp ? { blockTimestamp: BigInt(log.blockTimestamp) } : {}),
  };
}

/**
 * The event's arguments in their JSON form. Elementary types are read straight
 * from the hex words of the topics and data; viem would turn the data into bytes,
 * build each hex value two characters at a time and checksum every address (a
 * keccak each) only for us to lower-case it again. Events with arrays or tuples
 * in their data go through viem's decoder.
 */
function decodeArgs(event: AbiEvent, log: RawLog): Record<string, JsonValue> {
  const nonIndexed = event.inputs.filter((input) => !input.indexed);
  const values = nonIndexed.every((input) => ELEMENTARY.test(input.type))
    ? decodeData(nonIndexed, log.data)
    : decodeAbiParameters(nonIndexed, log.data).map((value, i) => toJson(value, nonIndexed[i]));
  const args: Record<string, JsonValue> = {};
  let topic = 1;
  let datum = 0;
  for (const [i, input] of event.inputs.entries()) {
    const name = input.name ?? String(i);
    if (!input.indexed) {
      args[name] = values[datum++]!;
      continue;
    }
    const word = log.topics[topic++];
    if (word === undefined) throw new Error(`log ${log.transactionHash}:${log.logIndex} lacks topic ${topic - 1} of ${event.name}`);
    // Indexed dynamic values (string, bytes, arrays, tuples) are only their keccak in the topic.
    args[name] = STATIC.test(input.type) ? decodeWord(input.type, word.slice(2)) : word.toLowerCase();
  }
  return args;
}

/** One 32-byte word: a number, an address, a bool or fixed bytes. */
const STATIC = /^(u?int\d*|address|bool|bytes([1-9]|[12]\d|3[0-2]))$/;
/** What decodeData reads itself: static words plus `string` and `bytes`. */
const ELEMENTARY = /^(u?int\d*|address|bool|bytes\d*|string)$/;
const TWO_256 = 2n ** 256n;

export class AbiDataError extends Error {
  override name = 'AbiDataError';
}

/** ABI-decodes elementary parameters from hex data (types matching ELEMENTARY only). */
export function decodeData(params: readonly AbiParameter[], data: Hex): JsonValue[] {
  const hex = data.slice(2).toLowerCase();
  const word = (byteOffset: number): string => {
    const w = hex.slice(byteOffset * 2, byteOffset * 2 + 64);
    if (w.length !== 64) throw new AbiDataError(`ABI data ends at byte ${hex.length / 2}, before the word at byte ${byteOffset}`);
    return w;
  };
  const offset = (w: string): number => {
    const n = BigInt(`0x${w}`);
    if (n > BigInt(hex.length / 2)) throw new AbiDataError(`ABI offset or length ${n} points past the end of the data (${hex.length / 2} bytes)`);
    return Number(n);
  };
  return params.map((param, i) => {
    if (param.type !== 'string' && param.type !== 'bytes') return decodeWord(param.type, word(i * 32));
    const start = offset(word(i * 32));
    const length = offset(word(start));
    const content = hex.slice((start + 32) * 2, (start + 32 + length) * 2);
    if (content.length !== length * 2) throw new AbiDataError(`ABI ${param.type} of ${length} bytes runs past the end of the data`);
    return param.type === 'string' ? Buffer.from(content, 'hex').toString('utf8') : `0x${content}`;
  });
}

/** A static type's value from its 32-byte word (64 hex digits, no 0x), in the JSON form of `toJson`. */
function decodeWord(type: string, word: string): JsonValue {
  if (type === 'address') return `0x${word.slice(24)}`.toLowerCase();
  if (type === 'bool') return /[^0]/.test(word);
  if (type.startsWith('bytes')) return `0x${word.slice(0, Number(type.slice(5)) * 2)}`.toLowerCase();
  const value = BigInt(`0x${word}`);
  // intN: two's complement over the whole word (the ABI sign-extends).
  return (type.startsWith('int') && value >= TWO_256 / 2n ? value - TWO_256 : value).toString();
}

/**
 * The JSON form stored in indexer_events.args: integers as decimal strings,
 * addresses lower case (viem checksums them), tuples as objects, recursively.
 */
export function toJson(value: unknown, param?: AbiParameter): JsonValue {
  // Integers of any size as decimal strings (viem gives numbers for up to 48 bits, bigints above).
  if (typeof value === 'bigint' || typeof value === 'number') return value.toString();
  if (Array.isArray(value)) {
    const element = param && param.type.endsWith(']') ? { ...param, type: param.type.replace(/\[\d*\]$/, '') } : undefined;
    return value.map((v) => toJson(v, element));
  }
  // Hex (addresses, bytes): lower case. viem builds bytes as a rope of two-character pieces,
  // and toLowerCase also hands back one flat string, a tenth of the rope's memory.
  if (typeof value === 'string') return param && param.type !== 'string' ? value.toLowerCase() : value;
  if (value !== null && typeof value === 'object') {
    const components = param && 'components' in param ? param.components : undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v, components?.find((c) => c.name === k))]));
  }
  return value as JsonValue;
}
