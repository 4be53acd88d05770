import type pg from 'pg';
import type { Address, Hex } from 'viem';
import type { ChainKey, EvmChainReader } from '../../engine/index.js';
import { credentialVaultAbi } from './contract.js';

export type CredentialState = 'valid' | 'revoked' | 'expired' | 'unknown';

/**
 * What is known of one credential, from the cache (indexed events) or, failing
 * that, the chain: facts only, which may be kept in memory. Its state depends on
 * the clock (expiry), so it is derived whenever it is read (`withCurrentState`).
 */
export interface CredentialFacts {
  source: 'cache' | 'chain';
  id: string;
  revoked: boolean;
  institution: Address;
  institutionName: string | null;
  institutionActive: boolean | null;
  student: Address;
  fingerprint: Hex;
  metadataURI: string;
  issuedAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Where it was anchored; only the cache knows (the contract does not store it). */
  issuedTransaction: Hex | null;
  issuedBlock: string | null;
}

/** A credential as the API shows it: the facts and the state they amount to at the time of the request. */
export type CredentialRecord = Omit<CredentialFacts, 'revoked'> & { state: CredentialState };

/** revoked beats expired; an expiry of 0 means never. */
export function credentialState(revoked: boolean, expiresAt: bigint, now = BigInt(Math.floor(Date.now() / 1000))): CredentialState {
  if (revoked) return 'revoked';
  return expiresAt !== 0n && expiresAt <= now ? 'expired' : 'valid';
}

export function withCurrentState({ revoked, ...facts }: CredentialFacts): CredentialRecord {
  return { ...facts, state: credentialState(revoked, BigInt(facts.expiresAt ?? 0)) };
}

/** From PostgreSQL only: zero RPC calls. */
export async function cachedCredential(pool: pg.Pool, chain: ChainKey, id: string): Promise<CredentialFacts | undefined> {
  const { rows } = await pool.query<{
    credential_id: string;
    institution: Address;
    student: Address;
    fingerprint: Hex;
    metadata_uri: string;
    issued_at: bigint;
    expires_at: bigint;
    issued_block: bigint;
    issued_transaction: Hex;
    revoked: boolean;
    revoked_at: bigint | null;
    name: string | null;
    active: boolean | null;
  }>({
    // Prepared once per connection: this is the hottest read of the API.
    name: 'credentials.cached-credential',
    text: `select c.credential_id::text, c.institution, c.student, c.fingerprint, c.metadata_uri, c.issued_at, c.expires_at, c.issued_block,
            c.issued_transaction, c.revoked, c.revoked_at, i.name, i.active
     from credentials c left join institutions i on i.chain = c.chain and i.address = c.institution
     where c.chain = $1 and c.credential_id = $2`,
    values: [chain, id],
  });
  const row = rows[0];
  if (!row) return undefined;
  return {
    source: 'cache',
    id: row.credential_id,
    revoked: row.revoked,
    institution: row.institution,
    institutionName: row.name,
    institutionActive: row.active,
    student: row.student,
    fingerprint: row.fingerprint,
    metadataURI: row.metadata_uri,
    issuedAt: row.issued_at.toString(),
    expiresAt: row.expires_at === 0n ? null : row.expires_at.toString(),
    revokedAt: row.revoked_at?.toString() ?? null,
    issuedTransaction: row.issued_transaction,
    issuedBlock: row.issued_block.toString(),
  };
}

/** From the contract (one eth_call), for a credential the indexer has not reached yet. */
export async function chainCredential(chain: EvmChainReader, vault: Address, id: string): Promise<CredentialFacts | undefined> {
  const status = await chain.client.readContract({ address: vault, abi: credentialVaultAbi, functionName: 'credentialStatus', args: [BigInt(id)] });
  if (!status.exists) return undefined;
  return {
    source: 'chain',
    id,
    revoked: status.revoked,
    institution: status.institution.toLowerCase() as Address,
    institutionName: null,
    institutionActive: status.institutionActive,
    student: status.student.toLowerCase() as Address,
    fingerprint: status.fingerprint,
    metadataURI: status.metadataURI,
    issuedAt: status.issuedAt.toString(),
    expiresAt: status.expiresAt === 0n ? null : status.expiresAt.toString(),
    revokedAt: status.revokedAt === 0n ? null : status.revokedAt.toString(),
    issuedTransaction: null,
    issuedBlock: null,
  };
}

/** Cache first (`cached`); the chain only for a credential the indexer has not reached. */
export async function findCredential(
  chain: EvmChainReader,
  vault: () => Address | undefined,
  id: string,
  cached: (id: string) => Promise<CredentialFacts | undefined>,
): Promise<CredentialFacts | undefined> {
  const indexed = await cached(id);
  if (indexed) return indexed;
  // Only a miss needs the vault's address (looked up in the deployments file until it is there).
  const address = vault();
  return address ? chainCredential(chain, address, id) : undefined;
}
