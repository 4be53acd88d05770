/**
 * Internal consistency of the Sui test vectors: every expected value in vectors.json is re-derived
 * from the recorded file it came from (straightforward field reads, normalised with the SDK's own
 * utils), the recorded BCS hashes to the recorded digests, and the provenance sidecars agree with
 * the index. It tests the vectors, not a decoder.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blake2b } from '@noble/hashes/blake2.js';
import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes, parseGrpcTransactionResponse } from '@mysten/sui/grpc';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { fromBase58, fromBase64, normalizeStructTag, normalizeSuiAddress, toBase58 } from '@mysten/sui/utils';
import {
  SUI_VECTORS_DIR,
  jsonPointer,
  loadSuiVectors,
  readVectorJson,
  sidecarPath,
  type ExpectedBalanceChange,
  type ExpectedCheckpoint,
  type ExpectedEvent,
  type ExpectedGas,
  type ExpectedTransaction,
  type JsonValue,
  type SuiGrpcTransactionVector,
  type SuiJsonRpcCheckpointVector,
  type SuiJsonRpcTransactionVector,
  type SuiTransactionVector,
} from './index.js';

const vectors = loadSuiVectors();
const SUI = normalizeStructTag('0x2::sui::SUI');

/** Sui's typed hash: Blake2b-256 over `${tag}::` followed by the BCS bytes, in base58. */
const typedDigest = (tag: string, bytes: Uint8Array) => toBase58(blake2b(new Uint8Array([...new TextEncoder().encode(`${tag}::`), ...bytes]), { dkLen: 32 }));
const isDigest = (d: unknown) => typeof d === 'string' && fromBase58(d).length === 32;
const netGas = (c: string, s: string, r: string) => (BigInt(c) + BigInt(s) - BigInt(r)).toString();

// ---- what the recorded data says, read with plain code -------------------------------------------

function fromGrpc(m: GrpcTypes.ExecutedTransaction): Omit<ExpectedTransaction, 'suiBalanceSumIsMinusNetGas'> {
  const gas = m.effects?.gasUsed;
  const g = (v: bigint | undefined) => (v ?? 0n).toString();
  const computationCost = g(gas?.computationCost), storageCost = g(gas?.storageCost), storageRebate = g(gas?.storageRebate);
  return {
    digest: m.digest ?? '',
    sender: normalizeSuiAddress(m.transaction?.sender ?? ''),
    checkpoint: String(m.checkpoint),
    timestampMs: (BigInt(m.timestamp?.seconds ?? 0n) * 1000n + BigInt(Math.floor((m.timestamp?.nanos ?? 0) / 1e6))).toString(),
    epoch: String(m.effects?.epoch),
    status: m.effects?.status?.success ? 'success' : 'failure',
    gas: { computationCost, storageCost, storageRebate, nonRefundableStorageFee: g(gas?.nonRefundableStorageFee), net: netGas(computationCost, storageCost, storageRebate) },
    balanceChanges: m.balanceChanges.map((b) => ({ owner: 'address', address: normalizeSuiAddress(b.address ?? ''), coinType: normalizeStructTag(b.coinType ?? ''), amount: b.amount ?? '' })),
    events: (m.events?.events ?? []).map((e) => ({
      packageId: normalizeSuiAddress(e.packageId ?? ''),
      module: e.module ?? '',
      sender: normalizeSuiAddress(e.sender ?? ''),
      type: normalizeStructTag(e.eventType ?? ''),
      // google.protobuf.Value's JSON form is the plain JSON value.
      fields: (GrpcTypes.Event.toJson(e) as { json?: JsonValue }).json ?? null,
    })),
  };
}

interface RpcOwner { AddressOwner?: string; ObjectOwner?: string }
interface RpcTx {
  digest: string;
  transaction: { data: { sender: string }; txSignatures: string[] };
  rawTransaction?: string;
  effects: { status: { status: string; error?: string }; executedEpoch: string; gasUsed: Record<'computationCost' | 'storageCost' | 'storageRebate' | 'nonRefundableStorageFee', string>; transactionDigest: string; dependencies?: string[] };
  events: { id: { txDigest: string; eventSeq: string }; packageId: string; transactionModule: string; sender: string; type: string; parsedJson: JsonValue; bcs?: string }[];
  balanceChanges: { owner: RpcOwner; coinType: string; amount: string }[];
  timestampMs: string;
  checkpoint: string;
}

function fromJsonRpc(r: RpcTx): Omit<ExpectedTransaction, 'suiBalanceSumIsMinusNetGas'> {
  const g = r.effects.gasUsed;
  return {
    digest: r.digest,
    sender: normalizeSuiAddress(r.transaction.data.sender),
    checkpoint: r.checkpoint,
    timestampMs: r.timestampMs,
    epoch: r.effects.executedEpoch,
    status: r.effects.status.status === 'success' ? 'success' : 'failure',
    ...(r.effects.status.error !== undefined ? { error: r.effects.status.error } : {}),
    gas: { ...g, net: netGas(g.computationCost, g.storageCost, g.storageRebate) },
    balanceChanges: r.balanceChanges.map((b): ExpectedBalanceChange => {
      const address = b.owner.AddressOwner ?? b.owner.ObjectOwner;
      if (!address) throw new Error(`balance change owner not handled: ${JSON.stringify(b.owner)}`);
      return { owner: b.owner.AddressOwner ? 'address' : 'object', address: normalizeSuiAddress(address), coinType: normalizeStructTag(b.coinType), amount: b.amount };
    }),
    events: r.events.map((e): ExpectedEvent => ({ packageId: normalizeSuiAddress(e.packageId), module: e.transactionModule, sender: normalizeSuiAddress(e.sender), type: normalizeStructTag(e.type), fields: e.parsedJson })),
  };
}

function checkpointFacts(c: Record<string, JsonValue>, edited: string[] = []): ExpectedCheckpoint {
  const s = (k: string) => String(c[k]);
  const gas = c.epochRollingGasCostSummary as Record<string, JsonValue>;
  return {
    sequenceNumber: s('sequenceNumber'),
    digest: s('digest'),
    previousDigest: s('previousDigest'),
    epoch: s('epoch'),
    timestampMs: s('timestampMs'),
    networkTotalTransactions: s('networkTotalTransactions'),
    transactions: (c.transactions as string[]).map(String),
    epochRollingGasCostSummary: edited.includes('epochRollingGasCostSummary')
      ? null
      : { computationCost: String(gas.computationCost), storageCost: String(gas.storageCost), storageRebate: String(gas.storageRebate), nonRefundableStorageFee: String(gas.nonRefundableStorageFee) },
  };
}

const suiSum = (changes: ExpectedBalanceChange[]) => changes.filter((b) => b.coinType === SUI).reduce((sum, b) => sum + BigInt(b.amount), 0n);
const gasOf = (g: ExpectedGas) => BigInt(g.net);

// ---- the index and its provenance -----------------------------------------------------------------

describe('the Sui vector index', () => {
  it('has unique ids, and both shapes, mainnet data and a checkpoint', () => {
    const ids = vectors.all.map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(vectors.grpcTransactions.filter((v) => v.network === 'mainnet' && !v.converted).length).toBeGreaterThan(0);
    expect(vectors.jsonRpcTransactions.filter((v) => v.network === 'mainnet').length).toBeGreaterThan(0);
    expect(vectors.checkpoints.filter((v) => v.network === 'mainnet').length).toBeGreaterThan(0);
  });

  it('lists every data file, and each has a sidecar naming the same source as the index', () => {
    const dataFiles = ['grpc', 'jsonrpc'].flatMap((dir) => readdirSync(join(SUI_VECTORS_DIR, dir)).filter((f) => f.endsWith('.json') && !f.endsWith('.source.json')).map((f) => `${dir}/${f}`));
    const listed = new Set(vectors.all.map((v) => v.file));
    expect([...listed].sort()).toEqual(dataFiles.sort());
    for (const v of vectors.all) {
      const side = readVectorJson(sidecarPath(v.file)) as Record<string, JsonValue>;
      expect({ repo: side.repo, path: side.path, commit: side.commit, url: side.url, commitUrl: side.commitUrl, licence: side.licence }, v.id).toEqual(v.source);
      expect(side.network, v.id).toBe(v.network);
      expect(v.source.commit, v.id).toMatch(/^[0-9a-f]{40}$/);
      expect(v.source.url, v.id).toBe(`https://github.com/${v.source.repo}/blob/${v.source.commit}/${v.source.path}`);
      expect(v.source.commitUrl, v.id).toBe(`https://github.com/${v.source.repo}/commit/${v.source.commit}`);
    }
  });

  it('points converted vectors at an existing original', () => {
    for (const v of vectors.all.filter((x) => x.converted)) {
      expect(vectors.byId(v.converted?.from ?? '').kind).toBe(v.kind);
      expect(v.features).toContain('converted');
    }
  });
});

// ---- transactions -------------------------------------------------------------------------------

function commonChecks(v: SuiTransactionVector, actual: Omit<ExpectedTransaction, 'suiBalanceSumIsMinusNetGas'>) {
  it('states what the recorded data says', () => {
    const { suiBalanceSumIsMinusNetGas: _flag, ...expected } = v.expected;
    expect(actual).toEqual(expected);
  });

  it('has base58 32-byte digests', () => {
    expect(isDigest(v.expected.digest)).toBe(true);
  });

  it('has SUI balance changes that add up to minus the gas paid, as the index says', () => {
    expect(suiSum(v.expected.balanceChanges) === -gasOf(v.expected.gas)).toBe(v.expected.suiBalanceSumIsMinusNetGas);
  });

  if (v.features.includes('checkpoint-link')) {
    it('is in the checkpoint vector of its sequence number, with the same timestamp', () => {
      const cp = vectors.checkpoints.find((c) => c.expected.sequenceNumber === v.expected.checkpoint);
      expect(cp).toBeDefined();
      expect(cp?.expected.transactions).toContain(v.expected.digest);
      expect(cp?.expected.timestampMs).toBe(v.expected.timestampMs);
      expect(cp?.expected.epoch).toBe(v.expected.epoch);
    });
  }
}

describe.each(vectors.grpcTransactions.map((v) => [v.id, v] as const))('gRPC transaction %s', (_id, v: SuiGrpcTransactionVector) => {
  const m = v.message;
  commonChecks(v, fromGrpc(m));

  it('is a valid ExecutedTransaction (survives toJson/fromJson)', () => {
    expect(GrpcTypes.ExecutedTransaction.fromJson(GrpcTypes.ExecutedTransaction.toJson(m))).toEqual(m);
    expect(m.effects?.transactionDigest).toBe(m.digest);
    expect(m.transaction?.digest).toBe(m.digest);
    for (const d of m.effects?.dependencies ?? []) expect(isDigest(d)).toBe(true);
  });

  it('carries TransactionData BCS that hashes to the digest and names the same sender', () => {
    const bytes = m.transaction?.bcs?.value;
    expect(bytes).toBeInstanceOf(Uint8Array);
    if (!bytes) return;
    expect(TransactionDataBuilder.getDigestFromBytes(bytes)).toBe(v.expected.digest);
    expect(normalizeSuiAddress(bcs.TransactionData.parse(bytes).V1?.sender ?? '')).toBe(v.expected.sender);
  });

  it('carries effects BCS (recordings) and events BCS that hash to the recorded digests', () => {
    const fx = m.effects?.bcs?.value;
    const ev = m.events?.bcs?.value;
    // A recording carries the effects BCS; the converted vector cannot (JSON-RPC had none).
    expect(fx === undefined).toBe(Boolean(v.converted));
    if (fx) {
      expect(typedDigest('TransactionEffects', fx)).toBe(m.effects?.digest);
      const parsed = bcs.TransactionEffects.parse(fx);
      const used = parsed.V2?.gasUsed ?? parsed.V1?.gasUsed;
      expect({ c: String(used?.computationCost), s: String(used?.storageCost), r: String(used?.storageRebate) }).toEqual({ c: v.expected.gas.computationCost, s: v.expected.gas.storageCost, r: v.expected.gas.storageRebate });
    }
    expect(ev === undefined).toBe(v.expected.events.length === 0);
    if (ev) {
      expect(typedDigest('TransactionEvents', ev)).toBe(m.effects?.eventsDigest);
      expect(m.events?.digest).toBe(m.effects?.eventsDigest);
    }
  });

  it("is read by the SDK's own gRPC response parser with the same values", () => {
    const programmable = m.transaction?.kind?.data.oneofKind === 'programmableTransaction';
    const parsed = parseGrpcTransactionResponse(m, { include: { balanceChanges: true, events: true } });
    const tx = parsed.$kind === 'Transaction' ? parsed.Transaction : parsed.FailedTransaction;
    expect(parsed.$kind).toBe(v.expected.status === 'success' ? 'Transaction' : 'FailedTransaction');
    expect({ digest: tx.digest, checkpoint: tx.checkpoint, timestampMs: String(tx.timestampMs), epoch: tx.epoch }).toEqual({ digest: v.expected.digest, checkpoint: v.expected.checkpoint, timestampMs: v.expected.timestampMs, epoch: v.expected.epoch });
    expect(tx.balanceChanges?.map((b) => ({ address: normalizeSuiAddress(b.address), coinType: normalizeStructTag(b.coinType), amount: b.amount }))).toEqual(v.expected.balanceChanges.map(({ address, coinType, amount }) => ({ address, coinType, amount })));
    expect(tx.events?.map((e) => ({ packageId: e.packageId, module: e.module, sender: e.sender, type: normalizeStructTag(e.eventType), fields: e.json }))).toEqual(v.expected.events);
    if (programmable) {
      const withTx = parseGrpcTransactionResponse(m, { include: { transaction: true } });
      const t = withTx.$kind === 'Transaction' ? withTx.Transaction : withTx.FailedTransaction;
      expect(normalizeSuiAddress(t.transaction.sender ?? '')).toBe(v.expected.sender);
    }
  });
});

describe.each(vectors.jsonRpcTransactions.map((v) => [v.id, v] as const))('JSON-RPC transaction %s', (_id, v: SuiJsonRpcTransactionVector) => {
  const r = v.response as unknown as RpcTx;
  commonChecks(v, fromJsonRpc(r));

  it('agrees with itself on the digest; events are numbered in order', () => {
    expect(r.effects.transactionDigest).toBe(r.digest);
    for (const d of r.effects.dependencies ?? []) expect(isDigest(d)).toBe(true);
    r.events.forEach((e, i) => {
      expect(e.id.txDigest).toBe(r.digest);
      expect(e.id.eventSeq).toBe(String(i));
      if (e.bcs !== undefined) expect(fromBase58(e.bcs).length).toBeGreaterThan(0);
    });
  });

  if (v.features.includes('raw-transaction')) {
    it('has a rawTransaction whose TransactionData hashes to the digest and is signed as recorded', () => {
      const signed = bcs.SenderSignedData.parse(fromBase64(r.rawTransaction ?? ''));
      const envelope = signed[0];
      expect(signed).toHaveLength(1);
      if (!envelope) return;
      const data = bcs.TransactionData.serialize(envelope.intentMessage.value).toBytes();
      expect(TransactionDataBuilder.getDigestFromBytes(data)).toBe(r.digest);
      expect(normalizeSuiAddress(envelope.intentMessage.value.V1?.sender ?? '')).toBe(v.expected.sender);
      expect(envelope.txSignatures).toEqual(r.transaction.txSignatures);
    });
  }

  if (v.expected.status === 'failure') {
    it('records the failure with its error, and only gas moved', () => {
      expect(v.expected.error).toBeTruthy();
      expect(v.expected.balanceChanges.every((b) => b.coinType === SUI && b.address === v.expected.sender)).toBe(true);
    });
  }
});

describe('the converted gRPC vector', () => {
  const converted = vectors.grpcTransactions.filter((v) => v.converted);

  it('exists', () => expect(converted.length).toBeGreaterThan(0));

  describe.each(converted.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const original = vectors.byId(v.converted?.from ?? '') as SuiJsonRpcTransactionVector;
    const r = original.response as unknown as RpcTx;

    it('expects what its original expects', () => {
      expect(v.expected).toEqual(original.expected);
    });

    it("carries the original's TransactionData, signatures and event contents byte for byte", () => {
      const envelope = bcs.SenderSignedData.parse(fromBase64(r.rawTransaction ?? ''))[0];
      if (!envelope) throw new Error('no envelope');
      expect(v.message.transaction?.bcs?.value).toEqual(bcs.TransactionData.serialize(envelope.intentMessage.value).toBytes());
      expect(v.message.signatures.map((s) => Buffer.from(s.bcs?.value ?? new Uint8Array()).toString('base64'))).toEqual(r.transaction.txSignatures);
      expect(v.message.events?.events.map((e) => e.contents?.value)).toEqual(r.events.map((e) => fromBase58(e.bcs ?? '')));
    });
  });
});

// ---- checkpoints --------------------------------------------------------------------------------

describe.each(vectors.checkpoints.map((v) => [v.id, v] as const))('JSON-RPC checkpoint %s', (_id, v: SuiJsonRpcCheckpointVector) => {
  const c = v.checkpoint as unknown as Record<string, JsonValue>;

  it('states what the recorded data says', () => {
    expect(checkpointFacts(c, v.edited)).toEqual(v.expected);
  });

  it('has base58 32-byte digests and distinct transactions', () => {
    expect(isDigest(v.expected.digest)).toBe(true);
    expect(isDigest(v.expected.previousDigest)).toBe(true);
    for (const d of v.expected.transactions) expect(isDigest(d)).toBe(true);
    expect(new Set(v.expected.transactions).size).toBe(v.expected.transactions.length);
    expect(BigInt(v.expected.networkTotalTransactions)).toBeGreaterThanOrEqual(BigInt(v.expected.transactions.length));
  });

  it('is found at its pointer', () => {
    expect(jsonPointer(v.raw, v.pointer)).toBe(v.checkpoint);
  });
});
