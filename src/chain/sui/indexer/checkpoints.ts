import type { GrpcTypes, SuiGrpcClient } from '@mysten/sui/grpc';
import { NodeBehindError } from '../../../core/chain.js';
import { CHECKPOINT_MASK } from './decode.js';

/**
 * Checkpoints [from, to] in order, streamed with ListCheckpoints. A stream may
 * end early (the server's item limit, a dropped connection): the next one
 * starts after the last checkpoint received, so nothing is skipped or repeated.
 * A stream that ends without progress is an error for the caller to retry.
 */
export async function* listCheckpoints(client: SuiGrpcClient, from: bigint, to: bigint, shouldStop: () => boolean): AsyncGenerator<GrpcTypes.Checkpoint> {
  let next = from;
  while (next <= to && !shouldStop()) {
    const call = client.ledgerService.listCheckpoints({ startCheckpoint: next, endCheckpoint: to + 1n, readMask: { paths: CHECKPOINT_MASK } });
    const before = next;
    try {
      for await (const frame of call.responses) {
        const checkpoint = frame.checkpoint;
        if (!checkpoint) continue;
        if (checkpoint.sequenceNumber !== next) throw new Error(`ListCheckpoints sent checkpoint ${checkpoint.sequenceNumber} where ${next} was due`);
        next += 1n;
        yield checkpoint;
        if (shouldStop()) return;
      }
    } catch (error) {
      // Progress made: resume after it; none: let the indexer's retry decide.
      if (next === before) throw error;
      continue;
    }
    if (next === before) throw new NodeBehindError(`the node has no checkpoint ${next} yet; waiting for it to catch up`);
  }
}

/** One checkpoint with what the indexer needs of it; NodeBehindError when the node has not reached it. */
export async function getCheckpoint(client: SuiGrpcClient, sequence: bigint, paths = CHECKPOINT_MASK): Promise<GrpcTypes.Checkpoint> {
  try {
    const { response } = await client.ledgerService.getCheckpoint({ checkpointId: { oneofKind: 'sequenceNumber', sequenceNumber: sequence }, readMask: { paths } });
    if (!response.checkpoint) throw new NodeBehindError(`the node returned no checkpoint ${sequence}`);
    return response.checkpoint;
  } catch (error) {
    if ((error as { code?: string }).code === 'NOT_FOUND') throw new NodeBehindError(`the node has no checkpoint ${sequence} yet; waiting for it to catch up`);
    throw error;
  }
}

/** The latest checkpoint the node has executed. */
export async function latestCheckpoint(client: SuiGrpcClient): Promise<bigint> {
  const { response } = await client.ledgerService.getServiceInfo({});
  if (response.checkpointHeight === undefined) throw new Error('the node did not report its checkpoint height');
  return response.checkpointHeight;
}
