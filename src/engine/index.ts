/**
 * The engine as apps see it: everything an app may use, and the only module of
 * the engine an app imports (test/layering.test.ts holds every app to that).
 */
export type { LedgersyncApp, AppContext, CommandContext, CommandPorts, ContractDefinition, Schedule, EvmChainReader, SuiChainReader, ChainReaders, TaskPorts } from './app.js';
export { defineConfig, environmentChain, evmChain, suiChain, type ProjectDefinition, type EvmChainInput, type SuiChainInput } from './config.js';

// What chains give: events, keyed by chain.
export type { ChainKey, ChainEvent, JsonValue, Source } from '../core/chain.js';
export type { Projection, ProjectionStore } from '../core/indexer/types.js';
export { journalAgainstBlock } from '../core/indexer/projections.js';
export { evmSource, evmFactorySource, evmIntent } from '../chain/evm/app.js';
export { suiSource, suiIntent } from '../chain/sui/app.js';
export type { SuiFunction, SuiParameter } from '../chain/sui/relayer/call.js';

// What apps send: intents through the outbox, and their outcome.
export type { IntentKind, IntentPorts, SettledIntent, DecodedEvent, IntentError } from '../core/relayer/types.js';
export { IntentRejectedError, IdempotencyConflictError, type Outbox, type SubmitIntent, type SubmittedIntent, type SignedSubmission } from '../core/relayer/outbox.js';
// Transactions users sign on their device: on Sui, the platform may pay their gas from its signer's gas coin pool.
export { sponsorTransaction, SponsorshipError, type SponsorRequest, type SponsoredTransaction } from '../chain/sui/relayer/sponsor.js';

// HTTP: problem+json, zod schemas, input checks, API keys, write routes.
export { sendProblem, problemSchema } from '../http/problem.js';
export { routeSchema } from '../http/zod.js';
export { contentSecurityPolicy } from '../http/csp.js';
export { bigintId, positiveUint256, storableText, bytes32Text, evmAddress } from '../http/inputs.js';
export { requireKey, authenticate, createApiKey, revokeApiKey, ADMIN_ROLE, type ApiKeyOwner, type ApiKeyGrant } from '../http/api-keys.js';
export { intentWrites } from '../core/relayer/writes.js';
export { perKeyLimit, type CountKeyWrite, type KeyLimitExceeded } from '../http/key-limit.js';
// Signed webhooks: the scheme the relayer's webhooks use (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).
export { signWebhook, verifyWebhook } from '../core/relayer/webhooks.js';

// PostgreSQL.
export { inTransaction } from '../db/transaction.js';
export type { CoherentCache } from '../db/coherent-cache.js';
// A LISTEN that knows when it is deaf (heartbeats through the channel), for apps' live feeds.
export { ChannelListener, type ChannelListenerOptions, type ListenerMessages } from '../db/channel-listener.js';
export { packageRoot } from '../runtime/paths.js';

// Keeping secrets out of logs and errors.
export { redactUrl } from '../runtime/redact.js';
export type { Logger } from '../runtime/logger.js';

// Metrics: the process's one Prometheus registry (served at /metrics), for apps' own counters.
export { metrics } from '../runtime/metrics.js';
