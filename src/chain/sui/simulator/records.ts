/**
 * The simulator's own records of transactions and checkpoints, and how they render as the RPC's
 * messages under a read mask. Rendering builds only what the mask asks for (a checkpoint's
 * transactions, effects, events are the costly parts), then prunes with the SDK's message types
 * so that the fields returned are exactly the masked ones.
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { parseSerializedSignature } from '@mysten/sui/cryptography';
import { prune, selects, sub, type MaskTree } from './mask.js';
import { digest58, timestampOf } from './util.js';

export interface ObjectState {
  version: bigint;
  digest: string;
  owner: string;
}

export interface ChangedObjectRecord {
  objectId: string;
  objectType: string;
  input?: ObjectState;
  output?: ObjectState;
  operation: 'none' | 'created' | 'deleted';
}

export interface EventRecord {
  packageId: string;
  module: string;
  sender: string;
  eventType: string;
  bcs: Uint8Array;
  json?: Record<string, unknown>;
}

export interface BalanceChangeRecord {
  address: string;
  coinType: string;
  amount: bigint;
}

/** Sums a transaction's coin movements per owner and coin type; `changes()` gives the non-zero ones, as Sui orders them. */
export function balanceChanges() {
  const deltas = new Map<string, BalanceChangeRecord>();
  return {
    add(owner: string, coinType: string, amount: bigint): void {
      const key = `${owner}|${coinType}`;
      const entry = deltas.get(key) ?? { address: owner, coinType, amount: 0n };
      entry.amount += amount;
      deltas.set(key, entry);
    },
    changes: (): BalanceChangeRecord[] =>
      [...deltas.values()].filter((d) => d.amount !== 0n).sort((a, b) => (a.address + a.coinType < b.address + b.coinType ? -1 : 1)),
  };
}

export interface GasCost {
  computation: bigint;
  storage: bigint;
  rebate: bigint;
  nonRefundable: bigint;
}

export const NO_GAS: GasCost = { computation: 0n, storage: 0n, rebate: 0n, nonRefundable: 0n };

export type Status = { success: true } | { success: false; error: GrpcTypes.ExecutionError };

export interface TxRecord {
  digest: string;
  /** System transactions (the consensus commit prologue, the end of an epoch) are not programmable. */
  kind: 'programmable' | 'prologue' | 'end-of-epoch';
  sender: string;
  /** The proto `Transaction` (without bcs and digest), built on demand. */
  transaction: () => GrpcTypes.Transaction;
  /** TransactionData BCS: only transactions really signed and executed have it. */
  bcs?: Uint8Array;
  signatures: Uint8Array[];
  status: Status;
  gas: GasCost;
  gasObjectId?: string;
  /** Built on demand: generated traffic's object digests cost more than the rest of a transaction. */
  changedObjects: () => ChangedObjectRecord[];
  dependencies: string[];
  lamport?: bigint;
  events: EventRecord[];
  balanceChanges: BalanceChangeRecord[];
  /** `package::module::function` of each Move call, for filters. */
  moveCalls: string[];
  epoch: number;
}

/** A transaction at its place in a checkpoint (or not yet in one). */
export interface PlacedTx {
  tx: TxRecord;
  checkpoint?: number;
  index?: number;
  timestampMs?: number;
}

export interface CheckpointRecord {
  sequenceNumber: number;
  digest: string;
  previousDigest?: string;
  contentDigest: string;
  epoch: number;
  timestampMs: number;
  totalNetworkTransactions: number;
  endOfEpoch: boolean;
  transactions: TxRecord[];
}

const { Owner_OwnerKind: OwnerKind, ChangedObject_InputObjectState: InputState, ChangedObject_OutputObjectState: OutputState, ChangedObject_IdOperation: IdOperation } = GrpcTypes;

const effectsDigests = new WeakMap<TxRecord, string>();
/** The effects digest: the simulator's own hash (Sui's is over effects BCS, which is not modelled). */
export function effectsDigest(tx: TxRecord): string {
  let digest = effectsDigests.get(tx);
  if (!digest) effectsDigests.set(tx, (digest = digest58('effects', tx.digest)));
  return digest;
}

function owner(address: string): GrpcTypes.Owner {
  return { kind: OwnerKind.ADDRESS, address };
}

function changedObject(change: ChangedObjectRecord): GrpcTypes.ChangedObject {
  return {
    objectId: change.objectId,
    objectType: change.objectType,
    inputState: change.input ? InputState.EXISTS : InputState.DOES_NOT_EXIST,
    inputVersion: change.input?.version,
    inputDigest: change.input?.digest,
    inputOwner: change.input && owner(change.input.owner),
    outputState: change.output ? OutputState.OBJECT_WRITE : OutputState.DOES_NOT_EXIST,
    outputVersion: change.output?.version,
    outputDigest: change.output?.digest,
    outputOwner: change.output && owner(change.output.owner),
    idOperation: change.operation === 'created' ? IdOperation.CREATED : change.operation === 'deleted' ? IdOperation.DELETED : IdOperation.NONE,
  };
}

function effects(tx: TxRecord): GrpcTypes.TransactionEffects {
  const changed = tx.changedObjects();
  const gasObject = changed.find((c) => c.objectId === tx.gasObjectId);
  return {
    digest: effectsDigest(tx),
    version: 2,
    status: tx.status,
    epoch: BigInt(tx.epoch),
    gasUsed: { computationCost: tx.gas.computation, storageCost: tx.gas.storage, storageRebate: tx.gas.rebate, nonRefundableStorageFee: tx.gas.nonRefundable },
    transactionDigest: tx.digest,
    gasObject: gasObject && changedObject(gasObject),
    eventsDigest: tx.events.length > 0 ? digest58('events', tx.digest) : undefined,
    dependencies: tx.dependencies,
    lamportVersion: tx.lamport,
    changedObjects: changed.map(changedObject),
    unchangedConsensusObjects: [],
    unchangedLoadedRuntimeObjects: [],
  };
}

export function renderEvent(event: EventRecord, place: { checkpoint?: number; digest: string; index?: number; eventIndex: number }): GrpcTypes.Event {
  return {
    packageId: event.packageId,
    module: event.module,
    sender: event.sender,
    eventType: event.eventType,
    contents: { name: event.eventType, value: event.bcs },
    // Event.fromJson reads the plain JSON into google.protobuf.Value with the runtime's own reader.
    json: event.json ? GrpcTypes.Event.fromJson({ json: event.json as never }).json : undefined,
    checkpoint: place.checkpoint === undefined ? undefined : BigInt(place.checkpoint),
    transactionDigest: place.digest,
    transactionIndex: place.index === undefined ? undefined : BigInt(place.index),
    eventIndex: place.eventIndex,
  };
}

function signature(bytes: Uint8Array): GrpcTypes.UserSignature {
  const parsed = parseSerializedSignature(Buffer.from(bytes).toString('base64'));
  const scheme = GrpcTypes.SignatureScheme.ED25519;
  if (parsed.signatureScheme !== 'ED25519') return { bcs: { value: bytes }, signature: { oneofKind: undefined } };
  return { bcs: { value: bytes }, scheme, signature: { oneofKind: 'simple', simple: { scheme, signature: parsed.signature, publicKey: parsed.publicKey } } };
}

/** An executed transaction as `sui.rpc.v2.ExecutedTransaction`, with only the masked fields. */
export function renderTransaction(placed: PlacedTx, mask: MaskTree | null): GrpcTypes.ExecutedTransaction {
  const { tx } = placed;
  const full: GrpcTypes.ExecutedTransaction = {
    digest: tx.digest,
    signatures: selects(mask, 'signatures') ? tx.signatures.map(signature) : [],
    balanceChanges: selects(mask, 'balance_changes') ? tx.balanceChanges.map((c) => ({ address: c.address, coinType: c.coinType, amount: c.amount.toString() })) : [],
    checkpoint: placed.checkpoint === undefined ? undefined : BigInt(placed.checkpoint),
    timestamp: placed.timestampMs === undefined ? undefined : timestampOf(placed.timestampMs),
    transactionIndex: placed.index === undefined ? undefined : BigInt(placed.index),
  };
  const txMask = sub(mask, 'transaction');
  if (txMask !== undefined) {
    // Only the kind is costly to build; the rest of the message is a handful of fields.
    full.transaction = { ...tx.transaction(), digest: tx.digest, bcs: tx.bcs && { name: 'TransactionData', value: tx.bcs } };
  }
  if (selects(mask, 'effects')) full.effects = effects(tx);
  if (selects(mask, 'events') && tx.events.length > 0) {
    full.events = {
      digest: digest58('events', tx.digest),
      events: tx.events.map((event, eventIndex) => renderEvent(event, { checkpoint: placed.checkpoint, digest: tx.digest, index: placed.index, eventIndex })),
    };
  }
  return prune(GrpcTypes.ExecutedTransaction, full, mask);
}

/** A checkpoint as `sui.rpc.v2.Checkpoint`, with only the masked fields. */
export function renderCheckpoint(checkpoint: CheckpointRecord, mask: MaskTree | null): GrpcTypes.Checkpoint {
  const full: GrpcTypes.Checkpoint = { sequenceNumber: BigInt(checkpoint.sequenceNumber), digest: checkpoint.digest, transactions: [] };
  if (selects(mask, 'summary')) {
    full.summary = {
      digest: checkpoint.digest,
      epoch: BigInt(checkpoint.epoch),
      sequenceNumber: BigInt(checkpoint.sequenceNumber),
      totalNetworkTransactions: BigInt(checkpoint.totalNetworkTransactions),
      contentDigest: checkpoint.contentDigest,
      previousDigest: checkpoint.previousDigest,
      timestamp: timestampOf(checkpoint.timestampMs),
      commitments: [],
      endOfEpochData: checkpoint.endOfEpoch ? { nextEpochCommittee: [], epochCommitments: [], nextEpochProtocolVersion: 1n } : undefined,
    };
  }
  if (selects(mask, 'contents')) {
    full.contents = {
      digest: checkpoint.contentDigest,
      version: 1,
      transactions: checkpoint.transactions.map((tx) => ({ transaction: tx.digest, effects: effectsDigest(tx), signatures: tx.signatures.map(signature), addressAliasesVersions: [] })),
    };
  }
  const txMask = sub(mask, 'transactions');
  if (txMask !== undefined) {
    full.transactions = checkpoint.transactions.map((tx, index) =>
      renderTransaction({ tx, checkpoint: checkpoint.sequenceNumber, index, timestampMs: checkpoint.timestampMs }, txMask),
    );
  }
  // The transactions were pruned by their own mask already; prune the rest without walking them again.
  const transactions = full.transactions;
  const pruned = prune(GrpcTypes.Checkpoint, { ...full, transactions: [] }, mask);
  return { ...pruned, transactions: txMask === undefined ? [] : transactions };
}
