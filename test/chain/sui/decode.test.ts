import { describe, expect, it } from 'vitest';
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { decodeCheckpoint } from '../../../src/chain/sui/indexer/decode.js';
import { suiFilter } from '../../../src/chain/sui/indexer/filter.js';
import { suiSource } from '../../../src/chain/sui/app.js';
import { loadSuiVectors } from '../../vectors/sui/index.js';

const CHAIN = 'sui:mainnet';
const { grpcTransactions } = loadSuiVectors();

/** A checkpoint holding one recorded transaction, stamped as the recording says. */
function checkpointOf(message: GrpcTypes.ExecutedTransaction, sequence: string, timestampMs: string): GrpcTypes.Checkpoint {
  const ms = BigInt(timestampMs);
  return GrpcTypes.Checkpoint.create({
    sequenceNumber: BigInt(sequence),
    digest: `checkpoint-${sequence}`,
    summary: { previousDigest: 'parent', timestamp: { seconds: ms / 1000n, nanos: Number(ms % 1000n) * 1_000_000 } },
    transactions: [message],
  });
}

/**
 * Real mainnet transactions (test/vectors/sui, recorded by Ledger Live and
 * Sentio) through the Sui decoder: what projections receive equals what the
 * chain recorded.
 */
describe('Sui decoder on recorded mainnet transactions', () => {
  for (const vector of grpcTransactions) {
    it(`${vector.id}: sender, status, gas, events and balance changes as recorded`, () => {
      const { expected } = vector;
      const everyone = new Set([expected.sender, ...expected.balanceChanges.map((b) => b.address)]);
      const source = suiSource({ name: 'watched', chain: CHAIN, addressSet: 'people', startCheckpoint: 0n });
      const events = decodeCheckpoint(CHAIN, checkpointOf(vector.message, expected.checkpoint, expected.timestampMs), [suiFilter(source, everyone)]);

      const [transaction, ...rest] = events;
      expect(transaction).toMatchObject({
        chain: CHAIN,
        source: 'watched',
        blockNumber: BigInt(expected.checkpoint),
        blockTimestamp: BigInt(expected.timestampMs) / 1000n,
        transactionId: expected.digest,
        transactionIndex: 0,
        eventIndex: 0,
        emitter: expected.sender,
        name: 'Transaction',
        args: {
          sender: expected.sender,
          success: expected.status === 'success',
          error: null,
          gas: { computation: expected.gas.computationCost, storage: expected.gas.storageCost, rebate: expected.gas.storageRebate },
        },
      });
      const moveEvents = rest.filter((e) => e.name !== 'BalanceChange');
      expect(moveEvents.map((e) => ({ emitter: e.emitter, name: e.name, args: e.args }))).toEqual(
        expected.events.map((e) => ({ emitter: `${e.packageId}::${e.module}`, name: e.type.split('<')[0]!.split('::').at(-1), args: e.fields })),
      );
      const changes = rest.filter((e) => e.name === 'BalanceChange');
      expect(changes.map((e) => e.args)).toEqual(expected.balanceChanges.map((b) => ({ address: b.address, coinType: b.coinType, amount: b.amount })));
      expect(changes.map((e) => e.emitter)).toEqual(expected.balanceChanges.map((b) => b.coinType));
      // Positions: the Transaction item, then its events, then its balance changes, in order.
      expect(events.map((e) => e.eventIndex)).toEqual(events.map((_, i) => i));

      // The raw payloads are the node's protobuf, minus the JSON rendering: decoding them again gives the same facts.
      moveEvents.forEach((e, i) => {
        const raw = GrpcTypes.Event.fromBinary(e.raw);
        expect(raw.eventType).toBe(vector.message.events!.events[i]!.eventType);
        expect(raw.contents?.value).toEqual(vector.message.events!.events[i]!.contents?.value);
        expect(raw.json).toBeUndefined();
      });
      changes.forEach((e, i) => expect(GrpcTypes.BalanceChange.fromBinary(e.raw)).toEqual(vector.message.balanceChanges[i]));
      const tx = GrpcTypes.ExecutedTransaction.fromBinary(transaction!.raw);
      expect(tx.digest).toBe(expected.digest);
      expect(normalizeSuiAddress(tx.transaction!.sender!)).toBe(expected.sender);
      expect(tx.effects?.gasUsed?.computationCost).toBe(BigInt(expected.gas.computationCost));
    });
  }

  it('keeps a transaction for the package it calls or emits from, with only that package’s events', () => {
    const vector = grpcTransactions.find((v) => v.expected.events.length >= 2 && new Set(v.expected.events.map((e) => e.type)).size >= 2)!;
    const first = vector.expected.events[0]!;
    const checkpoint = checkpointOf(vector.message, vector.expected.checkpoint, vector.expected.timestampMs);
    const byType = suiSource({ name: 'orders', chain: CHAIN, eventTypes: [first.type], startCheckpoint: 0n });
    const events = decodeCheckpoint(CHAIN, checkpoint, [suiFilter(byType, undefined)]);
    expect(events.filter((e) => e.name !== 'Transaction' && e.name !== 'BalanceChange').map((e) => e.args)).toEqual(vector.expected.events.filter((e) => e.type === first.type).map((e) => e.fields));
    // Without an address set, a kept transaction's balance changes are all there.
    expect(events.filter((e) => e.name === 'BalanceChange')).toHaveLength(vector.expected.balanceChanges.length);

    const elsewhere = suiSource({ name: 'elsewhere', chain: CHAIN, packages: ['0xabc'], modules: ['0x2::kiosk'], startCheckpoint: 0n });
    expect(decodeCheckpoint(CHAIN, checkpoint, [suiFilter(elsewhere, new Set())])).toEqual([]);
    // A package given in its short form matches its long form.
    const calls = vector.message.transaction!.kind!.data;
    const called = calls.oneofKind === 'programmableTransaction' ? calls.programmableTransaction.commands.find((c) => c.command.oneofKind === 'moveCall') : undefined;
    const pkg = called?.command.oneofKind === 'moveCall' ? called.command.moveCall.package! : first.packageId;
    const short = pkg.replace(/^0x0+/, '0x');
    expect(decodeCheckpoint(CHAIN, checkpoint, [suiFilter(suiSource({ name: 'pkg', chain: CHAIN, packages: [short], startCheckpoint: 0n }), undefined)])[0]?.name).toBe('Transaction');
  });

  it('gives two sources that both keep a transaction each its own copy at the same positions', () => {
    const vector = grpcTransactions.find((v) => v.expected.balanceChanges.length > 0)!;
    const checkpoint = checkpointOf(vector.message, vector.expected.checkpoint, vector.expected.timestampMs);
    const people = new Set([vector.expected.sender]);
    const a = suiFilter(suiSource({ name: 'a', chain: CHAIN, addressSet: 'x', startCheckpoint: 0n }), people);
    const b = suiFilter(suiSource({ name: 'b', chain: CHAIN, addressSet: 'x', startCheckpoint: 0n }), people);
    const events = decodeCheckpoint(CHAIN, checkpoint, [a, b]);
    const positions = (source: string) => events.filter((e) => e.source === source).map((e) => e.eventIndex);
    expect(positions('a')).toEqual(positions('b'));
    expect(positions('a').length).toBeGreaterThan(0);
  });
});
