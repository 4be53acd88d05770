import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type pg from 'pg';
import { IdempotencyConflictError, IntentRejectedError, type Outbox, type SubmitIntent } from './outbox.js';
import { inTransaction } from '../../db/transaction.js';
import { sendProblem } from '../../http/problem.js';
import { perKeyLimit } from '../../http/key-limit.js';

const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1 to 200 visible ASCII characters');

/**
 * What an app's write routes share: a per-API-key rate limit (a preHandler, after
 * authentication: the limit follows the key, not the address it calls from, on
 * top of the server's per-address one), and submitting an intent for the request
 * in its own transaction, answered with 202 and a Location to follow. An
 * `Idempotency-Key` header (scoped to the API key, so two clients can never
 * collide) makes a retried request return the first intent instead of sending again.
 */
export function intentWrites(app: FastifyInstance, options: { pool: pg.Pool; outbox: Outbox; rateLimitPerKey?: number | undefined }) {
  const countWrite = perKeyLimit(app, options.rateLimitPerKey, 'rest-writes');
  return {
    /** A preHandler, after the one that authenticates (without a key there is nothing to count). */
    async perKeyLimit(request: FastifyRequest, reply: FastifyReply) {
      if (!request.apiKey) return;
      const exceeded = await countWrite(request, request.apiKey.keyId);
      if (exceeded) {
        reply.header('retry-after', exceeded.retryInSeconds);
        return sendProblem(request, reply, 429, exceeded.message);
      }
    },
    /** Submits the request's intent (the API key must have been checked) and answers 202, or the problem. */
    async submit(request: FastifyRequest, reply: FastifyReply, intent: Omit<SubmitIntent, 'idempotencyKey' | 'submittedBy'>) {
      const owner = request.apiKey!;
      const header = request.headers['idempotency-key'];
      const given = header === undefined ? undefined : idempotencyKey.safeParse(header);
      if (given && !given.success) return sendProblem(request, reply, 400, `Idempotency-Key: ${given.error.issues[0]!.message}`);
      const key = `api:${owner.keyId}:${given?.data ?? crypto.randomUUID()}`;
      try {
        const submitted = await inTransaction(options.pool, (client) => options.outbox.submit(client, { ...intent, idempotencyKey: key, submittedBy: owner.keyId }));
        reply.header('location', `/api/tx/${submitted.id}`);
        return reply.code(202).send({ intent: { id: String(submitted.id), state: submitted.state, created: submitted.created }, links: { intent: `/api/tx/${submitted.id}` } });
      } catch (error) {
        if (error instanceof IdempotencyConflictError) return sendProblem(request, reply, 409, `Idempotency-Key ${given?.data} was used for a different request`);
        if (error instanceof IntentRejectedError) return sendProblem(request, reply, 422, error.message);
        throw error;
      }
    },
  };
}
