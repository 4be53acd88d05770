import type { Hex } from 'viem';
import type { ChainKey } from '../core/chain.js';
import { gwei, type ChainConfig, type EvmChainConfig, type SignerConfig, type SuiChainConfig } from '../config/chains.js';
import type { LedgersyncApp } from './app.js';

/** One EVM chain in `ledgersync.config.ts`; what is left out comes from the environment's settings. */
export interface EvmChainInput {
  id: number;
  /** Its JSON-RPC endpoint (secrets from the environment: `process.env.RPC_URL_137`)… */
  rpc?: string;
  ws?: string;
  /** …or an anvil that ledgersync starts, e.g. `{ hardfork: 'berlin' }` for a chain without EIP-1559. */
  embedded?: { port?: number; blockTime?: number; hardfork?: string };
  /** How long one JSON-RPC request waits for the node's answer, in milliseconds (default: RPC_TIMEOUT_MS, 10000). */
  rpcTimeoutMs?: number;
  finalityDepth?: number;
  pollIntervalMs?: number;
  concurrency?: number;
  maxBlockRange?: number;
  /**
   * `priceGwei`, for a chain without EIP-1559 (Polygon Edge): the least a transaction pays per gas (the node's eth_gasPrice
   * is raised to it), and what it pays when eth_gasPrice fails or says 0. Never above `maxFeeGwei`, the cap.
   */
  gas?: { type?: 'auto' | 'eip1559' | 'legacy'; maxFeeGwei?: number; priceGwei?: number; bumpPercent?: number };
  /** Keys that sign here; intents name one by address or by role. Default: the environment's relayer keys. */
  signers?: Array<({ privateKey: Hex } | { keystore: string; password: string }) & { roles?: string[] }>;
  deployerPrivateKey?: Hex;
}

/** The environment's settings a chain falls back to, and where embedded chains keep their state. */
export interface ChainDefaults {
  chain: EvmChainConfig;
  /** The keys the environment gives (RELAYER_PRIVATE_KEY or keystores, DEPLOYER_PRIVATE_KEY), for any chain. */
  keys: { signers: SignerConfig[]; deployerPrivateKey: Hex | undefined };
  /** anvil's first dev account: public, so an embedded chain's signer and deployer when the environment gives none, and never another chain's. */
  devKey: Hex;
  home: string;
  /** Embedded chains take consecutive ports from the environment's ANVIL_PORT (Sui: from 9000), in the order listed. */
  index: number;
  /** The Ed25519 key (`suiprivkey1…`) the embedded Sui simulator funds at start: public, so only ever an embedded network's signer. */
  suiDevKey: string;
}

/** What a project's `ledgersync.config.ts` exports (default export). */
export interface ProjectDefinition {
  /** The chains of this deployment; default: the one the environment describes (RPC_URL, or an embedded anvil). */
  chains?: Array<(defaults: ChainDefaults) => ChainConfig>;
  /** The apps it runs, given the chains' keys in the order listed. */
  apps: LedgersyncApp[] | ((chains: ChainKey[]) => LedgersyncApp[]);
}

export function defineConfig(definition: ProjectDefinition): ProjectDefinition {
  return definition;
}

/** The chain the environment describes (RPC_URL, CHAIN_ID, FINALITY_DEPTH, …; no RPC_URL: an embedded anvil), as a configuration lists it. */
export function environmentChain(): (defaults: ChainDefaults) => EvmChainConfig {
  return ({ chain }) => chain;
}

/** An EVM chain of the deployment, its settings defaulting to the environment's. */
export function evmChain(input: EvmChainInput): (defaults: ChainDefaults) => EvmChainConfig {
  return ({ chain, keys, devKey, home, index }) => {
    const embedded = !input.rpc;
    const embeddedPort = chain.endpoint.kind === 'embedded' ? chain.endpoint.port : 8545;
    const signers: SignerConfig[] | undefined = input.signers?.map((s, i) => ({
      ...('privateKey' in s ? { kind: 'key' as const, privateKey: s.privateKey } : { kind: 'keystore' as const, path: s.keystore, password: s.password }),
      roles: s.roles ?? (i === 0 ? ['default'] : []),
    }));
    const gas: EvmChainConfig['gas'] = {
      type: input.gas?.type ?? chain.gas.type,
      maxFeePerGas: input.gas?.maxFeeGwei !== undefined ? gwei(input.gas.maxFeeGwei) : chain.gas.maxFeePerGas,
      bumpPercent: input.gas?.bumpPercent ?? chain.gas.bumpPercent,
      gasPrice: input.gas?.priceGwei !== undefined ? gwei(input.gas.priceGwei) : chain.gas.gasPrice,
    };
    if (gas.gasPrice !== undefined && gas.gasPrice > gas.maxFeePerGas) {
      const inGwei = (wei: bigint) => `${Number(wei) / 1e9} gwei`;
      throw new Error(
        `evmChain ${input.id}: the gas price, ${inGwei(gas.gasPrice)} (gas.priceGwei or RELAYER_GAS_PRICE_GWEI), is above the cap, ${inGwei(gas.maxFeePerGas)} (gas.maxFeeGwei or RELAYER_MAX_FEE_GWEI): it is the least a transaction pays, the cap the most`,
      );
    }
    // viem reads a timeout of 0 as none: a chain is never without one.
    if (input.rpcTimeoutMs !== undefined && !(input.rpcTimeoutMs > 0)) throw new Error(`evmChain ${input.id}: rpcTimeoutMs must be a positive number of milliseconds`);
    return {
      family: 'evm',
      key: `evm:${input.id}`,
      endpoint: input.rpc
        ? { kind: 'rpc', rpcUrl: input.rpc, wsUrl: input.ws }
        : {
            kind: 'embedded',
            port: input.embedded?.port ?? embeddedPort + index,
            blockTime: input.embedded?.blockTime ?? (chain.endpoint.kind === 'embedded' ? chain.endpoint.blockTime : 1),
            chainId: input.id,
            hardfork: input.embedded?.hardfork,
            statePath: `${home}/anvil/${input.id}/state.json`,
          },
      rpcTimeoutMs: input.rpcTimeoutMs ?? chain.rpcTimeoutMs,
      finalityDepth: input.finalityDepth ?? (input.rpc ? 64 : 1),
      pollIntervalMs: input.pollIntervalMs ?? chain.pollIntervalMs,
      concurrency: input.concurrency ?? chain.concurrency,
      maxBlockRange: input.maxBlockRange ?? chain.maxBlockRange,
      gas,
      // By this chain's endpoint, not the environment's: a chain reached by URL never signs with the public dev key.
      signers: signers ?? (keys.signers.length > 0 || !embedded ? keys.signers : [{ kind: 'key', privateKey: devKey, roles: ['default'] }]),
      deployerPrivateKey: input.deployerPrivateKey ?? keys.deployerPrivateKey ?? (embedded ? devKey : undefined),
    };
  };
}

/** One Sui network in `ledgersync.config.ts`. */
export interface SuiChainInput {
  /**
   * A full node's gRPC URL (grpc-web over HTTP, e.g. `https://fullnode.mainnet.sui.io:443`) and the
   * network it serves (`mainnet`, `testnet`: checked against the node at start)…
   */
  url?: string;
  network?: string;
  /** …or, with no URL, the Sui simulator that ledgersync starts (no Sui node runs here; docs/sui-simulator.md). */
  embedded?: { port?: number; checkpointIntervalMs?: number };
  pollIntervalMs?: number;
  batchCheckpoints?: number;
  batchTransactions?: number;
  /** Ed25519 keys in Sui's bech32 form (`suiprivkey1…`); the first has the role `default`. Default on the simulator: its funded dev key. */
  signers?: Array<{ privateKey: string; roles?: string[] }>;
  /** Each transaction's gas budget in MIST, and how many gas coins each signer keeps for concurrent sends. */
  gas?: { budget?: bigint; poolSize?: number };
}

/** A Sui network of the deployment: `sui:<network>`, `sui:localnet-sim` for the simulator. */
export function suiChain(input: SuiChainInput): (defaults: ChainDefaults) => SuiChainConfig {
  return ({ index, suiDevKey }) => {
    if (input.url && !input.network) throw new Error('suiChain: give the network the node at url serves (network: "mainnet", "testnet", …)');
    const signers = input.signers?.map((s, i) => ({ kind: 'key' as const, privateKey: s.privateKey, roles: s.roles ?? (i === 0 ? ['default'] : []) }));
    return {
      family: 'sui',
      key: `sui:${input.url ? input.network! : (input.network ?? 'localnet-sim')}`,
      endpoint: input.url ? { kind: 'grpc', url: input.url } : { kind: 'embedded', port: input.embedded?.port ?? 9000 + index, checkpointIntervalMs: input.embedded?.checkpointIntervalMs ?? 1000 },
      pollIntervalMs: input.pollIntervalMs ?? 1000,
      batchCheckpoints: input.batchCheckpoints ?? 500,
      batchTransactions: input.batchTransactions ?? 5000,
      // A node reached by URL never signs with the public dev key.
      signers: signers ?? (input.url ? [] : [{ kind: 'key', privateKey: suiDevKey, roles: ['default'] }]),
      gas: { budget: input.gas?.budget ?? 50_000_000n, poolSize: input.gas?.poolSize ?? 8 },
    };
  };
}
