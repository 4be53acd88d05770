import type { IndexedEvent, Projection, ProjectionStore } from '../../indexer/types.js';

/**
 * Institutions as the vault last described them. Within a batch only the last
 * upsert of an address matters (one statement cannot update a row twice).
 */
export const institutionsProjection: Projection = {
  name: 'institutions',
  tables: ['institutions'],
  events: ['InstitutionUpserted'],
  async apply(events, store) {
    const latest = new Map<string, IndexedEvent>();
    for (const e of events) latest.set(String(e.args.institution), e);
    const rows = [...latest.values()];
    await store.query(
      `insert into institutions (chain_id, address, name, metadata_uri, active, updated_at, updated_block)
       select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::bigint[])
       on conflict (chain_id, address) do update set
         name = excluded.name, metadata_uri = excluded.metadata_uri, active = excluded.active,
         updated_at = excluded.updated_at, updated_block = excluded.updated_block`,
      [
        rows.map((e) => e.chainId),
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
  events: ['CredentialIssued', 'CredentialRevoked'],
  async apply(events, store) {
    const issued = events.filter((e) => e.eventName === 'CredentialIssued');
    const revoked = events.filter((e) => e.eventName === 'CredentialRevoked');
    if (issued.length > 0) await insertIssued(store, issued);
    if (revoked.length > 0) await markRevoked(store, revoked);
  },
};

async function insertIssued(store: ProjectionStore, events: IndexedEvent[]): Promise<void> {
  await store.copy(
    'credentials',
    ['chain_id', 'credential_id', 'institution', 'student', 'fingerprint', 'metadata_uri', 'issued_at', 'expires_at', 'issued_block', 'issued_transaction'],
    events.map((e) => [
      e.chainId,
      String(e.args.id),
      String(e.args.institution),
      String(e.args.student),
      String(e.args.fingerprint),
      String(e.args.metadataURI),
      String(e.args.issuedAt),
      String(e.args.expiresAt),
      e.blockNumber,
      e.transactionHash,
    ]),
  );
}

async function markRevoked(store: ProjectionStore, events: IndexedEvent[]): Promise<void> {
  await store.query(
    `update credentials c set revoked = true, revoked_at = r.revoked_at, revocation_reason = r.reason, revoked_transaction = r.tx
     from unnest($1::bigint[], $2::numeric[], $3::bigint[], $4::text[], $5::text[]) as r(chain_id, credential_id, revoked_at, reason, tx)
     where c.chain_id = r.chain_id and c.credential_id = r.credential_id`,
    [
      events.map((e) => e.chainId),
      events.map((e) => e.args.id),
      events.map((e) => e.args.revokedAt),
      events.map((e) => e.args.reason),
      events.map((e) => e.transactionHash),
    ],
  );
}
