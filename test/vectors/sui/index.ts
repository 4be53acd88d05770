/**
 * Sui test vectors: real chain data, recorded by other projects in their public test fixtures,
 * for replaying through the Sui adapter's decoder. README.md beside this file tells where each one
 * comes from; vectors.json indexes them with the values a decoder must produce.
 *
 *   import { loadSuiVectors } from '../vectors/sui/index.js';
 *   const { grpcTransactions, jsonRpcTransactions, checkpoints, byId } = loadSuiVectors();
 *   for (const v of grpcTransactions) expect(decode(v.message)).toMatchObject(v.expected);
 *
 * Shapes:
 * - `grpc` transactions come as `message`, a `GrpcTypes.ExecutedTransaction` exactly as
 *   `SuiGrpcClient` hands it over (bigint for uint64, Uint8Array for bytes, `{ oneofKind }` oneofs).
 * - `jsonrpc` transactions come as `response`, the `sui_getTransactionBlock` result
 *   (`SuiTransactionBlockResponse`); checkpoints as `checkpoint`, the `sui_getCheckpoint` result.
 * Every vector also keeps `raw`, the parsed file as stored, and its `expected` values.
 *
 * Not every vector is from mainnet: check `network` (the JSON-RPC failed transaction and non-SUI
 * coin transfer are devnet recordings), and `converted` marks the one gRPC message this project
 * built from a JSON-RPC recording.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrpcTypes } from '@mysten/sui/grpc';
import type { Checkpoint, SuiTransactionBlockResponse } from '@mysten/sui/jsonRpc';

/** The folder holding the vector files; `file` in each vector is relative to it. */
export const SUI_VECTORS_DIR = dirname(fileURLToPath(import.meta.url));

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type SuiVectorShape = 'grpc' | 'jsonrpc';
export type SuiVectorNetwork = 'mainnet' | 'devnet';
/**
 * How a file stores its data: `protobuf-ts-tagged` is protobuf-ts message objects serialised with
 * `{ "__bigint": "…" }` and `{ "__bytes": "<base64>" }` tags (Ledger Live's capture format);
 * `proto3-json` is canonical proto3 JSON (`Message.toJson`); `jsonrpc` is Sui JSON-RPC JSON.
 */
export type SuiVectorEncoding = 'protobuf-ts-tagged' | 'proto3-json' | 'jsonrpc';

export interface SuiVectorSource {
  repo: string;
  path: string;
  commit: string;
  /** The file at that commit. */
  url: string;
  commitUrl: string;
  licence: string;
}

export interface ExpectedGas {
  computationCost: string;
  storageCost: string;
  storageRebate: string;
  nonRefundableStorageFee: string;
  /** computationCost + storageCost - storageRebate; negative when the rebate exceeds the cost. */
  net: string;
}

export interface ExpectedBalanceChange {
  /** `object` for an ObjectOwner balance change (JSON-RPC only): `address` is then an object id. */
  owner: 'address' | 'object';
  /** 0x + 64 hex. */
  address: string;
  /** normalizeStructTag form, e.g. 0x0000…0002::sui::SUI. */
  coinType: string;
  /** Signed decimal string. */
  amount: string;
}

export interface ExpectedEvent {
  packageId: string;
  /** The transaction module that emitted the event (JSON-RPC `transactionModule`, gRPC `module`). */
  module: string;
  sender: string;
  /** normalizeStructTag form. */
  type: string;
  /** The event's parsed JSON as recorded. */
  fields: JsonValue;
}

export interface ExpectedTransaction {
  digest: string;
  sender: string;
  checkpoint: string;
  timestampMs: string;
  epoch: string;
  status: 'success' | 'failure';
  /** The recorded error message, for a JSON-RPC failure. */
  error?: string;
  gas: ExpectedGas;
  balanceChanges: ExpectedBalanceChange[];
  /** True when the SUI balance changes (all owners) add up to -gas.net. */
  suiBalanceSumIsMinusNetGas: boolean;
  events: ExpectedEvent[];
}

export interface ExpectedCheckpoint {
  sequenceNumber: string;
  digest: string;
  previousDigest: string;
  epoch: string;
  timestampMs: string;
  networkTotalTransactions: string;
  transactions: string[];
  /** null where the recorded value is known to have been edited (see the vector's `edited`). */
  epochRollingGasCostSummary: { computationCost: string; storageCost: string; storageRebate: string; nonRefundableStorageFee: string } | null;
}

interface SuiVectorMeta {
  id: string;
  encoding: SuiVectorEncoding;
  network: SuiVectorNetwork;
  networkEvidence: string;
  /** Relative to SUI_VECTORS_DIR; its provenance sidecar is the same name ending in .source.json. */
  file: string;
  /** RFC 6901 pointer to the transaction or checkpoint inside the file ('' for the whole file). */
  pointer: string;
  source: SuiVectorSource;
  features: string[];
  notes: string;
  /** Set on a vector this project converted from another one (its id) rather than recorded. */
  converted?: { from: string; tool: string };
  /** Recorded fields the source's authors are known to have edited. */
  edited?: string[];
  /** The whole file as stored, parsed. */
  raw: JsonValue;
}

export interface SuiGrpcTransactionVector extends SuiVectorMeta {
  kind: 'transaction';
  shape: 'grpc';
  expected: ExpectedTransaction;
  /** The transaction as the SDK's gRPC client returns it. */
  message: GrpcTypes.ExecutedTransaction;
}

export interface SuiJsonRpcTransactionVector extends SuiVectorMeta {
  kind: 'transaction';
  shape: 'jsonrpc';
  expected: ExpectedTransaction;
  /** The sui_getTransactionBlock result (old recordings may lack fields today's type requires). */
  response: SuiTransactionBlockResponse;
}

export interface SuiJsonRpcCheckpointVector extends SuiVectorMeta {
  kind: 'checkpoint';
  shape: 'jsonrpc';
  expected: ExpectedCheckpoint;
  /** The sui_getCheckpoint result. */
  checkpoint: Checkpoint;
}

export type SuiTransactionVector = SuiGrpcTransactionVector | SuiJsonRpcTransactionVector;
export type SuiVector = SuiTransactionVector | SuiJsonRpcCheckpointVector;

export interface SuiVectors {
  all: SuiVector[];
  grpcTransactions: SuiGrpcTransactionVector[];
  jsonRpcTransactions: SuiJsonRpcTransactionVector[];
  checkpoints: SuiJsonRpcCheckpointVector[];
  /** Throws on an unknown id. */
  byId(id: string): SuiVector;
}

type IndexEntry = Omit<SuiVectorMeta, 'raw'> & { kind: 'transaction' | 'checkpoint'; shape: SuiVectorShape; expected: ExpectedTransaction | ExpectedCheckpoint };

/** Reads a JSON file of the vectors folder (path relative to it). */
export function readVectorJson(file: string): JsonValue {
  return JSON.parse(readFileSync(join(SUI_VECTORS_DIR, file), 'utf8')) as JsonValue;
}

/** The provenance sidecar of a vector file. */
export function sidecarPath(file: string): string {
  return file.replace(/\.json$/, '.source.json');
}

/** Resolves an RFC 6901 JSON pointer; throws when a segment is missing. */
export function jsonPointer(doc: JsonValue, pointer: string): JsonValue {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) throw new Error(`not a JSON pointer: ${pointer}`);
  let node: JsonValue = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const next: JsonValue | undefined = Array.isArray(node) ? node[Number(key)] : node !== null && typeof node === 'object' ? node[key] : undefined;
    if (next === undefined) throw new Error(`JSON pointer ${pointer}: no ${key}`);
    node = next;
  }
  return node;
}

/**
 * Turns Ledger Live's tagged capture back into protobuf-ts values: `{ "__bigint": "n" }` into a
 * bigint and `{ "__bytes": "<base64>" }` into a Uint8Array; everything else is copied as is.
 */
export function reviveProtobufTs(value: JsonValue): unknown {
  if (Array.isArray(value)) return value.map(reviveProtobufTs);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && typeof value.__bigint === 'string') return BigInt(value.__bigint);
    if (keys.length === 1 && typeof value.__bytes === 'string') return Uint8Array.from(Buffer.from(value.__bytes, 'base64'));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveProtobufTs(v)]));
  }
  return value;
}

function toMessage(entry: IndexEntry, node: JsonValue): GrpcTypes.ExecutedTransaction {
  switch (entry.encoding) {
    case 'protobuf-ts-tagged':
      return GrpcTypes.ExecutedTransaction.create(reviveProtobufTs(node) as Partial<GrpcTypes.ExecutedTransaction>);
    case 'proto3-json':
      return GrpcTypes.ExecutedTransaction.fromJson(node);
    default:
      throw new Error(`${entry.id}: a gRPC vector cannot be ${entry.encoding}`);
  }
}

let cache: SuiVectors | undefined;

/** Loads every vector listed in vectors.json (once; later calls return the same objects). */
export function loadSuiVectors(): SuiVectors {
  if (cache) return cache;
  const index = readVectorJson('vectors.json') as unknown as { vectors: IndexEntry[] };
  const files = new Map<string, JsonValue>();
  const all: SuiVector[] = index.vectors.map((entry) => {
    let raw = files.get(entry.file);
    if (raw === undefined) {
      raw = readVectorJson(entry.file);
      files.set(entry.file, raw);
    }
    const node = jsonPointer(raw, entry.pointer);
    if (entry.kind === 'checkpoint') {
      return { ...entry, kind: 'checkpoint', shape: 'jsonrpc', expected: entry.expected as ExpectedCheckpoint, raw, checkpoint: node as unknown as Checkpoint };
    }
    const expected = entry.expected as ExpectedTransaction;
    if (entry.shape === 'grpc') return { ...entry, kind: 'transaction', shape: 'grpc', expected, raw, message: toMessage(entry, node) };
    return { ...entry, kind: 'transaction', shape: 'jsonrpc', expected, raw, response: node as unknown as SuiTransactionBlockResponse };
  });
  const byIdMap = new Map(all.map((v) => [v.id, v]));
  cache = {
    all,
    grpcTransactions: all.filter((v): v is SuiGrpcTransactionVector => v.kind === 'transaction' && v.shape === 'grpc'),
    jsonRpcTransactions: all.filter((v): v is SuiJsonRpcTransactionVector => v.kind === 'transaction' && v.shape === 'jsonrpc'),
    checkpoints: all.filter((v): v is SuiJsonRpcCheckpointVector => v.kind === 'checkpoint'),
    byId(id) {
      const v = byIdMap.get(id);
      if (!v) throw new Error(`no Sui vector ${id}`);
      return v;
    },
  };
  return cache;
}
