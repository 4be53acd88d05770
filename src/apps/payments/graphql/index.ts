import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import { GraphQLError, type ValidationRule } from 'graphql';
import type { AppContext } from '../../../engine/index.js';
import type { PaymentsSettings } from '../settings.js';
import { authenticateBearer, type Authentication } from './auth.js';
import { errorFormatter } from './errors.js';
import { operations } from './operations.js';
import { signedSendMutations } from './signed.js';
import { receivedOf, resolvers } from './resolvers.js';
import { schema } from './schema.js';
import { ReceivedFeed, receivedTopic } from './subscriptions.js';
import { writeLimit } from './write-limit.js';

/** Where the API is served (HTTP POST and GET for queries, WebSocket for subscriptions). */
export const GRAPHQL_PATH = '/graphql';

/**
 * The schema has no cycles (an Account does not lead back to its User), so a
 * query's depth is bounded by the schema itself; the limit is against
 * introspection queries nested without end (`ofType { ofType { … } }`). The
 * standard introspection query (GraphiQL's, codegen's) is 13 deep.
 */
const MAX_DEPTH = 15;
/** Fields in one document, aliases included: `a1: balance(critical: true) a2: …` would be one chain read each. */
const MAX_FIELDS = 300;

const fieldBudget: ValidationRule = (context) => {
  let fields = 0;
  return {
    Field(node) {
      fields++;
      if (fields === MAX_FIELDS + 1) context.reportError(new GraphQLError(`the document selects more than ${MAX_FIELDS} fields`, { nodes: node }));
    },
  };
};

export interface PaymentsGraphqlOptions {
  /** The GraphiQL IDE at /graphiql: it loads its code from unpkg.com, so it is off unless NODE_ENV is development. */
  ide?: boolean;
  /** How often the payments feed checks its LISTEN connection (ms). */
  feedHeartbeatMs?: number;
}

/** The reads of accounts and history (resolvers.ts), the balances and sends (operations.ts), and the sends users sign (signed.ts). */
function allResolvers(context: AppContext, settings: PaymentsSettings) {
  const reads = resolvers(context, context.logger);
  const ops = operations(context, settings);
  return {
    Query: { ...reads.Query, ...ops.Query },
    Mutation: { ...ops.Mutation, ...signedSendMutations(context, settings) },
    Subscription: reads.Subscription,
    User: reads.User,
    Account: { ...reads.Account, ...ops.Account },
  };
}

/** The authorization a WebSocket's connection_init carries: `{ authorization }` (any case), or `{ headers: { authorization } }`. */
function initAuthorization(payload: unknown): unknown {
  if (!payload || typeof payload !== 'object') return undefined;
  const record = payload as Record<string, unknown>;
  const headers = record.headers && typeof record.headers === 'object' ? (record.headers as Record<string, unknown>) : undefined;
  return record.authorization ?? record.Authorization ?? headers?.authorization ?? headers?.Authorization;
}

/**
 * The payments app's GraphQL API (mercurius, on the engine's Fastify), in a
 * scope of its own so that its error handler and decorators stay its own. One
 * LISTEN connection per API process feeds the paymentReceived subscriptions.
 */
export async function paymentsGraphql(app: FastifyInstance, context: AppContext, settings: PaymentsSettings, options: PaymentsGraphqlOptions = {}): Promise<void> {
  const { pool, logger } = context;
  const writesOf = writeLimit(app, context.rateLimitPerKey);
  await app.register(async (scope) => {
    await scope.register(mercurius, {
      schema,
      resolvers: allResolvers(context, settings) as never,
      path: GRAPHQL_PATH,
      graphiql: options.ide ?? process.env.NODE_ENV === 'development',
      queryDepth: MAX_DEPTH,
      validationRules: [fieldBudget],
      errorFormatter: errorFormatter(logger) as never,
      context: async (request) => ({ auth: await authenticateBearer(pool, request.headers.authorization), countWrite: writesOf(request) }),
      subscription: {
        // A native client may send the header on the upgrade request; connection_init's payload, when it has one, wins.
        context: async (_socket, request) => ({ auth: await authenticateBearer(pool, request.headers.authorization), countWrite: writesOf(request) }),
        // Always accepted: without a valid key each subscription fails with UNAUTHENTICATED, a code the client can act on
        // (a refused connection_init would only say "Forbidden").
        onConnect: async ({ payload }) => {
          const authorization = initAuthorization(payload);
          if (authorization === undefined) return true;
          return { auth: (await authenticateBearer(pool, authorization)) satisfies Authentication };
        },
        keepAlive: 30_000,
      },
    });
    const feed = new ReceivedFeed(
      pool,
      (notice) => scope.graphql.pubsub.publish({ topic: receivedTopic(notice.userId), payload: { paymentReceived: receivedOf(notice) } }),
      logger,
      options.feedHeartbeatMs,
    );
    scope.addHook('onClose', () => feed.close());
    await feed.start();
  });
}
