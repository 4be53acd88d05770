import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { IdempotencyConflictError, IntentRejectedError } from '../../../engine/index.js';
import { InvalidAddressError } from '../accounts.js';

/**
 * The codes every error of the payments GraphQL API carries in `extensions.code`.
 * Clients branch on the code, never on the message. The first five are the
 * codes Apollo's clients and servers already use for the same cases.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'GRAPHQL_PARSE_FAILED'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_FUNDS'
  | 'IDEMPOTENCY_CONFLICT'
  | 'CHAIN_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL';

/** An error the API means to show: its message is for the client, its code says what kind. */
export class PaymentsApiError extends Error {
  override name = 'PaymentsApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** graphql-js copies these into the GraphQLError: the code survives paths that skip the formatter (a subscription's start over WebSocket). */
  get extensions(): { code: ErrorCode } {
    return { code: this.code };
  }
}

export const badInput = (message: string) => new PaymentsApiError('BAD_USER_INPUT', message);
export const notFound = (message: string) => new PaymentsApiError('NOT_FOUND', message);
export const forbidden = (message: string) => new PaymentsApiError('FORBIDDEN', message);
export const unauthenticated = (message: string) => new PaymentsApiError('UNAUTHENTICATED', message);

export const INTERNAL_MESSAGE = 'internal error; the request id identifies it in the logs';

/**
 * The sends module's refusals, by name: the API maps them without importing
 * the module's classes (the name is what an error says it is, in this codebase).
 */
const KNOWN_BY_NAME: Record<string, ErrorCode> = {
  InsufficientFundsError: 'INSUFFICIENT_FUNDS',
  InvalidAddressError: 'BAD_USER_INPUT',
  IntentRejectedError: 'BAD_USER_INPUT',
  InvalidSendError: 'BAD_USER_INPUT',
  InvalidSignedTransactionError: 'BAD_USER_INPUT',
  NotCustodialError: 'BAD_USER_INPUT',
  UnknownTokenError: 'BAD_USER_INPUT',
  AccountNotFoundError: 'NOT_FOUND',
  IdempotencyConflictError: 'IDEMPOTENCY_CONFLICT',
  ChainUnavailableError: 'CHAIN_UNAVAILABLE',
  // No gas coin of the platform's free to sponsor a Sui send now (or its dry run failed): retried shortly, it passes.
  SponsorshipError: 'CHAIN_UNAVAILABLE',
};

/** Codes whose errors are shown with a fixed message: theirs may name an RPC endpoint (and its key); it is logged instead. */
const FIXED_MESSAGES: Partial<Record<ErrorCode, string>> = {
  CHAIN_UNAVAILABLE: 'the chain cannot be read now; retry later',
};

/** The code of an error a resolver threw, or undefined when it is not one the client may see (a bug, PostgreSQL down). */
export function codeOf(error: unknown): ErrorCode | undefined {
  if (error instanceof PaymentsApiError) return error.code;
  if (error instanceof InvalidAddressError || error instanceof IntentRejectedError) return 'BAD_USER_INPUT';
  if (error instanceof IdempotencyConflictError) return 'IDEMPOTENCY_CONFLICT';
  if (error instanceof Error && Object.hasOwn(KNOWN_BY_NAME, error.name)) return KNOWN_BY_NAME[error.name];
  return undefined;
}

interface MercuriusValidationError extends Error {
  code?: string;
  statusCode?: number;
  errors?: unknown[];
}

interface FormatterLog {
  error(obj: unknown, msg?: string): void;
}

/**
 * One error as the client sees it: a message and `extensions.code`, nothing
 * else (no stack, no exception object, no SQL). Errors the client caused keep
 * their message; anything else is INTERNAL with a generic message and is
 * logged here, in full, with the request id that the response's
 * `extensions.requestId` repeats.
 */
export function formatError(error: GraphQLError, log: FormatterLog, requestId: string | undefined): GraphQLFormattedError[] {
  const original = error.originalError as MercuriusValidationError | undefined;
  // mercurius wraps parse, validation and variable errors (and query depth) in one MER_ERR_GQL_VALIDATION.
  if (original?.code === 'MER_ERR_GQL_VALIDATION' && Array.isArray(original.errors)) {
    return original.errors.map((inner) => requestError(inner instanceof GraphQLError ? inner : new GraphQLError(String((inner as Error).message ?? inner))));
  }
  if (original === undefined || original instanceof GraphQLError) return [requestError(original ?? error)];
  const code = codeOf(original);
  if (code) {
    const fixed = FIXED_MESSAGES[code];
    if (fixed) log.error({ err: original, path: error.path, requestId }, `payments GraphQL: ${code}`);
    return [shape(error, fixed ?? error.message, code)];
  }
  // Fastify's and mercurius' own refusals of the HTTP request (malformed JSON, GET for a mutation, media type).
  if (!error.path && typeof original.statusCode === 'number' && original.statusCode >= 400 && original.statusCode < 500) {
    return [shape(error, error.message, 'BAD_REQUEST')];
  }
  log.error({ err: original, path: error.path, requestId }, 'payments GraphQL: internal error');
  return [{ message: INTERNAL_MESSAGE, ...(error.path ? { path: error.path } : {}), extensions: { code: 'INTERNAL', ...(requestId ? { requestId } : {}) } }];
}

/** A GraphQLError graphql-js raised itself: a syntax error, a document the schema refuses, a variable of the wrong type. */
function requestError(error: GraphQLError): GraphQLFormattedError {
  if (error.message.startsWith('Syntax Error')) return shape(error, error.message, 'GRAPHQL_PARSE_FAILED');
  // Variables are input: a wrong type or a missing required one is the user's input, as in Apollo.
  if (error.message.startsWith('Variable "$')) return shape(error, error.message, 'BAD_USER_INPUT');
  // A non-null field that resolved to null, raised while executing: our bug, never the client's.
  if (error.path) return shape(error, INTERNAL_MESSAGE, 'INTERNAL');
  return shape(error, error.message, 'GRAPHQL_VALIDATION_FAILED');
}

function shape(error: GraphQLError, message: string, code: ErrorCode): GraphQLFormattedError {
  return {
    message,
    ...(error.locations ? { locations: error.locations } : {}),
    ...(error.path ? { path: error.path } : {}),
    extensions: { code },
  };
}

/**
 * mercurius' errorFormatter: every error formatted as above. The status is 200
 * whenever the operation was executed (data present, even null: the errors are
 * in the body, as the GraphQL-over-HTTP spec says for application/json, and as
 * Apollo Client and urql expect: a 4xx would surface as a network error, its
 * codes hidden), and 400 when the request was not a GraphQL request the schema
 * accepts (syntax, validation, variables, a malformed body), as mercurius does.
 */
export function errorFormatter(logFallback: FormatterLog) {
  return (execution: ExecutionResult & { statusCode?: number }, context: { reply?: { log: FormatterLog; request: { id: string } } }) => {
    const log = context.reply?.log ?? logFallback;
    const requestId = context.reply?.request.id;
    const errors = (execution.errors ?? []).flatMap((e) => formatError(e, log, requestId));
    const executed = execution.data !== undefined;
    const statusCode = executed ? 200 : errors.some((e) => e.extensions?.code === 'INTERNAL') ? 500 : 400;
    return { statusCode, response: { data: execution.data ?? null, errors } };
  };
}
