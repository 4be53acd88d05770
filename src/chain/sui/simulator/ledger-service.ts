/**
 * LedgerService: service info, checkpoints (one, or a range as a stream), transactions,
 * events, objects and epochs, each under its read mask with the defaults the .proto gives.
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { GrpcStatusCode, RpcFailure, invalid, notFound } from './errors.js';
import type { FaultInjector } from './faults.js';
import { checkEventFilter, checkTransactionFilter, matchesEvent, matchesTransaction } from './filters.js';
import { serverStream, unary, type Handler } from './grpc-web.js';
import type { SuiLedger } from './ledger.js';
import { parseMask, prune, sub, type MaskTree } from './mask.js';
import { runQuery, type QueryLimits } from './query.js';
import { renderCheckpoint, renderEvent, renderTransaction } from './records.js';
import { OBJECT_DEFAULT_MASK, renderObject } from './state-service.js';
import { timestampOf } from './util.js';

const { LedgerService } = GrpcTypes;

export const CHECKPOINT_DEFAULT_MASK = ['sequence_number', 'digest'];
const TRANSACTION_DEFAULT_MASK = ['digest'];

function transactionOrNotFound(ledger: SuiLedger, digest: string | undefined, mask: MaskTree): GrpcTypes.ExecutedTransaction {
  if (!digest) throw invalid('digest is required');
  const placed = ledger.transaction(digest);
  if (!placed) throw notFound(`Transaction ${digest} not found`);
  return renderTransaction(placed, mask);
}

function objectOrNotFound(ledger: SuiLedger, request: GrpcTypes.GetObjectRequest, mask: MaskTree): GrpcTypes.Object {
  if (!request.objectId) throw invalid('object_id is required');
  const coin = ledger.objects.get(normalizeSuiAddress(request.objectId));
  // Only the live version of an object is kept.
  if (!coin || (request.version !== undefined && request.version !== coin.version)) throw notFound(`Object ${request.objectId}${request.version === undefined ? '' : ` at version ${request.version}`} not found`);
  return renderObject(coin, mask);
}

/** google.rpc.Status, as the SDK's types reach it (it is not exported by name). */
type Status = Extract<GrpcTypes.GetTransactionResult['result'], { oneofKind: 'error' }>['error'];

function status(error: unknown): Status {
  if (error instanceof RpcFailure) return { code: error.code, message: error.message, details: [] };
  throw error;
}

export function ledgerService(ledger: SuiLedger, faults: FaultInjector, limits: QueryLimits): Handler[] {
  return [
    unary<GrpcTypes.GetServiceInfoRequest, GrpcTypes.GetServiceInfoResponse>(LedgerService, 'GetServiceInfo', () => {
      // A lagging node reports an older tip, never one below genesis.
      const height = Math.max(0, ledger.height - faults.lag);
      return {
        chainId: ledger.chainId,
        chain: ledger.chainName,
        epoch: BigInt(ledger.checkpoint(height)!.epoch),
        checkpointHeight: BigInt(height),
        timestamp: timestampOf(ledger.timestampMs(height)),
        lowestAvailableCheckpoint: 0n,
        lowestAvailableCheckpointObjects: 0n,
        server: 'ledgersync-sui-simulator',
      };
    }),
    unary<GrpcTypes.GetCheckpointRequest, GrpcTypes.GetCheckpointResponse>(LedgerService, 'GetCheckpoint', (req) => {
      const id = req.checkpointId;
      const seq = id.oneofKind === 'sequenceNumber' ? Number(id.sequenceNumber) : id.oneofKind === 'digest' ? ledger.findCheckpoint(id.digest) : ledger.height;
      const checkpoint = seq === undefined ? undefined : ledger.checkpoint(seq);
      if (!checkpoint) throw notFound(`Checkpoint ${id.oneofKind === 'digest' ? id.digest : String(seq)} not found`);
      return { checkpoint: renderCheckpoint(checkpoint, parseMask(req.readMask?.paths, CHECKPOINT_DEFAULT_MASK)) };
    }),
    serverStream<GrpcTypes.ListCheckpointsRequest, GrpcTypes.ListCheckpointsResponse>(LedgerService, 'ListCheckpoints', async (req, sink) => {
      checkTransactionFilter(req.filter);
      const mask = parseMask(req.readMask?.paths, CHECKPOINT_DEFAULT_MASK);
      await runQuery(
        req,
        ledger.height,
        limits,
        (seq) => {
          const checkpoint = ledger.checkpoint(seq)!;
          return req.filter && !checkpoint.transactions.some((tx) => matchesTransaction(req.filter, tx)) ? [] : [{ position: [seq, 0, 0], item: checkpoint }];
        },
        (frame) => sink.send({ checkpoint: frame.item && renderCheckpoint(frame.item, mask), watermark: frame.watermark, end: frame.end }),
      );
    }),
    unary<GrpcTypes.GetTransactionRequest, GrpcTypes.GetTransactionResponse>(LedgerService, 'GetTransaction', (req) => ({
      transaction: transactionOrNotFound(ledger, req.digest, parseMask(req.readMask?.paths, TRANSACTION_DEFAULT_MASK)),
    })),
    unary<GrpcTypes.BatchGetTransactionsRequest, GrpcTypes.BatchGetTransactionsResponse>(LedgerService, 'BatchGetTransactions', (req) => {
      const mask = parseMask(req.readMask?.paths, TRANSACTION_DEFAULT_MASK);
      return {
        transactions: req.digests.map((digest): GrpcTypes.GetTransactionResult => {
          try {
            return { result: { oneofKind: 'transaction', transaction: transactionOrNotFound(ledger, digest, mask) } };
          } catch (error) {
            return { result: { oneofKind: 'error', error: status(error) } };
          }
        }),
      };
    }),
    serverStream<GrpcTypes.ListTransactionsRequest, GrpcTypes.ListTransactionsResponse>(LedgerService, 'ListTransactions', async (req, sink) => {
      checkTransactionFilter(req.filter);
      const mask = parseMask(req.readMask?.paths, TRANSACTION_DEFAULT_MASK);
      await runQuery(
        req,
        ledger.height,
        limits,
        (seq) => {
          const checkpoint = ledger.checkpoint(seq)!;
          return checkpoint.transactions.flatMap((tx, index) => (matchesTransaction(req.filter, tx) ? [{ position: [seq, index, 0] as [number, number, number], item: { tx, index, checkpoint } }] : []));
        },
        (frame) =>
          sink.send({
            transaction: frame.item && renderTransaction({ tx: frame.item.tx, checkpoint: frame.item.checkpoint.sequenceNumber, index: frame.item.index, timestampMs: frame.item.checkpoint.timestampMs }, mask),
            watermark: frame.watermark,
            end: frame.end,
          }),
      );
    }),
    serverStream<GrpcTypes.ListEventsRequest, GrpcTypes.ListEventsResponse>(LedgerService, 'ListEvents', async (req, sink) => {
      checkEventFilter(req.filter);
      const mask = parseMask(req.readMask?.paths, ['package_id', 'module', 'sender', 'event_type', 'checkpoint', 'transaction_digest', 'event_index']);
      await runQuery(
        req,
        ledger.height,
        limits,
        (seq) =>
          ledger.checkpoint(seq)!.transactions.flatMap((tx, index) =>
            tx.events.flatMap((event, eventIndex) =>
              matchesEvent(req.filter, event) ? [{ position: [seq, index, eventIndex] as [number, number, number], item: renderEvent(event, { checkpoint: seq, digest: tx.digest, index, eventIndex }) }] : [],
            ),
          ),
        (frame) => sink.send({ event: frame.item && prune(GrpcTypes.Event, frame.item, mask), watermark: frame.watermark, end: frame.end }),
      );
    }),
    unary<GrpcTypes.GetObjectRequest, GrpcTypes.GetObjectResponse>(LedgerService, 'GetObject', (req) => ({
      object: objectOrNotFound(ledger, req, parseMask(req.readMask?.paths, OBJECT_DEFAULT_MASK)),
    })),
    unary<GrpcTypes.BatchGetObjectsRequest, GrpcTypes.BatchGetObjectsResponse>(LedgerService, 'BatchGetObjects', (req) => {
      const mask = parseMask(req.readMask?.paths, OBJECT_DEFAULT_MASK);
      return {
        objects: req.requests.map((one): GrpcTypes.GetObjectResult => {
          try {
            return { result: { oneofKind: 'object', object: objectOrNotFound(ledger, one, mask) } };
          } catch (error) {
            return { result: { oneofKind: 'error', error: status(error) } };
          }
        }),
      };
    }),
    unary<GrpcTypes.GetEpochRequest, GrpcTypes.GetEpochResponse>(LedgerService, 'GetEpoch', (req) => {
      const epoch = req.epoch === undefined ? ledger.epoch : Number(req.epoch);
      const range = ledger.epochInfo(epoch);
      if (!range) throw notFound(`Epoch ${epoch} not found`);
      const mask = parseMask(req.readMask?.paths, ['epoch']);
      if (sub(mask, 'system_state') !== undefined || sub(mask, 'committee') !== undefined || sub(mask, 'protocol_config') !== undefined) {
        throw new RpcFailure(GrpcStatusCode.UNIMPLEMENTED, 'system state, committee and protocol config are not simulated');
      }
      return {
        epoch: prune(
          GrpcTypes.Epoch,
          {
            epoch: BigInt(epoch),
            firstCheckpoint: BigInt(range.first),
            lastCheckpoint: range.last === undefined ? undefined : BigInt(range.last),
            start: timestampOf(ledger.timestampMs(range.first)),
            end: range.last === undefined ? undefined : timestampOf(ledger.timestampMs(range.last)),
            referenceGasPrice: ledger.referenceGasPrice,
          },
          mask,
        ),
      };
    }),
  ];
}
