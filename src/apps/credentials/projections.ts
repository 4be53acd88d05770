import type { ChainEvent, Projection, ProjectionStore } from '../../engine/index.js';

/**
 * Institutions as the vault last described them. Within a batch only the last
 * upsert of an address matters (one statement cannot update a row twice).
 */
export const institutionsProjection: Projection = {
  name: 'institutions',
  tables: ['institutions'],
  events: ['vault.InstitutionUpserted'],
  async apply(events, store) {
    const latest = new Map<string, ChainEvent>();
    for (const e of events) latest.set(String(e.args.institution), e);
    const rows = [...latest.values()];
    await store.query(
      `insert into institutions (chain, address, name, metadata_uri, active, updated_at, updated_block)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::bigint[])
       on conflict (chain, address) do update set
         name = excluded.name, metadata_uri = excluded.metadata_uri, active = excluded.active,
         updated_at = excluded.updated_at, updated_block = excluded.updated_block`,
      [
        rows.map((e) => e.chain),
        rows.map((e) => e.args.institution),
        rows.map((e) => e.args.name),
        rows.map((e) => e.args.metadataURI),
        rows.map((e) => e.args.active),
        rows.map((e) => e.args.updatedAt),
        rows.map((e) => e.blockNumber.toString()),
      ],
    );
  },
};

/**
 * Credentials: inserted on issue, marked on revoke. Issues are written before
 * revocations, which is safe because the vault only revokes existing credentials.
 */
export const credentialsProjection: Projection = {
  name: 'credentials',
  tables: ['credentials'],
  events: ['vault.CredentialIssued', 'vault.CredentialRevoked'],
  async apply(events, store) {
    const issued = events.filter((e) => e.name === 'CredentialIssued');
    const revoked = events.filter((e) => e.name === 'CredentialRevoked');
    if (issued.length > 0) await insertIssued(store, issued);
    if (revoked.length > 0) await markRevoked(store, revoked);
  },
};

async function insertIssued(store: ProjectionStore, events: ChainEvent[]): Promise<void> {
  await store.copy(
    'credentials',
    ['chain', 'credential_id', 'institution', 'student', 'fingerprint', 'metadata_uri', 'issued_at', 'expires_at', 'issued_block', 'issued_transaction'],
    events.map((e) => [
      e.chain,
      String(e.args.id),
      String(e.args.institution),
      String(e.args.student),
      String(e.args.fingerprint),
      String(e.args.metadataURI),
      String(e.args.issuedAt),
      String(e.args.expiresAt),
      e.blockNumber,
      e.transactionId,
    ]),
  );
}

async function markRevoked(store: ProjectionStore, events: ChainEvent[]): Promise<void> {
  await store.query(
    `update credentials c set revoked = true, revoked_at = r.revoked_at, revocation_reason = r.reason, revoked_transaction = r.tx
     from unnest($1::text[], $2::numeric[], $3::bigint[], $4::text[], $5::text[]) as r(chain, credential_id, revoked_at, reason, tx)
     where c.chain = r.chain and c.credential_id = r.credential_id`,
    [
      events.map((e) => e.chain),
      events.map((e) => e.args.id),
      events.map((e) => e.args.revokedAt),
      events.map((e) => e.args.reason),
      events.map((e) => e.transactionId),
    ],
  );
}
