import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import rateLimit from '@fastify/rate-limit';
import cors from '@fastify/cors';
import type { Logger } from '../runtime/logger.js';
import { metrics } from '../runtime/metrics.js';
import { sendProblem, problemSchema } from './problem.js';
import { runChecks, type ReadinessCheck } from './readiness.js';
import { clientError, frameworkError, MAX_PARAM_LENGTH, requireHost, unmetExpectation } from './pre-routing.js';

export interface ServerOptions {
  logger: Logger;
  readiness: ReadinessCheck[];
  version: string;
  /** Route groups to add (the relayer's, the apps'). */
  routes?: Array<(app: FastifyInstance) => Promise<void>>;
  /** Requests per minute from one IP address (429 problem+json above it); 0 turns the limit off. */
  rateLimitPerIp?: number;
  /** Origins allowed to call the API from a browser (`*` for any); none: same origin only. */
  corsOrigins?: string[];
  /** Proxies in front whose X-Forwarded-For is believed; 0: the socket's address is the client's. */
  trustProxyHops?: number;
  /** Sees every route as it is registered, the engine's own included (e.g. to list them all). */
  onRoute?: (route: RouteOptions) => void;
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** The HTTP API: health, readiness, metrics, OpenAPI and docs; apps add their routes. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One log line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Behind a proxy every request comes from the proxy: per-address rate limits need the client's address.
    trustProxy: options.trustProxyHops ? (_address: string, hop: number) => hop < options.trustProxyHops! : false,
    // Keep a caller's request id when it is sane, so logs can be joined across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Errors before routing are problem+json too (src/http/pre-routing.ts).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    http: { requireHostHeader: false },
  });
  app.server.on('checkExpectation', unmetExpectation);
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  // zod validates, in each handler (`schema.parse`, whose ZodError becomes a 400 below); route
  // schemas only document. Fastify's ajv would coerce types and drop unknown fields first.
  app.setValidatorCompiler(() => (data) => ({ value: data }));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', requireHost);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 404, `no route for ${request.method} ${request.url.split('?')[0]}`));
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    if (error.validation) {
      return sendProblem(request, reply, 400, error.message, { errors: error.validation });
    }
    if (error instanceof ZodError) {
      return sendProblem(request, reply, 400, error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '), { errors: error.issues });
    }
    const status = error.statusCode;
    if (status && status >= 400 && status < 500) return sendProblem(request, reply, status, error.message);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, status && status >= 500 ? status : 500, 'internal error; the request id identifies it in the logs');
  });

  if (options.rateLimitPerIp) {
    await app.register(rateLimit, {
      max: options.rateLimitPerIp,
      timeWindow: 60_000,
      // Routes may set their own limit (per API key, after authentication) on top of this one.
      global: true,
      errorResponseBuilder: (_request, context) => Object.assign(new Error(`rate limit: ${context.max} requests per minute; retry in ${context.after}`), { statusCode: 429 }),
    });
  }
  if (options.corsOrigins?.length) {
    await app.register(cors, {
      origin: options.corsOrigins.includes('*') ? true : options.corsOrigins,
      exposedHeaders: ['location', 'x-request-id'],
      // Strict, an OPTIONS request that is not a preflight would get a 400 in text/plain.
      strictPreflight: false,
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ledgersync',
        version: options.version,
        description: 'Reads from PostgreSQL mirrors of contract events; writes through a transactional outbox.',
      },
      components: {
        schemas: { Problem: { ...problemSchema, required: [...problemSchema.required] } },
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key, lsk_…, from `ledgersync api-key create`' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: the process is up',
        tags: ['operations'],
        response: { 200: { type: 'object', properties: { status: { type: 'string', const: 'ok' } } } },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Readiness: database and chain reachable (503 problem+json otherwise)',
        tags: ['operations'],
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: true } } },
          503: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const { ready, checks } = await runChecks(options.readiness);
      if (ready) return { status: 'ready', checks };
      const failing = Object.entries(checks).filter(([, r]) => !r.ok).map(([name, r]) => `${name}: ${r.detail ?? 'failing'}`);
      return sendProblem(request, reply, 503, `not ready: ${failing.join('; ')}`, { checks });
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });

  for (const routes of options.routes ?? []) await routes(app);

  return app;
}
