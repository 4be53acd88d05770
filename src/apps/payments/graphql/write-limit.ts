import type { FastifyInstance, FastifyRequest } from 'fastify';
import { perKeyLimit } from '../../../engine/index.js';
import type { Authentication } from './auth.js';
import { PaymentsApiError } from './errors.js';

/** Counts one write of the caller's API key (as authenticated now: a WebSocket's connection_init may name it); RATE_LIMITED when the key has used up its minute. */
export type CountWrite = (auth: Authentication) => Promise<void>;

/**
 * The engine's per-API-key write limit (`rateLimitPerKey`) for the mutations
 * that submit or reserve something: each mutation field counts, so aliases in
 * one document count each. Counted apart from the REST writes.
 */
export function writeLimit(app: FastifyInstance, perMinute: number | undefined): (request: FastifyRequest) => CountWrite {
  const countWrite = perKeyLimit(app, perMinute, 'payments-writes');
  return (request) => async (auth) => {
    if (auth.state !== 'key') return;
    const exceeded = await countWrite(request, auth.owner.keyId);
    if (exceeded) throw new PaymentsApiError('RATE_LIMITED', exceeded.message);
  };
}
