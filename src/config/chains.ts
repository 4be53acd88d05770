import type { Hex } from 'viem';
import type { ChainKey } from '../core/chain.js';
/** Where a signing key comes from: the key itself, or an encrypted keystore file and its password. */
export type SignerSource = { kind: 'key'; privateKey: Hex } | { kind: 'keystore'; path: string; password: string };

/** A key that signs on a chain, and the roles intents may name it by (`default` is the first). */
export type SignerConfig = SignerSource & { roles: string[] };

/** One EVM chain of the deployment. */
export interface EvmChainConfig {
  family: 'evm';
  /** `evm:<chain id>`; undefined until learned from the node (RPC_URL without CHAIN_ID). */
  key: ChainKey | undefined;
  endpoint:
    | { kind: 'rpc'; rpcUrl: string; wsUrl?: string | undefined }
    /** An anvil that ledgersync starts (and keeps under LEDGERSYNC_HOME). */
    | { kind: 'embedded'; port: number; blockTime: number; chainId: number; hardfork?: string | undefined; statePath: string };
  /** How long one JSON-RPC request waits for the node's answer (each of the client's retries waits as long). */
  rpcTimeoutMs: number;
  /** Blocks on top of a block before it is final, for the indexer and the relayer (src/core/finality.ts). */
  finalityDepth: number;
  /** How often to ask for a new head when there is no WebSocket to subscribe to. */
  pollIntervalMs: number;
  /** eth_getLogs ranges in flight at once during a backfill. */
  concurrency: number;
  /** Largest eth_getLogs block range tried. */
  maxBlockRange: number;
  /**
   * How transactions pay: EIP-1559 fees, or a legacy gas price (`auto`: by whether blocks have a base fee); never above the
   * cap. `gasPrice`, the configured price of a legacy chain, is the least paid and what is paid when the node gives no price.
   */
  gas: { type: 'auto' | 'eip1559' | 'legacy'; maxFeePerGas: bigint; bumpPercent: number; gasPrice?: bigint };
  signers: SignerConfig[];
  /** What `ledgersync deploy` (and the first start of an embedded chain) deploys with. */
  deployerPrivateKey: Hex | undefined;
}

/** A Sui signer: an Ed25519 key in Sui's bech32 form (`suiprivkey1…`, as `sui keytool export` prints it). */
export type SuiSignerConfig = { kind: 'key'; privateKey: string; roles: string[] };

/** One Sui network of the deployment. */
export interface SuiChainConfig {
  family: 'sui';
  /** `sui:<network>`, the network as the node's GetServiceInfo names it (`sui:mainnet`, `sui:testnet`). */
  key: ChainKey;
  endpoint:
    /** A full node's gRPC API (grpc-web over HTTP), e.g. https://fullnode.mainnet.sui.io:443… */
    | { kind: 'grpc'; url: string }
    /** …or the Sui simulator that ledgersync starts (no Sui node runs here; see the README). */
    | { kind: 'embedded'; port: number; checkpointIntervalMs: number };
  /** How often to ask for the latest checkpoint while the subscription is down. */
  pollIntervalMs: number;
  /** The most checkpoints, and transactions, in one indexer commit. */
  batchCheckpoints: number;
  batchTransactions: number;
  signers: SuiSignerConfig[];
  /** Gas: the budget of each transaction, and how many gas coins each signer keeps apart for concurrent sends. */
  gas: { budget: bigint; poolSize: number };
}

export type ChainConfig = EvmChainConfig | SuiChainConfig;

/** Gwei, as configured, in wei. */
export const gwei = (amount: number): bigint => BigInt(Math.round(amount * 1e9));
