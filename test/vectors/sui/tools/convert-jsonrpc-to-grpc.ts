/**
 * Converts the recorded mainnet JSON-RPC transaction `5ijf2PcruahTMdETHbkUGEDM3SNqmS4tCKC6XLGZPzCe`
 * (jsonrpc/sentio.leadingzero.tx-5ijf2Pcr.json, a `sui_getTransactionBlock` response) into the
 * gRPC message the SDK's `SuiGrpcClient` returns (`sui.rpc.v2.ExecutedTransaction`), built with the
 * SDK's own generated protobuf-ts types (`GrpcTypes.ExecutedTransaction.create`) and written as
 * canonical proto3 JSON (`ExecutedTransaction.toJson`), so a test reads it back with `fromJson`.
 *
 *   npx tsx test/vectors/sui/tools/convert-jsonrpc-to-grpc.ts          # check the committed file
 *   npx tsx test/vectors/sui/tools/convert-jsonrpc-to-grpc.ts --write  # (re)write it
 *
 * Only facts present in the JSON-RPC response go in; what the response does not carry is left
 * unset rather than guessed (README.md lists them). Two self-checks run before anything is written:
 * the TransactionData BCS taken from `rawTransaction` must hash to the recorded digest, and the
 * TransactionEvents BCS rebuilt from the recorded events must hash to the recorded `eventsDigest`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { blake2b } from '@noble/hashes/blake2.js';
import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes } from '@mysten/sui/grpc';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { fromBase58, fromBase64, normalizeStructTag, normalizeSuiAddress, toBase58 } from '@mysten/sui/utils';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, '..', 'jsonrpc', 'sentio.leadingzero.tx-5ijf2Pcr.json');
const TARGET = join(here, '..', 'grpc', 'converted.sentio-leadingzero.tx-5ijf2Pcr.executed-transaction.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface ObjectRef { objectId: string; version: number | string; digest: string }
interface RpcOwner { AddressOwner?: string; ObjectOwner?: string; Shared?: { initial_shared_version: number | string } }
interface RpcTx {
  digest: string;
  rawTransaction: string;
  transaction: { txSignatures: string[] };
  effects: {
    status: { status: string; error?: string };
    executedEpoch: string;
    gasUsed: { computationCost: string; storageCost: string; storageRebate: string; nonRefundableStorageFee: string };
    modifiedAtVersions: { objectId: string; sequenceNumber: string }[];
    sharedObjects?: ObjectRef[];
    transactionDigest: string;
    mutated?: { owner: RpcOwner; reference: ObjectRef }[];
    gasObject: { owner: RpcOwner; reference: ObjectRef };
    eventsDigest?: string;
    dependencies: string[];
  };
  events: { packageId: string; transactionModule: string; sender: string; type: string; parsedJson: Json; bcs: string }[];
  balanceChanges: { owner: RpcOwner; coinType: string; amount: string }[];
  timestampMs: string;
  checkpoint: string;
}

const { Input_InputKind, Input_Mutability, Argument_ArgumentKind, TransactionKind_Kind, TransactionExpiration_TransactionExpirationKind } = GrpcTypes;
const { ChangedObject_InputObjectState, ChangedObject_OutputObjectState, ChangedObject_IdOperation, Owner_OwnerKind } = GrpcTypes;
const { UnchangedConsensusObject_UnchangedConsensusObjectKind, SignatureScheme } = GrpcTypes;

const hashTyped = (tag: string, bytes: Uint8Array) => toBase58(blake2b(new Uint8Array([...new TextEncoder().encode(`${tag}::`), ...bytes]), { dkLen: 32 }));

function owner(o: RpcOwner): GrpcTypes.Owner {
  if (o.AddressOwner) return { kind: Owner_OwnerKind.ADDRESS, address: normalizeSuiAddress(o.AddressOwner) };
  if (o.ObjectOwner) return { kind: Owner_OwnerKind.OBJECT, address: normalizeSuiAddress(o.ObjectOwner) };
  if (o.Shared) return { kind: Owner_OwnerKind.SHARED, version: BigInt(o.Shared.initial_shared_version) };
  throw new Error(`owner kind not handled: ${JSON.stringify(o)}`);
}

export function convert(rpc: RpcTx): GrpcTypes.ExecutedTransaction {
  // The transaction: the BCS is the recorded one; the structured view is decoded from it.
  const signed = bcs.SenderSignedData.parse(fromBase64(rpc.rawTransaction));
  const envelope = signed[0];
  if (!envelope || signed.length !== 1) throw new Error('expected one SenderSignedData envelope');
  const txData = envelope.intentMessage.value;
  const txBytes = bcs.TransactionData.serialize(txData).toBytes();
  if (TransactionDataBuilder.getDigestFromBytes(txBytes) !== rpc.digest) throw new Error('TransactionData does not hash to the recorded digest');
  const v1 = txData.V1;
  const ptb = v1.kind.ProgrammableTransaction;
  if (!ptb) throw new Error('only a programmable transaction is converted');

  const inputs: GrpcTypes.Input[] = ptb.inputs.map((input) => {
    if (input.Pure) return { kind: Input_InputKind.PURE, pure: fromBase64(input.Pure.bytes) };
    const obj = input.Object;
    if (obj?.ImmOrOwnedObject) return { kind: Input_InputKind.IMMUTABLE_OR_OWNED, objectId: obj.ImmOrOwnedObject.objectId, version: BigInt(obj.ImmOrOwnedObject.version), digest: obj.ImmOrOwnedObject.digest };
    if (obj?.SharedObject) {
      const s = obj.SharedObject;
      return { kind: Input_InputKind.SHARED, objectId: s.objectId, version: BigInt(s.initialSharedVersion), mutable: s.mutable, mutability: s.mutable ? Input_Mutability.MUTABLE : Input_Mutability.IMMUTABLE };
    }
    throw new Error(`input kind not handled: ${JSON.stringify(input)}`);
  });
  const argument = (a: { Input?: number | null; GasCoin?: unknown; Result?: number | null; NestedResult?: [number, number] | null }): GrpcTypes.Argument => {
    if (a.Input !== undefined && a.Input !== null) return { kind: Argument_ArgumentKind.INPUT, input: a.Input };
    if (a.Result !== undefined && a.Result !== null) return { kind: Argument_ArgumentKind.RESULT, result: a.Result };
    if (a.NestedResult) return { kind: Argument_ArgumentKind.RESULT, result: a.NestedResult[0], subresult: a.NestedResult[1] };
    return { kind: Argument_ArgumentKind.GAS };
  };
  const commands: GrpcTypes.Command[] = ptb.commands.map((c) => {
    if (!c.MoveCall) throw new Error(`command not handled: ${Object.keys(c).join()}`);
    return {
      command: {
        oneofKind: 'moveCall',
        moveCall: {
          package: normalizeSuiAddress(c.MoveCall.package),
          module: c.MoveCall.module,
          function: c.MoveCall.function,
          typeArguments: c.MoveCall.typeArguments.map((t) => normalizeStructTag(t)),
          arguments: c.MoveCall.arguments.map((a) => argument(a)),
        },
      },
    };
  });
  const transaction: GrpcTypes.Transaction = {
    bcs: { name: 'TransactionData', value: txBytes },
    digest: rpc.digest,
    version: 1,
    kind: { kind: TransactionKind_Kind.PROGRAMMABLE_TRANSACTION, data: { oneofKind: 'programmableTransaction', programmableTransaction: { inputs, commands } } },
    sender: v1.sender,
    gasPayment: {
      objects: v1.gasData.payment?.map((p) => ({ objectId: p.objectId, version: BigInt(p.version), digest: p.digest })) ?? [],
      owner: v1.gasData.owner,
      price: BigInt(v1.gasData.price ?? 0),
      budget: BigInt(v1.gasData.budget ?? 0),
    },
    expiration: { kind: v1.expiration.None ? TransactionExpiration_TransactionExpirationKind.NONE : TransactionExpiration_TransactionExpirationKind.EPOCH, ...(v1.expiration.Epoch !== undefined && v1.expiration.Epoch !== null ? { epoch: BigInt(v1.expiration.Epoch) } : {}) },
  };

  // Signatures: flag || signature || public key, as recorded in txSignatures.
  const signatures: GrpcTypes.UserSignature[] = rpc.transaction.txSignatures.map((s) => {
    const bytes = fromBase64(s);
    if (bytes[0] !== 0 || bytes.length !== 97) throw new Error('only an Ed25519 signature is converted');
    return {
      bcs: { name: 'UserSignatureBytes', value: bytes },
      scheme: SignatureScheme.ED25519,
      signature: { oneofKind: 'simple', simple: { scheme: SignatureScheme.ED25519, signature: bytes.slice(1, 65), publicKey: bytes.slice(65) } },
    };
  });

  // Effects: what the JSON-RPC effects (v1) state. Input digests come from the transaction's own
  // object references and from `sharedObjects`; input owners, object types and the effects' own
  // digest and BCS are not in the response and stay unset.
  const fx = rpc.effects;
  const known = new Map<string, { version: bigint; digest: string }>();
  for (const r of fx.sharedObjects ?? []) known.set(normalizeSuiAddress(r.objectId), { version: BigInt(r.version), digest: r.digest });
  for (const i of inputs) if (i.kind === Input_InputKind.IMMUTABLE_OR_OWNED && i.objectId && i.version !== undefined && i.digest) known.set(i.objectId, { version: i.version, digest: i.digest });
  for (const p of transaction.gasPayment?.objects ?? []) if (p.objectId && p.version !== undefined && p.digest) known.set(p.objectId, { version: p.version, digest: p.digest });
  const sharedInputs = new Map(inputs.filter((i) => i.kind === Input_InputKind.SHARED).map((i) => [i.objectId, i]));
  const modified = new Map(fx.modifiedAtVersions.map((m) => [normalizeSuiAddress(m.objectId), BigInt(m.sequenceNumber)]));
  if ((fx as { created?: unknown[] }).created || (fx as { deleted?: unknown[] }).deleted || (fx as { wrapped?: unknown[] }).wrapped || (fx as { unwrapped?: unknown[] }).unwrapped) {
    throw new Error('created/deleted/wrapped/unwrapped objects are not converted');
  }
  const lamport = new Set((fx.mutated ?? []).map((m) => String(m.reference.version)));
  if (lamport.size !== 1) throw new Error('mutated objects disagree on the lamport version');
  const lamportVersion = BigInt([...lamport][0] ?? 0);
  const changed = (m: { owner: RpcOwner; reference: ObjectRef }): GrpcTypes.ChangedObject => {
    const id = normalizeSuiAddress(m.reference.objectId);
    const inputVersion = modified.get(id);
    if (inputVersion === undefined) throw new Error(`no input version for ${id}`);
    const k = known.get(id);
    const shared = sharedInputs.get(id);
    const gasOwner = transaction.gasPayment?.objects.some((p) => p.objectId === id) ? transaction.gasPayment.owner : undefined;
    return {
      objectId: id,
      inputState: ChangedObject_InputObjectState.EXISTS,
      inputVersion,
      ...(k && k.version === inputVersion ? { inputDigest: k.digest } : {}),
      ...(shared ? { inputOwner: { kind: Owner_OwnerKind.SHARED, version: shared.version } } : gasOwner ? { inputOwner: { kind: Owner_OwnerKind.ADDRESS, address: gasOwner } } : {}),
      outputState: ChangedObject_OutputObjectState.OBJECT_WRITE,
      outputVersion: BigInt(m.reference.version),
      outputDigest: m.reference.digest,
      outputOwner: owner(m.owner),
      idOperation: ChangedObject_IdOperation.NONE,
    };
  };
  const changedObjects = (fx.mutated ?? []).map(changed).sort((a, b) => ((a.objectId ?? '') < (b.objectId ?? '') ? -1 : 1));
  const mutatedIds = new Set(changedObjects.map((c) => c.objectId));
  const unchangedConsensusObjects: GrpcTypes.UnchangedConsensusObject[] = (fx.sharedObjects ?? [])
    .filter((r) => !mutatedIds.has(normalizeSuiAddress(r.objectId)))
    .map((r) => ({ kind: UnchangedConsensusObject_UnchangedConsensusObjectKind.READ_ONLY_ROOT, objectId: normalizeSuiAddress(r.objectId), version: BigInt(r.version), digest: r.digest }));
  const effects: GrpcTypes.TransactionEffects = {
    version: 1,
    status: fx.status.status === 'success' ? { success: true } : { success: false },
    epoch: BigInt(fx.executedEpoch),
    gasUsed: {
      computationCost: BigInt(fx.gasUsed.computationCost),
      storageCost: BigInt(fx.gasUsed.storageCost),
      storageRebate: BigInt(fx.gasUsed.storageRebate),
      nonRefundableStorageFee: BigInt(fx.gasUsed.nonRefundableStorageFee),
    },
    transactionDigest: fx.transactionDigest,
    gasObject: changed(fx.gasObject),
    ...(fx.eventsDigest ? { eventsDigest: fx.eventsDigest } : {}),
    dependencies: fx.dependencies,
    lamportVersion,
    changedObjects,
    unchangedConsensusObjects,
    unchangedLoadedRuntimeObjects: [],
  };

  // Events: the recorded BCS contents (base58) and parsed JSON; the TransactionEvents BCS is rebuilt
  // from them and must hash to the recorded eventsDigest.
  // Event = { package_id: address, transaction_module: string, sender: address, type: StructTag, contents: vector<u8> };
  // a StructTag's BCS is a struct TypeTag's BCS without its leading variant index.
  const structTagBytes = (type: string) => {
    const tag = bcs.TypeTag.serialize(normalizeStructTag(type)).toBytes();
    if (tag[0] !== 7) throw new Error(`not a struct type: ${type}`);
    return tag.slice(1);
  };
  const eventsBytes = new Uint8Array([
    ...bcs.uleb128().serialize(rpc.events.length).toBytes(),
    ...rpc.events.flatMap((e) => [
      ...bcs.Address.serialize(e.packageId).toBytes(),
      ...bcs.String.serialize(e.transactionModule).toBytes(),
      ...bcs.Address.serialize(e.sender).toBytes(),
      ...structTagBytes(e.type),
      ...bcs.vector(bcs.U8).serialize(fromBase58(e.bcs)).toBytes(),
    ]),
  ]);
  const eventsDigest = hashTyped('TransactionEvents', eventsBytes);
  if (eventsDigest !== fx.eventsDigest) throw new Error(`rebuilt TransactionEvents hash ${eventsDigest}, effects say ${fx.eventsDigest}`);
  const events: GrpcTypes.TransactionEvents = {
    bcs: { name: 'TransactionEvents', value: eventsBytes },
    digest: eventsDigest,
    events: rpc.events.map((e) => ({
      packageId: normalizeSuiAddress(e.packageId),
      module: e.transactionModule,
      sender: normalizeSuiAddress(e.sender),
      eventType: normalizeStructTag(e.type),
      contents: { name: normalizeStructTag(e.type), value: fromBase58(e.bcs) },
      // google.protobuf.Value is not exported on its own; Event.fromJson parses the nested Value.
      json: GrpcTypes.Event.fromJson({ json: e.parsedJson }).json,
    })),
  };

  const ms = BigInt(rpc.timestampMs);
  return GrpcTypes.ExecutedTransaction.create({
    digest: rpc.digest,
    transaction,
    signatures,
    effects,
    events,
    checkpoint: BigInt(rpc.checkpoint),
    timestamp: { seconds: ms / 1000n, nanos: Number(ms % 1000n) * 1_000_000 },
    balanceChanges: rpc.balanceChanges.map((b) => {
      if (!b.owner.AddressOwner) throw new Error('only address-owned balance changes have a gRPC form');
      return { address: normalizeSuiAddress(b.owner.AddressOwner), coinType: normalizeStructTag(b.coinType), amount: b.amount };
    }),
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rpc = (JSON.parse(readFileSync(SOURCE, 'utf8')) as { result: RpcTx }).result;
  const json = GrpcTypes.ExecutedTransaction.toJson(convert(rpc)) as Json;
  const text = `${JSON.stringify(json, null, 2)}\n`;
  if (process.argv.includes('--write')) {
    writeFileSync(TARGET, text);
    console.log(`wrote ${TARGET}`);
  } else {
    const same = isDeepStrictEqual(JSON.parse(readFileSync(TARGET, 'utf8')), json);
    console.log(same ? 'the committed conversion is up to date' : 'the committed conversion differs; run with --write');
    process.exitCode = same ? 0 : 1;
  }
}
