/**
 * SubscriptionService.SubscribeCheckpoints: from the current checkpoint on, every checkpoint
 * as it is made, with a `cursor` on each frame (a frame without a checkpoint when a filter
 * leaves it out). Like Sui's, it cannot resume: a client that falls more than
 * `bufferCheckpoints` behind the tip is cut off and must fill the gap with ListCheckpoints.
 */
import { once } from 'node:events';
import { GrpcTypes } from '@mysten/sui/grpc';
import { GrpcStatusCode, RpcFailure } from './errors.js';
import { checkTransactionFilter, matchesTransaction } from './filters.js';
import { serverStream, type Handler } from './grpc-web.js';
import { CHECKPOINT_DEFAULT_MASK } from './ledger-service.js';
import type { SuiLedger } from './ledger.js';
import { parseMask } from './mask.js';
import { renderCheckpoint } from './records.js';

export function subscriptionService(ledger: SuiLedger, bufferCheckpoints: number): Handler[] {
  return [
    serverStream<GrpcTypes.SubscribeCheckpointsRequest, GrpcTypes.SubscribeCheckpointsResponse>(GrpcTypes.SubscriptionService, 'SubscribeCheckpoints', async (req, sink) => {
      checkTransactionFilter(req.filter);
      const mask = parseMask(req.readMask?.paths, CHECKPOINT_DEFAULT_MASK);
      let next = ledger.height;
      for (;;) {
        while (next <= ledger.height) {
          if (ledger.height - next > bufferCheckpoints) {
            throw new RpcFailure(GrpcStatusCode.RESOURCE_EXHAUSTED, `subscriber fell more than ${bufferCheckpoints} checkpoints behind (at ${next}, tip ${ledger.height}); resubscribe and fill the gap`);
          }
          const checkpoint = ledger.checkpoint(next)!;
          const matches = !req.filter || checkpoint.transactions.some((tx) => matchesTransaction(req.filter, tx));
          await sink.send({ cursor: BigInt(next), checkpoint: matches ? renderCheckpoint(checkpoint, mask) : undefined });
          next++;
        }
        try {
          await once(ledger, 'checkpoint', { signal: sink.signal });
        } catch {
          return; // the client went away, or a fault dropped the stream
        }
      }
    }),
  ];
}
