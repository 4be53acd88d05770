/**
 * Transactions the simulator makes itself: each checkpoint's consensus commit prologue, the
 * end of an epoch (system transactions, sender 0x0, not programmable) and `fund`'s faucet
 * transfers.
 */
import { GrpcTypes } from '@mysten/sui/grpc';
import type { Coin } from './objects.js';
import { NO_GAS, type TxRecord } from './records.js';
import { ZERO_ADDRESS, coinObjectType, timestampOf } from './util.js';

const { TransactionKind_Kind: Kind, Input_InputKind: InputKind, Argument_ArgumentKind: ArgKind } = GrpcTypes;
const NO_EXPIRATION = { kind: GrpcTypes.TransactionExpiration_TransactionExpirationKind.NONE };

/** A system transaction; `digest` is a thunk because spelling digests in base58 is the costly part. */
export function systemTransaction(kind: 'prologue' | 'end-of-epoch', makeDigest: () => string, seq: number, epoch: number, timestampMs: number): TxRecord {
  let digest: string | undefined;
  return {
    get digest() {
      return (digest ??= makeDigest());
    },
    kind,
    sender: ZERO_ADDRESS,
    transaction: () => ({
      version: 1,
      sender: ZERO_ADDRESS,
      gasPayment: { objects: [], owner: ZERO_ADDRESS, price: 1n, budget: 0n },
      expiration: NO_EXPIRATION,
      kind:
        kind === 'prologue'
          ? { kind: Kind.CONSENSUS_COMMIT_PROLOGUE_V3, data: { oneofKind: 'consensusCommitPrologue', consensusCommitPrologue: { epoch: BigInt(epoch), round: BigInt(seq), commitTimestamp: timestampOf(timestampMs) } } }
          : { kind: Kind.END_OF_EPOCH, data: { oneofKind: 'endOfEpoch', endOfEpoch: { transactions: [] } } },
    }),
    signatures: [],
    status: { success: true },
    gas: NO_GAS,
    changedObjects: () => [],
    dependencies: [],
    events: [],
    balanceChanges: [],
    moveCalls: [],
    epoch,
  };
}

/** The faucet's transfer of new coins to `to` (not signed: the simulator mints them). */
export function fundingTransaction(digest: string, faucet: string, to: string, coins: Coin[], price: bigint, epoch: number): TxRecord {
  const amount = coins.reduce((sum, c) => sum + c.balance, 0n);
  const coinType = coins[0]!.coinType;
  const amounts = coins.map((c) => ({ kind: InputKind.PURE, pure: new Uint8Array(new BigUint64Array([c.balance]).buffer) }));
  return {
    digest,
    kind: 'programmable',
    sender: faucet,
    transaction: () => ({
      version: 1,
      sender: faucet,
      gasPayment: { objects: [], owner: faucet, price, budget: 0n },
      expiration: NO_EXPIRATION,
      kind: {
        kind: Kind.PROGRAMMABLE_TRANSACTION,
        data: {
          oneofKind: 'programmableTransaction',
          programmableTransaction: {
            inputs: [...amounts, { kind: InputKind.PURE, pure: Buffer.from(to.slice(2), 'hex') }],
            commands: [
              { command: { oneofKind: 'splitCoins', splitCoins: { coin: { kind: ArgKind.GAS }, amounts: amounts.map((_, i) => ({ kind: ArgKind.INPUT, input: i })) } } },
              { command: { oneofKind: 'transferObjects', transferObjects: { objects: amounts.map((_, i) => ({ kind: ArgKind.RESULT, result: 0, subresult: i })), address: { kind: ArgKind.INPUT, input: amounts.length } } } },
            ],
          },
        },
      },
    }),
    signatures: [],
    status: { success: true },
    gas: NO_GAS,
    changedObjects: () => coins.map((c) => ({ objectId: c.objectId, objectType: coinObjectType(c.coinType), output: { version: c.version, digest: c.digest, owner: c.owner }, operation: 'created' as const })),
    dependencies: [],
    lamport: 1n,
    events: [],
    balanceChanges: [
      { address: faucet, coinType, amount: -amount },
      { address: to, coinType, amount },
    ],
    moveCalls: [],
    epoch,
  };
}
