import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import type { BlockRef, JsonValue, StoredEvent } from '../../../core/chain.js';
import type { SuiFilter } from './filter.js';

/**
 * What the indexer asks a full node for of each checkpoint: its header, and of
 * every transaction what filters and projections use (sender, Move calls,
 * status, gas, events, balance changes). Proto field names, as Sui's read masks take them.
 * Of a transaction's kind only the commands: its inputs (pure arguments, object
 * references) are most of its size and nothing here reads them.
 */
export const CHECKPOINT_MASK = [
  'sequence_number',
  'digest',
  'summary.previous_digest',
  'summary.timestamp',
  'transactions.digest',
  'transactions.transaction.sender',
  'transactions.transaction.kind.programmable_transaction.commands',
  'transactions.effects.status',
  'transactions.effects.gas_used',
  'transactions.events.events',
  'transactions.balance_changes',
];

/** The checkpoint's place in the chain, as the core keeps blocks. */
export function checkpointRef(checkpoint: GrpcTypes.Checkpoint): BlockRef {
  return {
    number: checkpoint.sequenceNumber ?? 0n,
    hash: checkpoint.digest ?? '',
    parentHash: checkpoint.summary?.previousDigest ?? '',
    timestamp: checkpoint.summary?.timestamp?.seconds ?? 0n,
  };
}

/**
 * The events a checkpoint yields for the sources' filters. Each transaction
 * has, in order, one `Transaction` item, its Move events and its balance
 * changes; an item's position is its index among every item of the checkpoint,
 * kept or not, so that it does not depend on which sources are configured (a
 * source added later stores the same positions). A transaction a source keeps
 * gives it its Transaction item and the events and balance changes the filter
 * asks for (see filter.ts).
 */
export function decodeCheckpoint(chain: string, checkpoint: GrpcTypes.Checkpoint, filters: SuiFilter[]): StoredEvent[] {
  const block = checkpointRef(checkpoint);
  const out: StoredEvent[] = [];
  let position = 0;
  checkpoint.transactions.forEach((tx, transactionIndex) => {
    const events = tx.events?.events ?? [];
    const base = position;
    position += 1 + events.length + tx.balanceChanges.length;
    const facts = transactionFacts(tx);
    for (const filter of filters) {
      const kept = filter.keep(facts);
      if (!kept) continue;
      const at = (index: number) => ({
        chain,
        source: filter.source,
        blockNumber: block.number,
        blockHash: block.hash,
        blockTimestamp: block.timestamp,
        transactionId: tx.digest ?? '',
        transactionIndex,
        eventIndex: base + index,
      });
      out.push({ ...at(0), emitter: facts.sender, name: 'Transaction', args: transactionArgs(facts), raw: transactionRaw(tx) });
      events.forEach((event, i) => {
        if (!kept.event(facts.events[i]!)) return;
        out.push({ ...at(1 + i), emitter: facts.events[i]!.module, name: facts.events[i]!.name, args: eventArgs(event), raw: GrpcTypes.Event.toBinary(withoutJson(event)) });
      });
      tx.balanceChanges.forEach((change, i) => {
        const fact = facts.balanceChanges[i]!;
        if (!kept.balanceChange(fact)) return;
        out.push({ ...at(1 + events.length + i), emitter: fact.coinType, name: 'BalanceChange', args: { ...fact }, raw: GrpcTypes.BalanceChange.toBinary(change) });
      });
    }
  });
  return out;
}

/** A transaction as filters see it: addresses and types in their normal (long) form. */
export interface TransactionFacts {
  sender: string;
  success: boolean;
  /** `package::module::function` of every Move call it makes. */
  calls: string[];
  events: Array<{ type: string; package: string; module: string; name: string; sender: string }>;
  balanceChanges: Array<{ address: string; coinType: string; amount: string }>;
  error: string | null;
  gas: { computation: string; storage: string; rebate: string };
}

export function transactionFacts(tx: GrpcTypes.ExecutedTransaction): TransactionFacts {
  const kind = tx.transaction?.kind?.data;
  const commands = kind?.oneofKind === 'programmableTransaction' ? kind.programmableTransaction.commands : [];
  const calls = commands.flatMap((c) => (c.command.oneofKind === 'moveCall' ? [`${address(c.command.moveCall.package)}::${c.command.moveCall.module}::${c.command.moveCall.function}`] : []));
  const status = tx.effects?.status;
  const gas = tx.effects?.gasUsed;
  return {
    sender: address(tx.transaction?.sender),
    success: status?.success ?? true,
    calls,
    events: (tx.events?.events ?? []).map((e) => {
      const type = structTag(e.eventType ?? '0x0::unknown::Unknown');
      return { type, package: address(e.packageId), module: `${address(e.packageId)}::${e.module ?? ''}`, name: structName(type), sender: address(e.sender) };
    }),
    balanceChanges: tx.balanceChanges.map((b) => ({ address: address(b.address), coinType: structTag(b.coinType ?? '0x2::sui::SUI'), amount: b.amount ?? '0' })),
    error: status && status.success === false ? describeError(status.error) : null,
    gas: { computation: String(gas?.computationCost ?? 0n), storage: String(gas?.storageCost ?? 0n), rebate: String(gas?.storageRebate ?? 0n) },
  };
}

/** Why a transaction failed, in one line: a Move abort names its code and where, as Move reports it. */
export function describeError(error: GrpcTypes.ExecutionError | undefined): string {
  if (!error) return 'failed';
  const details = error.errorDetails;
  if (details.oneofKind === 'abort') {
    const { abortCode, location } = details.abort;
    const where = location ? ` in ${address(location.package)}::${location.module ?? '?'}${location.functionName ? `::${location.functionName}` : ''}` : '';
    return `MoveAbort ${abortCode ?? '?'}${where}`;
  }
  return error.description ?? GrpcTypes.ExecutionError_ExecutionErrorKind[error.kind ?? 0] ?? 'failed';
}

function transactionArgs(facts: TransactionFacts): Record<string, JsonValue> {
  return { sender: facts.sender, success: facts.success, error: facts.error, calls: facts.calls, gas: facts.gas };
}

/** The event's fields as the full node renders them in JSON (Move's u64 and wider as decimal strings). */
function eventArgs(event: GrpcTypes.Event): Record<string, JsonValue> {
  if (!event.json) return {};
  // google.protobuf.Value's proto3 JSON form is the JSON value itself.
  const json = (GrpcTypes.Event.toJson(GrpcTypes.Event.create({ json: event.json })) as { json?: JsonValue }).json ?? null;
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : { value: json };
}

/**
 * The raw payload of a Transaction item: the transaction's digest, sender,
 * status and gas as protobuf (the SDK's ExecutedTransaction message), so that
 * its args can be derived again without the node.
 */
function transactionRaw(tx: GrpcTypes.ExecutedTransaction): Uint8Array {
  const kind = tx.transaction?.kind?.data;
  const commands = kind?.oneofKind === 'programmableTransaction' ? kind.programmableTransaction.commands.filter((c) => c.command.oneofKind === 'moveCall') : [];
  const message = GrpcTypes.ExecutedTransaction.create({
    digest: tx.digest,
    transaction: { sender: tx.transaction?.sender, kind: { data: { oneofKind: 'programmableTransaction', programmableTransaction: { inputs: [], commands } } } },
    ...(tx.effects ? { effects: { status: tx.effects.status, gasUsed: tx.effects.gasUsed } } : {}),
  });
  return GrpcTypes.ExecutedTransaction.toBinary(message);
}

/** The JSON rendering is derived from the BCS contents; keep one copy. */
function withoutJson(event: GrpcTypes.Event): GrpcTypes.Event {
  const { json: _json, ...rest } = event;
  return rest;
}

/** Nodes send addresses in the long form already: checked with a regular expression, which costs a tenth of normalising. */
const LONG_FORM = /^0x[0-9a-f]{64}$/;

function address(value: string | undefined): string {
  return value !== undefined && LONG_FORM.test(value) ? value : normalizeSuiAddress(value ?? '0x0');
}

/** Types repeat (a coin type in every balance change): each is normalised once. Bounded, for a node that sends junk. */
const normalizedTypes = new Map<string, string>();

function structTag(type: string): string {
  let normal = normalizedTypes.get(type);
  if (normal === undefined) {
    normal = normalizeStructTag(type);
    if (normalizedTypes.size >= 10_000) normalizedTypes.clear();
    normalizedTypes.set(type, normal);
  }
  return normal;
}

/** `Transfer` of `0x2::coin::Transfer<0x2::sui::SUI>`. */
function structName(type: string): string {
  const plain = type.split('<')[0]!;
  return plain.slice(plain.lastIndexOf('::') + 2);
}
