import type { ConnectedChain } from '../../core/chain.js';
import type { SuiChainConfig } from '../../config/chains.js';
import type { Logger } from '../../runtime/logger.js';
import { normalizeSuiAddress } from '@mysten/sui/utils';
import { connectSui, type SuiConnection } from './client.js';
import { followCheckpoints, type RecentCheckpoints } from './heads.js';
import { latestCheckpoint } from './indexer/checkpoints.js';
import { openSuiReader } from './indexer/reader.js';

export class SuiNetworkMismatchError extends Error {
  override name = 'SuiNetworkMismatchError';
}

/** A Sui chain of the deployment: the seam's ConnectedChain, plus what only Sui code and apps' readers use. */
export interface SuiChain extends ConnectedChain {
  family: 'sui';
  config: SuiChainConfig;
  conn: SuiConnection;
}

const nothingRecent: RecentCheckpoints = { get: () => undefined };

/**
 * Connects to a Sui full node's gRPC API and checks that it serves the network
 * the chain's key names (`sui:mainnet` is served by a node whose GetServiceInfo
 * says `mainnet`): a URL pointed at the wrong network is refused at start.
 * Checkpoints are final once the node has them, so the finality depth is 0 and
 * the indexer never journals (docs/architecture.md, "A chain without reorgs").
 */
export async function connectSuiChain(config: SuiChainConfig, url: string, logger: Logger): Promise<SuiChain> {
  const conn = connectSui(url, config.key);
  const { response } = await conn.client.ledgerService.getServiceInfo({});
  if (config.key !== `sui:${response.chain}`) throw new SuiNetworkMismatchError(`the node configured for ${config.key} serves sui:${response.chain}`);
  let recent = nothingRecent;
  return {
    key: config.key,
    family: 'sui',
    config,
    conn,
    finalityDepth: 0n,
    head: () => latestCheckpoint(conn.client),
    normalizeAddress: (address) => normalizeSuiAddress(address),
    openReader: (sources, _children, addressSets) =>
      openSuiReader({ chain: config.key, client: conn.client, recent, batchCheckpoints: config.batchCheckpoints, batchTransactions: config.batchTransactions }, sources, addressSets),
    watchHeads(pollIntervalMs) {
      const follower = followCheckpoints(conn.client, pollIntervalMs, (error) => logger.debug({ chain: config.key, err: error.message }, 'checkpoint subscription dropped; subscribing again'));
      recent = follower.recent;
      return follower;
    },
    sourcesMayHaveChanged: () => false,
    close: async () => {},
  };
}
