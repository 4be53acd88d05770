/**
 * The RPC's DNF filters (terms ORed, literals ANDed, each literal maybe negated) over the
 * simulator's records, with the specificity levels the .proto documents: a Move path may name
 * a package, a module or a function; an event type an address, a module, a name (any type
 * arguments) or an exact instantiation. Predicates the simulator cannot judge are refused
 * (UNIMPLEMENTED) rather than silently matched or skipped.
 */
import type { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { invalid, unimplemented } from './errors.js';
import type { EventRecord, TxRecord } from './records.js';

type Literal = GrpcTypes.TransactionLiteral | GrpcTypes.EventLiteral;

/** `0xpkg[::module[::rest]]` with the address normalized. */
function movePath(path: string | undefined, what: string): string {
  if (!path) throw invalid(`${what} filter needs a value`);
  const [address, ...rest] = path.split('::');
  return [normalizeSuiAddress(address!), ...rest].join('::');
}

function pathMatches(filter: string, path: string): boolean {
  return path === filter || path.startsWith(`${filter}::`);
}

function eventTypeMatches(filter: string, eventType: string): boolean {
  if (filter.includes('<')) return normalizeStructTag(filter) === normalizeStructTag(eventType);
  const bare = eventType.split('<')[0]!;
  return pathMatches(movePath(filter, 'event_type'), movePath(bare, 'event_type'));
}

function eventLiteral(literal: GrpcTypes.EventLiteral | GrpcTypes.TransactionLiteral, event: EventRecord): boolean | undefined {
  const p = literal.predicate;
  switch (p.oneofKind) {
    case 'sender':
      return normalizeSuiAddress(p.sender.address ?? '') === event.sender;
    case 'emitModule':
      return pathMatches(movePath(p.emitModule.module, 'emit_module'), `${event.packageId}::${event.module}`);
    case 'eventType':
      return eventTypeMatches(p.eventType.eventType ?? '', event.eventType);
    default:
      return undefined;
  }
}

function affectedAddresses(tx: TxRecord): Set<string> {
  const addresses = new Set(tx.balanceChanges.map((c) => c.address));
  for (const change of tx.changedObjects()) {
    if (change.input) addresses.add(change.input.owner);
    if (change.output) addresses.add(change.output.owner);
  }
  return addresses;
}

function transactionLiteral(literal: GrpcTypes.TransactionLiteral, tx: TxRecord): boolean {
  const p = literal.predicate;
  switch (p.oneofKind) {
    case 'sender':
      return normalizeSuiAddress(p.sender.address ?? '') === tx.sender;
    case 'affectedAddress':
      return affectedAddresses(tx).has(normalizeSuiAddress(p.affectedAddress.address ?? ''));
    case 'affectedObject':
      return tx.changedObjects().some((c) => c.objectId === normalizeSuiAddress(p.affectedObject.objectId ?? ''));
    case 'moveCall': {
      const filter = movePath(p.moveCall.function, 'move_call');
      return tx.moveCalls.some((call) => pathMatches(filter, call));
    }
    default:
      // Event predicates hold for a transaction when one of its events satisfies them.
      return tx.events.some((event) => eventLiteral(literal, event) === true);
  }
}

function check(literal: Literal, allowed: readonly string[]): void {
  const kind = literal.predicate.oneofKind;
  if (kind === undefined) throw invalid('a filter literal needs a predicate');
  if (!allowed.includes(kind)) throw unimplemented(`filter predicate ${kind} is not simulated`);
}

const TRANSACTION_PREDICATES = ['sender', 'affectedAddress', 'affectedObject', 'moveCall', 'emitModule', 'eventType'];
const EVENT_PREDICATES = ['sender', 'emitModule', 'eventType'];

/** Refuses filters the simulator cannot judge; call before streaming anything. */
export function checkTransactionFilter(filter: GrpcTypes.TransactionFilter | undefined): void {
  for (const term of filter?.terms ?? []) for (const literal of term.literals) check(literal, TRANSACTION_PREDICATES);
}

export function checkEventFilter(filter: GrpcTypes.EventFilter | undefined): void {
  for (const term of filter?.terms ?? []) for (const literal of term.literals) check(literal, EVENT_PREDICATES);
}

/** No filter, or no terms, matches everything. */
export function matchesTransaction(filter: GrpcTypes.TransactionFilter | undefined, tx: TxRecord): boolean {
  if (!filter || filter.terms.length === 0) return true;
  return filter.terms.some((term) => term.literals.every((literal) => transactionLiteral(literal, tx) !== literal.negated));
}

export function matchesEvent(filter: GrpcTypes.EventFilter | undefined, event: EventRecord): boolean {
  if (!filter || filter.terms.length === 0) return true;
  return filter.terms.some((term) => term.literals.every((literal) => eventLiteral(literal, event) !== literal.negated));
}
