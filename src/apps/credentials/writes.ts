import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { stringToHex, type Address } from 'viem';
import { problemSchema, sendProblem } from '../../http/problem.js';
import { routeSchema } from '../../http/zod.js';
import { bytes32Text, storableText } from '../../http/inputs.js';
import { requireKey } from '../../http/api-keys.js';
import { IdempotencyConflictError, IntentRejectedError, type Outbox, type SubmitIntent } from '../../relayer/outbox.js';
import { inTransaction } from '../../db/transaction.js';
import type { AppContext } from '../types.js';
import { documentFingerprint } from './routes.js';
import { address, credentialId, fingerprint } from './inputs.js';
import { cachedCredential, findCredential, vaultAddress } from './status.js';

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
const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1 to 200 visible ASCII characters');

/**
 * Issue and revoke through the outbox: 202 with the intent and a Location to
 * follow (`GET /api/tx/:id`); the new credential id is in the intent's events
 * once confirmed. An `Idempotency-Key` header makes a retried request return the
 * first intent instead of sending again.
 */
export async function credentialWriteRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { pool } = context;
  const vault = vaultAddress(context.deploymentsFile, context.chain.chainId);
  const outboxes = context.outboxes ?? [];
  const outboxOf = (institution: string) => outboxes.find((o) => o.signer === institution);
  // Checked after authentication, so the limit follows the key, not the address it calls from
  // (on top of the server's per-address limit).
  const keyLimiter =
    context.rateLimitPerKey && app.hasDecorator('createRateLimit')
      ? app.createRateLimit({ max: context.rateLimitPerKey, timeWindow: 60_000, keyGenerator: (request) => `key:${request.apiKey?.keyId}` })
      : undefined;
  const perKeyLimit = async (request: FastifyRequest, reply: FastifyReply) => {
    const limit = await keyLimiter?.(request);
    if (limit && !limit.isAllowed && limit.isExceeded) {
      reply.header('retry-after', limit.ttlInSeconds);
      return sendProblem(request, reply, 429, `rate limit: ${limit.max} writes per minute for this API key; retry in ${limit.ttlInSeconds} s`);
    }
  };

  const authenticated = requireKey(pool);

  /** Submits in its own transaction and answers 202 (or the problem). */
  const submit = async (request: FastifyRequest, reply: FastifyReply, outbox: Outbox, intent: Omit<SubmitIntent, 'idempotencyKey'>) => {
    const owner = request.apiKey!;
    const header = request.headers['idempotency-key'];
    const given = header === undefined ? undefined : idempotencyKey.safeParse(header);
    if (given && !given.success) return sendProblem(request, reply, 400, `Idempotency-Key: ${given.error.issues[0]!.message}`);
    // Scoped to the API key, so that two clients can never collide on a key.
    const key = `api:${owner.keyId}:${given?.data ?? crypto.randomUUID()}`;
    try {
      const submitted = await inTransaction(pool, (client) => outbox.submit(client, { ...intent, idempotencyKey: key, submittedBy: owner.keyId }));
      reply.header('location', `/api/tx/${submitted.id}`);
      return reply.code(202).send({ intent: { id: String(submitted.id), state: submitted.state, created: submitted.created }, links: { intent: `/api/tx/${submitted.id}` } });
    } catch (error) {
      if (error instanceof IdempotencyConflictError) return sendProblem(request, reply, 409, `Idempotency-Key ${given?.data} was used for a different request`);
      if (error instanceof IntentRejectedError) return sendProblem(request, reply, 422, error.message);
      throw error;
    }
  };

  /** Issue and revoke: the key must be an institution's, and this server must hold that institution's signing key. */
  const requireInstitution = async (request: FastifyRequest, reply: FastifyReply) => {
    const owner = request.apiKey!;
    if (outboxes.length === 0) return sendProblem(request, reply, 503, 'this server has no relayer signer configured: writes are disabled');
    if (!owner.institution) return sendProblem(request, reply, 403, 'an admin key cannot issue or revoke: use a key of the institution');
    if (!outboxOf(owner.institution)) {
      return sendProblem(request, reply, 403, `this server signs for ${outboxes.map((o) => o.signer).join(', ')}, not for institution ${owner.institution}`);
    }
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
      if (!request.apiKey!.admin) return sendProblem(request, reply, 403, 'registering institutions needs an admin key');
      // The first signer administers: it must hold the vault's admin role (the contract checks).
      const admin = outboxes[0];
      if (!admin) return sendProblem(request, reply, 503, 'this server has no relayer signer configured: writes are disabled');
      const body = institutionBody.parse(request.body);
      return submit(request, reply, admin, {
        kind: 'credentials.upsertInstitution',
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
      return submit(request, reply, outboxOf(request.apiKey!.institution!)!, {
        kind: 'credentials.issue',
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
      const credential = await findCredential(context.chain, vault(), id, (id) => cachedCredential(pool, context.chain.chainId, id));
      if (!credential) return sendProblem(request, reply, 404, `credential ${id} does not exist`);
      if (credential.institution !== request.apiKey!.institution) return sendProblem(request, reply, 403, `credential ${id} was issued by another institution`);
      return submit(request, reply, outboxOf(request.apiKey!.institution!)!, { kind: 'credentials.revoke', functionName: 'revokeCredential', args: [BigInt(id), stringToHex(reason, { size: 32 })] });
    },
  );
}
