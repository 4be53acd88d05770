import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { stringToHex, type Address } from 'viem';
import { ADMIN_ROLE, bytes32Text, intentWrites, problemSchema, requireKey, routeSchema, sendProblem, storableText, type AppContext, type ChainKey } from '../../engine/index.js';
import { VAULT } from './contract.js';
import { documentFingerprint } from './routes.js';
import { address, credentialId, fingerprint } from './inputs.js';
import { cachedCredential, findCredential } from './status.js';

/** The role of an institution's API key; its scope names the institution (`{ institution: "0x…" }`). */
export const INSTITUTION_ROLE = 'credentials.institution';

const issueBody = z
  .object({
    student: address,
    fingerprint: fingerprint.optional(),
    /** The document, base64: its SHA-256 becomes the fingerprint. */
    document: z.string().max(14_000_000).optional(),
    metadataURI: storableText(2048),
    /** Unix seconds; 0 or absent: never expires. */
    expiresAt: z.number().int().min(0).max(2 ** 53 - 1).optional(),
  })
  .strict()
  .refine((b) => (b.fingerprint === undefined) !== (b.document === undefined), { message: 'give exactly one of fingerprint or document' });
const institutionBody = z
  .object({ address, name: storableText(200, 1), metadataURI: storableText(2048).default(''), active: z.boolean().default(true) })
  .strict();
const revokeBody = z.object({ reason: bytes32Text }).strict();
const idParams = z.object({ id: credentialId });

/**
 * Issue and revoke through the outbox: 202 with the intent and a Location to
 * follow (`GET /api/tx/:id`); the new credential id is in the intent's events
 * once confirmed. An `Idempotency-Key` header makes a retried request return the
 * first intent instead of sending again.
 */
export async function credentialWriteRoutes(app: FastifyInstance, context: AppContext, chainKey: ChainKey, adminSigner: string): Promise<void> {
  const { pool } = context;
  const chain = context.chains.get(chainKey)!;
  const vault = () => context.deployment(chainKey, VAULT);
  const { perKeyLimit, submit } = intentWrites(app, { pool, outbox: context.outbox, rateLimitPerKey: context.rateLimitPerKey });
  const authenticated = requireKey(pool);
  const signers = () => context.outbox.signers(chainKey).map((s) => s.address);
  const institutionOf = (request: FastifyRequest) => (request.apiKey!.roles.includes(INSTITUTION_ROLE) ? request.apiKey!.scope.institution : undefined);

  /** Issue and revoke: the key must be an institution's, and this server must hold that institution's signing key. */
  const requireInstitution = async (request: FastifyRequest, reply: FastifyReply) => {
    if (signers().length === 0) return sendProblem(request, reply, 503, 'this server has no relayer signer configured: writes are disabled');
    const institution = institutionOf(request);
    if (!institution) return sendProblem(request, reply, 403, 'issuing and revoking need the API key of an institution');
    if (!signers().includes(institution)) return sendProblem(request, reply, 403, `this server signs for ${signers().join(', ')}, not for institution ${institution}`);
  };

  app.post(
    '/api/institutions',
    {
      preHandler: [authenticated, perKeyLimit],
      schema: {
        summary: 'Register or update an institution (admin key; 202: follow the intent at Location)',
        tags: ['institutions'],
        security: [{ apiKey: [] }],
        body: routeSchema(institutionBody),
        response: { 400: problemSchema, 401: problemSchema, 403: problemSchema, 409: problemSchema, 422: problemSchema, 503: problemSchema },
      },
    },
    async (request, reply) => {
      if (!request.apiKey!.roles.includes(ADMIN_ROLE)) return sendProblem(request, reply, 403, 'registering institutions needs an admin key');
      if (signers().length === 0) return sendProblem(request, reply, 503, 'this server has no relayer signer configured: writes are disabled');
      const body = institutionBody.parse(request.body);
      // The admin signer must hold the vault's admin role (the contract checks).
      return submit(request, reply, {
        kind: 'credentials.upsertInstitution',
        signer: adminSigner,
        functionName: 'upsertInstitution',
        args: [body.address as Address, body.name, body.metadataURI, body.active],
      });
    },
  );

  app.post(
    '/api/credentials/issue',
    {
      bodyLimit: 16 * 1024 * 1024,
      preHandler: [authenticated, perKeyLimit, requireInstitution],
      schema: {
        summary: 'Issue a credential (202: follow the intent at Location)',
        tags: ['credentials'],
        security: [{ apiKey: [] }],
        body: routeSchema(issueBody),
        response: { 400: problemSchema, 401: problemSchema, 403: problemSchema, 409: problemSchema, 422: problemSchema, 503: problemSchema },
      },
    },
    async (request, reply) => {
      const body = issueBody.parse(request.body);
      const fingerprint = body.fingerprint ?? documentFingerprint(Buffer.from(body.document!, 'base64'));
      return submit(request, reply, {
        kind: 'credentials.issue',
        signer: institutionOf(request)!,
        functionName: 'issueCredential',
        args: [{ student: body.student as Address, fingerprint, metadataURI: body.metadataURI, expiresAt: BigInt(body.expiresAt ?? 0) }],
      });
    },
  );

  app.post(
    '/api/credentials/:id/revoke',
    {
      preHandler: [authenticated, perKeyLimit, requireInstitution],
      schema: {
        summary: 'Revoke a credential of your institution (202: follow the intent at Location)',
        tags: ['credentials'],
        security: [{ apiKey: [] }],
        params: routeSchema(idParams),
        body: routeSchema(revokeBody),
        response: { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema, 503: problemSchema },
      },
    },
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      const { reason } = revokeBody.parse(request.body);
      const credential = await findCredential(chain, vault, id, (id) => cachedCredential(pool, chainKey, id));
      if (!credential) return sendProblem(request, reply, 404, `credential ${id} does not exist`);
      const institution = institutionOf(request)!;
      if (credential.institution !== institution) return sendProblem(request, reply, 403, `credential ${id} was issued by another institution`);
      return submit(request, reply, { kind: 'credentials.revoke', signer: institution, functionName: 'revokeCredential', args: [BigInt(id), stringToHex(reason, { size: 32 })] });
    },
  );
}
