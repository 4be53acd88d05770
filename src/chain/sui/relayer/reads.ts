import { bcs } from '@mysten/sui/bcs';
import { GrpcTypes, RpcError } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import type { ObjectRef, SuiRelayerContext } from './context.js';
import { open } from './envelope.js';

/** Per item of a batch: the answer, null when the node says there is none, 'unknown' when it could not say. */
export type Answer<T> = T | null | 'unknown';

const BATCH = 50;
const NOT_FOUND = 5; // google.rpc.Code.NOT_FOUND

export const TRANSACTION_MASK = ['digest', 'effects', 'checkpoint', 'events'];
const OBJECT_MASK = ['object_id', 'version', 'digest', 'owner', 'object_type', 'balance'];

/** Executed transactions by digest (with effects, events and checkpoint, if in one yet). */
export async function getTransactions(ctx: SuiRelayerContext, digests: string[]): Promise<Map<string, Answer<GrpcTypes.ExecutedTransaction>>> {
  const answers = new Map<string, Answer<GrpcTypes.ExecutedTransaction>>();
  for (let i = 0; i < digests.length; i += BATCH) {
    const chunk = digests.slice(i, i + BATCH);
    try {
      const { response } = await ctx.client.ledgerService.batchGetTransactions({ digests: chunk, readMask: { paths: TRANSACTION_MASK } });
      response.transactions.forEach((result, j) => {
        const r = result.result;
        answers.set(chunk[j]!, r.oneofKind === 'transaction' ? r.transaction : r.oneofKind === 'error' && r.error.code === NOT_FOUND ? null : 'unknown');
      });
    } catch {
      for (const digest of chunk) answers.set(digest, 'unknown');
    }
  }
  return answers;
}

export interface ObjectState extends ObjectRef {
  owner: string | undefined;
  objectType: string;
  balance: bigint | null;
}

/** Objects' live state by id. */
export async function getObjects(ctx: SuiRelayerContext, ids: string[]): Promise<Map<string, Answer<ObjectState>>> {
  const answers = new Map<string, Answer<ObjectState>>();
  for (let i = 0; i < ids.length; i += BATCH) {
    const chunk = ids.slice(i, i + BATCH);
    try {
      const { response } = await ctx.client.ledgerService.batchGetObjects({ requests: chunk.map((objectId) => ({ objectId })), readMask: { paths: OBJECT_MASK } });
      response.objects.forEach((result, j) => {
        const r = result.result;
        answers.set(chunk[j]!, r.oneofKind === 'object' ? objectState(r.object) : r.oneofKind === 'error' && r.error.code === NOT_FOUND ? null : 'unknown');
      });
    } catch {
      for (const id of chunk) answers.set(id, 'unknown');
    }
  }
  return answers;
}

export function objectState(object: GrpcTypes.Object): ObjectState {
  return {
    objectId: normalizeSuiAddress(object.objectId!),
    version: object.version!,
    digest: object.digest!,
    owner: object.owner?.address === undefined ? undefined : normalizeSuiAddress(object.owner.address),
    objectType: object.objectType ?? '',
    balance: object.balance ?? null,
  };
}

/** Checkpoint digests by sequence number (what an inclusion's block hash is); missing when the read failed. */
export async function checkpointDigests(ctx: SuiRelayerContext, sequences: bigint[]): Promise<Map<bigint, string>> {
  const digests = new Map<bigint, string>();
  await Promise.all(
    sequences.map(async (sequenceNumber) => {
      try {
        const { response } = await ctx.client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber }, readMask: { paths: ['sequence_number', 'digest'] } });
        if (response.checkpoint?.digest) digests.set(sequenceNumber, response.checkpoint.digest);
      } catch {
        // Unknown: the inclusion waits for the next pass.
      }
    }),
  );
  return digests;
}

/** The latest checkpoint the node has: the relayer's head. */
export async function latestCheckpoint(ctx: SuiRelayerContext): Promise<bigint> {
  const { response } = await ctx.client.ledgerService.getServiceInfo({});
  return response.checkpointHeight ?? 0n;
}

/** The epoch's reference gas price: what every transaction pays per unit (Sui sets it per epoch; there is no bidding). */
export async function referenceGasPrice(ctx: SuiRelayerContext): Promise<bigint> {
  return BigInt((await ctx.client.getReferenceGasPrice()).referenceGasPrice);
}

/**
 * The owned object versions a signed transaction consumes, from its stored bytes, each with
 * its owner: the gas payment (the gas owner's: a sponsor's, for a sponsored transaction) and
 * the owned inputs (the sender's).
 */
export function ownedInputs(raw: Uint8Array): Array<ObjectRef & { owner: string }> {
  const data = bcs.TransactionData.parse(open(raw).transaction).V1!;
  const inputs = (data.kind.ProgrammableTransaction?.inputs ?? []).flatMap((input) => (input.$kind === 'Object' && input.Object.ImmOrOwnedObject ? [input.Object.ImmOrOwnedObject] : []));
  const ref = (owner: string) => (r: { objectId: string; version: string | number; digest: string }) => ({
    objectId: normalizeSuiAddress(r.objectId),
    version: BigInt(r.version),
    digest: r.digest,
    owner: normalizeSuiAddress(owner),
  });
  return [...data.gasData.payment.map(ref(data.gasData.owner)), ...inputs.map(ref(data.sender))];
}

export function rpcMessage(error: unknown): string {
  return error instanceof RpcError ? `${error.code}: ${error.message.split('\n')[0]}` : error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** The version a transaction was signed on is spent: the object is gone, not its owner's (default: the signer) any more, or at a later version. */
export function spent(ctx: SuiRelayerContext, signedVersion: bigint, now: Answer<{ version: bigint; owner: string | undefined }>, owner: string = ctx.signer): boolean {
  return now === null || (now !== 'unknown' && (now.version > signedVersion || now.owner !== owner));
}
