import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Hex } from 'viem';
import { problemSchema, routeSchema, sendProblem, type AppContext, type ChainKey } from '../../engine/index.js';
import { VAULT } from './contract.js';
import { address, credentialId, fingerprint } from './inputs.js';
import { cachedCredential, credentialState, findCredential, withCurrentState, type CredentialFacts } from './status.js';

const idParams = z.object({ id: credentialId });
const addressParams = z.object({ address });
const listQuery = z.object({
  student: address.optional(),
  institution: address.optional(),
  status: z.enum(['valid', 'revoked', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: credentialId.optional(),
});
const institutionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: address.optional().describe('the nextCursor of the previous page: institutions come in address order, from the next address on'),
});
const verifyBody = z
  .object({
    credentialId,
    fingerprint: fingerprint.optional(),
    /** The document itself, base64: its SHA-256 is compared with the fingerprint on record. */
    document: z.string().max(14_000_000).optional(),
  })
  .strict()
  .refine((b) => (b.fingerprint === undefined) !== (b.document === undefined), { message: 'give exactly one of fingerprint or document' });

/** SHA-256 of the document's bytes: what BlockProof anchors (browsers compute it natively with WebCrypto). */
export function documentFingerprint(bytes: Uint8Array): Hex {
  return `0x${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function credentialRoutes(app: FastifyInstance, context: AppContext, chainKey: ChainKey): Promise<void> {
  const { pool } = context;
  const chain = context.chains.get(chainKey)!;
  const vault = () => context.deployment(chainKey, VAULT);
  // Indexed credentials from memory, emptied at every indexer commit that changes these projections.
  // Facts only: a credential's state changes with the clock, with no commit to say so.
  const memory = await context.cache<CredentialFacts>(['credentials', 'institutions']);
  const indexed = (id: string) => memory.get(id, () => cachedCredential(pool, chainKey, id));

  const lookUp = (id: string) => findCredential(chain, vault, id, indexed);

  app.get(
    '/api/credentials',
    {
      schema: { summary: 'Credentials from the cache, newest first; filters and cursor pagination', tags: ['credentials'], querystring: routeSchema(listQuery), response: { 400: problemSchema } },
    },
    async (request) => {
      const q = listQuery.parse(request.query);
      const now = Math.floor(Date.now() / 1000);
      const { rows } = await pool.query(
        `select credential_id::text as id, institution, student, fingerprint, metadata_uri, issued_at::text, expires_at, revoked, revoked_at::text,
                issued_block::text, issued_transaction
         from credentials
         where chain = $1 and ($2::text is null or student = $2) and ($3::text is null or institution = $3)
           and ($4::numeric is null or credential_id < $4)
           and (case $5::text
                  when 'revoked' then revoked
                  when 'expired' then not revoked and expires_at <> 0 and expires_at <= $6
                  when 'valid' then not revoked and (expires_at = 0 or expires_at > $6)
                  else true end)
         order by credential_id desc limit $7`,
        [chainKey, q.student ?? null, q.institution ?? null, q.cursor ?? null, q.status ?? null, now, q.limit + 1],
      );
      const page = rows.slice(0, q.limit);
      return {
        items: page.map((r) => ({
          id: r.id,
          state: credentialState(r.revoked, r.expires_at),
          institution: r.institution,
          student: r.student,
          fingerprint: r.fingerprint,
          metadataURI: r.metadata_uri,
          issuedAt: r.issued_at,
          expiresAt: r.expires_at === 0n ? null : r.expires_at.toString(),
          revokedAt: r.revoked_at,
          issuedBlock: r.issued_block,
          issuedTransaction: r.issued_transaction,
        })),
        nextCursor: rows.length > q.limit ? page.at(-1)!.id : null,
      };
    },
  );

  app.get(
    '/api/credentials/:id',
    { schema: { summary: 'One credential, from the cache', tags: ['credentials'], params: routeSchema(idParams), response: { 400: problemSchema, 404: problemSchema } } },
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      const facts = await indexed(id);
      return facts ? withCurrentState(facts) : sendProblem(request, reply, 404, `credential ${id} is not indexed (yet); GET /api/blockchain/status/${id} also asks the chain`);
    },
  );

  app.get(
    '/api/blockchain/status/:id',
    {
      schema: { summary: 'Status of a credential: cache first, the chain when it is not indexed yet', tags: ['credentials'], params: routeSchema(idParams), response: { 400: problemSchema, 404: problemSchema } },
    },
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      const facts = await lookUp(id);
      return facts ? withCurrentState(facts) : sendProblem(request, reply, 404, `credential ${id} does not exist`);
    },
  );

  app.post(
    '/api/blockchain/verify',
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        summary: 'Verify a credential against a fingerprint or the document itself; every step performed is listed',
        tags: ['credentials'],
        body: routeSchema(verifyBody),
        response: { 400: problemSchema },
      },
    },
    async (request) => {
      const body = verifyBody.parse(request.body);
      const presented = body.fingerprint ?? documentFingerprint(Buffer.from(body.document!, 'base64'));
      const facts = await lookUp(body.credentialId);
      if (!facts) {
        return { credentialId: body.credentialId, verdict: 'unknown', status: 'unknown', source: vault() ? 'chain' : 'cache', steps: [{ step: 'exists', ok: false, detail: 'no such credential' }] };
      }
      const record = withCurrentState(facts);
      const steps = [
        { step: 'exists', ok: true, detail: `found in the ${record.source}` },
        {
          step: 'document integrity',
          ok: presented === record.fingerprint,
          detail: `${body.document !== undefined ? 'SHA-256 of the document' : 'fingerprint'} ${presented} ${presented === record.fingerprint ? 'matches' : 'does not match'} ${record.fingerprint}`,
        },
        { step: 'status', ok: record.state === 'valid', detail: record.state },
        { step: 'issuer active', ok: record.institutionActive === true, detail: record.institutionName ? `${record.institutionName} (${record.institution})` : record.institution },
        record.issuedTransaction
          ? { step: 'anchored', ok: true, detail: `transaction ${record.issuedTransaction} in block ${record.issuedBlock}` }
          : { step: 'anchored', ok: true, detail: 'on chain (read by eth_call; the transaction is known once indexed)' },
      ];
      return {
        credentialId: body.credentialId,
        verdict: steps.every((s) => s.ok) ? 'valid' : record.state !== 'valid' ? record.state : 'invalid',
        status: record.state,
        source: record.source,
        credential: record,
        steps,
      };
    },
  );

  app.get(
    '/api/institutions',
    {
      schema: {
        summary: 'Institutions, from the cache, in address order; cursor pagination (keyset on the address)',
        tags: ['institutions'],
        querystring: routeSchema(institutionsQuery),
        response: { 400: problemSchema },
      },
    },
    async (request) => {
      const q = institutionsQuery.parse(request.query);
      const { rows } = await pool.query(
        `select address, name, metadata_uri, active, updated_at::text, updated_block::text from institutions
         where chain = $1 and ($2::text is null or address > $2) order by address limit $3`,
        [chainKey, q.cursor ?? null, q.limit + 1],
      );
      const page = rows.slice(0, q.limit);
      return { items: page.map(toInstitution), nextCursor: rows.length > q.limit ? page.at(-1)!.address : null };
    },
  );

  app.get(
    '/api/institutions/:address',
    { schema: { summary: 'One institution, from the cache', tags: ['institutions'], params: routeSchema(addressParams), response: { 400: problemSchema, 404: problemSchema } } },
    async (request, reply) => {
      const { address: account } = addressParams.parse(request.params);
      const { rows } = await pool.query(
        'select address, name, metadata_uri, active, updated_at::text, updated_block::text from institutions where chain = $1 and address = $2',
        [chainKey, account],
      );
      return rows[0] ? toInstitution(rows[0]) : sendProblem(request, reply, 404, `no institution ${account}`);
    },
  );
}

function toInstitution(row: { address: string; name: string; metadata_uri: string; active: boolean; updated_at: string; updated_block: string }) {
  return { address: row.address, name: row.name, metadataURI: row.metadata_uri, active: row.active, updatedAt: row.updated_at, updatedBlock: row.updated_block };
}
