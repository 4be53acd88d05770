import type { FastifyInstance, FastifyRequest } from 'fastify';

/** A key that has used up its minute: when it may write again. */
export interface KeyLimitExceeded {
  retryInSeconds: number;
  /** For the caller's error: "rate limit: 600 writes per minute for this API key; retry in 12 s". */
  message: string;
}

/** Counts one write of API key `keyId` for this request; answers what was exceeded, or undefined while within the limit. */
export type CountKeyWrite = (request: FastifyRequest, keyId: string) => Promise<KeyLimitExceeded | undefined>;

/**
 * A limit of `perMinute` writes per API key, on top of the server's per-address
 * limit: it follows the key, not the address the key calls from. Limits of
 * different `name`s count apart (the REST writes, an app's GraphQL mutations).
 * Never exceeded when the server runs without rate limiting.
 */
export function perKeyLimit(app: FastifyInstance, perMinute: number | undefined, name: string): CountKeyWrite {
  if (!perMinute || !app.hasDecorator('createRateLimit')) return async () => undefined;
  // @fastify/rate-limit keys on the request; the key is known once the request is authenticated.
  const keyOf = new WeakMap<FastifyRequest, string>();
  const limiter = app.createRateLimit({ max: perMinute, timeWindow: 60_000, keyGenerator: (request) => `${name}:${keyOf.get(request)}` });
  return async (request, keyId) => {
    keyOf.set(request, keyId);
    const limit = await limiter(request);
    if (limit.isAllowed || !limit.isExceeded) return undefined;
    return { retryInSeconds: limit.ttlInSeconds, message: `rate limit: ${limit.max} writes per minute for this API key; retry in ${limit.ttlInSeconds} s` };
  };
}
