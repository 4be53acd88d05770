import { decodeAbiParameters, toEventSelector, type Abi, type AbiEvent, type AbiParameter, type Address, type Hex } from 'viem';
import type { JsonValue, StoredEvent } from './types.js';

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

/**
 * Decodes logs with the ABI of the contract that emitted them. Event ABIs are
 * looked up by (address, topic0) once, so each log costs one decode, not a search.
 * A log no ABI knows (an event added in a later contract version) is skipped.
 */
export function createDecoder(abiByAddress: Map<string, Abi>) {
  const events = new Map<string, AbiEvent>();
  for (const [address, abi] of abiByAddress) {
    for (const item of abi) {
      if (item.type === 'event' && !item.anonymous) events.set(`${address}:${toEventSelector(item)}`, item);
    }
  }
  return (log: RawLog, chainId: number, blockTimestamp: bigint): StoredEvent | undefined => {
    const address = log.address.toLowerCase() as Address;
    const event = events.get(`${address}:${log.topics[0]}`);
    if (!event) return undefined;
    return {
      chainId,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash.toLowerCase() as Hex,
      blockTimestamp,
      transactionHash: log.transactionHash.toLowerCase() as Hex,
      transactionIndex: log.transactionIndex,
      logIndex: log.logIndex,
      address,
      eventName: event.name!,
      args: decodeArgs(event, log),
      topics: log.topics.map((t) => t.toLowerCase() as Hex),
      data: log.data.toLowerCase() as Hex,
    };
  };
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
 * The event's arguments in their JSON form. Indexed words of static types are read
 * straight from the topic (viem would checksum each address, a keccak per address,
 * only for us to lower-case it again); the data part is decoded by viem.
 */
function decodeArgs(event: AbiEvent, log: RawLog): Record<string, JsonValue> {
  const nonIndexed = event.inputs.filter((input) => !input.indexed);
  const values = nonIndexed.length > 0 ? decodeAbiParameters(nonIndexed, log.data) : [];
  const args: Record<string, JsonValue> = {};
  let topic = 1;
  let datum = 0;
  for (const [i, input] of event.inputs.entries()) {
    const name = input.name ?? String(i);
    if (!input.indexed) {
      args[name] = toJson(values[datum++], input);
      continue;
    }
    const word = log.topics[topic++];
    if (word === undefined) throw new Error(`log ${log.transactionHash}:${log.logIndex} lacks topic ${topic - 1} of ${event.name}`);
    args[name] = decodeTopic(input, word);
  }
  return args;
}

/** An indexed argument: static types are the 32-byte word itself; dynamic ones are only their hash. */
function decodeTopic(input: AbiParameter, word: Hex): JsonValue {
  const type = input.type;
  if (type === 'address') return `0x${word.slice(26)}`.toLowerCase();
  if (type === 'bool') return BigInt(word) !== 0n;
  if (/^uint\d*$/.test(type)) return BigInt(word).toString();
  if (type === 'bytes32') return word.toLowerCase();
  if (/^(int\d*|bytes\d+)$/.test(type)) return toJson(decodeAbiParameters([input], word)[0], input);
  return word.toLowerCase(); // string, bytes, arrays, tuples: the topic is their keccak
}

/**
 * The JSON form stored in indexer_events.args: integers as decimal strings,
 * addresses lower case (viem checksums them), tuples as objects, recursively.
 */
export function toJson(value: unknown, param?: AbiParameter): JsonValue {
  if (typeof value === 'bigint') return value.toString();
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
