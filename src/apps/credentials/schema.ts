import { bigint, boolean, index, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Institutions, projected from `InstitutionUpserted`. */
export const institutions = pgTable(
  'institutions',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    address: text('address').notNull(),
    name: text('name').notNull(),
    metadataUri: text('metadata_uri').notNull(),
    active: boolean('active').notNull(),
    updatedAt: bigint('updated_at', { mode: 'bigint' }).notNull(),
    updatedBlock: bigint('updated_block', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.address] })],
);

/** Credentials, projected from `CredentialIssued` and `CredentialRevoked`. */
export const credentials = pgTable(
  'credentials',
  {
    chainId: bigint('chain_id', { mode: 'number' }).notNull(),
    /** uint256 on chain. */
    credentialId: numeric('credential_id', { precision: 78, scale: 0 }).notNull(),
    institution: text('institution').notNull(),
    student: text('student').notNull(),
    fingerprint: text('fingerprint').notNull(),
    metadataUri: text('metadata_uri').notNull(),
    issuedAt: bigint('issued_at', { mode: 'bigint' }).notNull(),
    /** 0 = never expires. */
    expiresAt: bigint('expires_at', { mode: 'bigint' }).notNull(),
    issuedBlock: bigint('issued_block', { mode: 'bigint' }).notNull(),
    issuedTransaction: text('issued_transaction').notNull(),
    revoked: boolean('revoked').notNull().default(false),
    revokedAt: bigint('revoked_at', { mode: 'bigint' }),
    revocationReason: text('revocation_reason'),
    revokedTransaction: text('revoked_transaction'),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.credentialId] }),
    index('credentials_student').on(t.student),
    index('credentials_fingerprint').on(t.fingerprint),
    index('credentials_institution').on(t.institution),
  ],
);

/**
 * API keys for writes, each scoped to one institution (issue, revoke) or to the
 * vault's administration (register institutions). Only a SHA-256 of the key
 * is kept: keys are 32 random bytes, so a fast hash is enough (no password to
 * stretch), and a database leak does not leak usable keys.
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  keyHash: text('key_hash').notNull().unique(),
  /** The institution it speaks for; null for an admin key. */
  institution: text('institution'),
  admin: boolean('admin').notNull().default(false),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
