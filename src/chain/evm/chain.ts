import { statSync } from 'node:fs';
import { encodeFunctionData, type Address } from 'viem';
import type pg from 'pg';
import type { ConnectedChain } from '../../core/chain.js';
import { IntentRejectedError, type IntentCodec } from '../../core/relayer/outbox.js';
import type { TransactionLifecycle } from '../../core/relayer/lifecycle.js';
import type { IntentKind } from '../../core/relayer/types.js';
import type { EvmChainConfig } from '../../config/chains.js';
import type { Logger } from '../../runtime/logger.js';
import { connectChain, type ChainConnection } from './client.js';
import { findDeployment } from './deployments.js';
import { watchHeads } from './heads.js';
import { toJson } from './indexer/decode.js';
import { openEvmReader } from './indexer/reader.js';
import type { EvmIntentSpec } from './relayer/context.js';
import { evmLifecycle } from './relayer/lifecycle.js';
import { acceptSignedEvm } from './relayer/signed.js';
import type { RelayerSigner } from './relayer/signer.js';

export class ChainMismatchError extends Error {
  override name = 'ChainMismatchError';
}

/** An EVM chain of the deployment: the seam's ConnectedChain, plus what only EVM code and apps' readers use. */
export interface EvmChain extends ConnectedChain {
  family: 'evm';
  config: EvmChainConfig & { key: string };
  conn: ChainConnection;
  /** How the outbox encodes and addresses this chain's intents. */
  codec: IntentCodec;
  /** The transaction lifecycle of one of its signers. */
  lifecycle(account: RelayerSigner, kinds: IntentKind[], pool: pg.Pool, logger: Logger): TransactionLifecycle;
}

/**
 * Connects to an EVM chain of the configuration (its own endpoint, or the
 * embedded anvil's) and checks that the node serves the chain its key names: an
 * RPC URL pointed at the wrong network is refused at start, not discovered later.
 */
export async function connectEvmChain(config: EvmChainConfig & { key: string }, endpoint: { rpcUrl: string; wsUrl?: string | undefined }, deploymentsFile: string): Promise<EvmChain> {
  const conn = await connectChain(endpoint.rpcUrl, endpoint.wsUrl, { rpcTimeoutMs: config.rpcTimeoutMs });
  if (config.key !== `evm:${conn.chainId}`) throw new ChainMismatchError(`the node configured for ${config.key} serves chain evm:${conn.chainId}`);
  let deploymentsSeen = modifiedAt(deploymentsFile);

  const codec: IntentCodec = {
    encode(kind, functionName, args) {
      const { abi } = kind.spec as EvmIntentSpec;
      try {
        return { payload: encodeFunctionData({ abi, functionName, args }), args: toJson([...args]) };
      } catch (error) {
        throw new IntentRejectedError(`cannot encode ${kind.name} ${functionName}: ${(error as Error).message.split('\n')[0]}`);
      }
    },
    defaultTarget(kind) {
      const { contract } = kind.spec as EvmIntentSpec;
      const deployment = contract ? findDeployment(deploymentsFile, config.key, contract) : undefined;
      return deployment && contract ? { target: deployment.address.toLowerCase(), contract } : undefined;
    },
    normalizeAddress: (value) => (/^0x[0-9a-fA-F]{40}$/.test(value) ? value.toLowerCase() : undefined),
    acceptSigned: (kind, signed, target) => acceptSignedEvm(conn.chainId, kind, signed, target),
  };

  return {
    key: config.key,
    family: 'evm',
    config,
    conn,
    codec,
    finalityDepth: BigInt(config.finalityDepth),
    head: () => conn.publicClient.getBlockNumber({ cacheTime: 0 }),
    normalizeAddress: (address) => address.toLowerCase(),
    openReader(sources, children, addressSets) {
      deploymentsSeen = modifiedAt(deploymentsFile);
      return openEvmReader(
        { chain: config.key, client: conn.publicClient, batchClient: conn.batchClient, deploymentsFile, concurrency: config.concurrency, maxBlockRange: BigInt(config.maxBlockRange) },
        sources,
        children,
        addressSets,
      );
    },
    watchHeads: (pollIntervalMs) => watchHeads(conn, pollIntervalMs),
    sourcesMayHaveChanged: () => modifiedAt(deploymentsFile) !== deploymentsSeen,
    lifecycle: (account, kinds, pool, logger) =>
      evmLifecycle({
        chain: config.key,
        conn,
        pool,
        account,
        signer: account.address.toLowerCase() as Address,
        kinds: new Map(kinds.filter((k) => k.chain === config.key).map((k) => [k.name, k])),
        fees: config.gas,
        logger,
      }),
    close: async () => {},
  };
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
