import { bigint, boolean, index, numeric, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** Institutions, projected from `InstitutionUpserted`. */
export const institutions = pgTable(
  'institutions',
  {
    chain: text('chain').notNull(),
    address: text('address').notNull(),
    name: text('name').notNull(),
    metadataUri: text('metadata_uri').notNull(),
    active: boolean('active').notNull(),
    updatedAt: bigint('updated_at', { mode: 'bigint' }).notNull(),
    updatedBlock: bigint('updated_block', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.address] })],
);

/** Credentials, projected from `CredentialIssued` and `CredentialRevoked`. */
export const credentials = pgTable(
  'credentials',
  {
    chain: text('chain').notNull(),
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
    primaryKey({ columns: [t.chain, t.credentialId] }),
    index('credentials_student').on(t.student),
    index('credentials_fingerprint').on(t.fingerprint),
    index('credentials_institution').on(t.institution),
  ],
);
