import type pg from 'pg';
import type { SuiGrpcClient } from '@mysten/sui/grpc';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { ChainKey } from '../../../core/chain.js';
import type { Logger } from '../../../runtime/logger.js';

/** What the Sui lifecycle of one signer works with. */
export interface SuiRelayerContext {
  chain: ChainKey;
  client: SuiGrpcClient;
  pool: pg.Pool;
  keypair: Ed25519Keypair;
  /** The signer's address, long form (as stored). */
  signer: string;
  gas: {
    /** The most a transaction may spend on gas, in MIST: the dry run must fit in it. */
    budget: bigint;
    /** Gas coins kept per signer: as many transactions of it can be in flight at once. */
    poolSize: number;
  };
  logger: Logger;
}

/** An owned object's reference, as a transaction names it. */
export interface ObjectRef {
  objectId: string;
  version: bigint;
  digest: string;
}
