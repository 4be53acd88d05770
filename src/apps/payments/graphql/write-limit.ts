import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authentication } from './auth.js';
import { PaymentsApiError } from './errors.js';

/** Counts one write of the caller's API key (as authenticated now: a WebSocket's connection_init may name it); RATE_LIMITED when the key has used up its minute. */
export type CountWrite = (auth: Authentication) => Promise<void>;

/**
 * The per-API-key write limit (the engine's `rateLimitPerKey`, on top of the
 * server's per-address limit) for the mutations that submit or reserve
 * something: each mutation field counts, so aliases in one document count each.
 * Off when the server runs without rate limiting.
 */
export function writeLimit(app: FastifyInstance, perMinute: number | undefined): (request: FastifyRequest) => CountWrite {
  if (!perMinute || !app.hasDecorator('createRateLimit')) return () => async () => {};
  // The limiter keys on the request; the key id is known once the request is authenticated.
  const keyOf = new WeakMap<FastifyRequest, string>();
  const limiter = app.createRateLimit({ max: perMinute, timeWindow: 60_000, keyGenerator: (request) => `payments-writes:${keyOf.get(request)}` });
  return (request) => async (auth) => {
    if (auth.state !== 'key') return;
    keyOf.set(request, auth.owner.keyId);
    const limit = await limiter(request);
    if (!limit.isAllowed && limit.isExceeded) {
      throw new PaymentsApiError('RATE_LIMITED', `rate limit: ${limit.max} writes per minute for this API key; retry in ${limit.ttlInSeconds} s`);
    }
  };
}
