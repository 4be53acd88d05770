import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { INTENT_STATES } from './schema.js';
import { sendProblem, problemSchema } from '../../http/problem.js';
import { routeSchema } from '../../http/zod.js';
import { bigintId, storableText } from '../../http/inputs.js';
import { requireKey, type ApiKeyOwner } from '../../http/api-keys.js';

const idParams = z.object({ id: bigintId('expected an intent id (a positive integer up to 9223372036854775807)') });
const listQuery = z.object({
  state: z.enum(INTENT_STATES).optional(),
  kind: storableText(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** The `nextCursor` of the previous page. */
  cursor: bigintId('expected the nextCursor of a previous page').optional(),
});

const transactionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'the transaction hash (EVM) or digest' },
    sequence: { type: ['string', 'null'], description: 'the nonce on EVM' },
    status: { type: 'string', enum: ['signed', 'sent', 'mined', 'replaced'] },
    fees: { type: 'object', additionalProperties: { type: 'string' }, description: 'EVM: maxFeePerGas and maxPriorityFeePerGas, or gasPrice (wei)' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const handlerCallSchema = {
  type: 'object',
  description: 'an app handler that threw and will be called again',
  properties: {
    hook: { type: 'string', enum: ['onConfirmed', 'onFailed', 'onReorged'] },
    attempts: { type: 'integer', description: 'failed calls so far (0: waiting behind an earlier hook of this intent)' },
    error: { type: ['object', 'null'], additionalProperties: true },
    nextAttemptAt: { type: 'string', format: 'date-time' },
  },
} as const;

const intentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    idempotencyKey: { type: 'string' },
    kind: { type: 'string' },
    state: { type: 'string', enum: [...INTENT_STATES] },
    chain: { type: 'string', description: 'the chain key, e.g. evm:137' },
    signer: { type: 'string', description: 'the platform account that signs it, or that sends (and on Sui may sponsor) a transaction the user signed' },
    sender: { type: ['string', 'null'], description: 'the user who signed the transaction on their device; null when the platform signs' },
    contract: { type: ['string', 'null'] },
    target: { type: 'string', description: 'the contract called' },
    functionName: { type: 'string' },
    args: {},
    sequence: { type: ['string', 'null'], description: 'the nonce on EVM' },
    transactionId: { type: ['string', 'null'], description: 'the mined transaction, whichever of those sent won' },
    blockNumber: { type: ['string', 'null'] },
    blockHash: { type: ['string', 'null'] },
    receipt: { type: ['object', 'null'], additionalProperties: true },
    events: { type: ['array', 'null'], items: { type: 'object', additionalProperties: true } },
    error: { type: ['object', 'null'], additionalProperties: true },
    reorgs: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

/**
 * Whose intents a key reads: an admin key every intent, any other key those it
 * submitted (null: no restriction). Arguments, errors and idempotency keys are
 * the submitter's business.
 */
const submitterFilter = (owner: ApiKeyOwner): string | null => (owner.admin ? null : owner.keyId);

/** GET /api/tx/:id and GET /api/tx: where the outbox's intents stand, read from PostgreSQL only; an API key is needed. */
export async function intentRoutes(app: FastifyInstance, pool: pg.Pool): Promise<void> {
  const authenticated = requireKey(pool);
  app.get(
    '/api/tx/:id',
    {
      preHandler: authenticated,
      schema: {
        summary: 'One intent: its state, every transaction hash sent, the receipt, decoded events and error (API key: its own intents; admin key: all)',
        tags: ['transactions'],
        security: [{ apiKey: [] }],
        params: routeSchema(idParams),
        response: {
          200: {
            ...intentSchema,
            properties: { ...intentSchema.properties, transactions: { type: 'array', items: transactionSchema }, pendingHandlers: { type: 'array', items: handlerCallSchema } },
          },
          400: problemSchema,
          401: problemSchema,
          404: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      const { rows } = await pool.query<IntentRow>(`${INTENT_COLUMNS} where id = $1 and ($2::text is null or submitted_by = $2)`, [id, submitterFilter(request.apiKey!)]);
      // Another key's intent is not found either: its existence is not revealed.
      if (!rows[0]) return sendProblem(request, reply, 404, `no intent ${id}`);
      const { rows: txs } = await pool.query<{ id: string; sequence: string | null; status: string; fees: Record<string, string>; created_at: Date }>(
        `select id, sequence::text, status, fees, created_at from relayer_transactions where intent_id = $1 order by created_at, id`,
        [id],
      );
      const { rows: handlers } = await pool.query<{ hook: string; attempts: number; error: unknown; next_attempt_at: Date }>(
        'select hook, attempts, error, next_attempt_at from relayer_handler_calls where intent_id = $1 order by id',
        [id],
      );
      return {
        ...toIntent(rows[0]),
        transactions: txs.map((t) => ({ id: t.id, sequence: t.sequence, status: t.status, fees: t.fees, createdAt: t.created_at.toISOString() })),
        pendingHandlers: handlers.map((h) => ({ hook: h.hook, attempts: h.attempts, error: h.error, nextAttemptAt: h.next_attempt_at.toISOString() })),
      };
    },
  );

  app.get(
    '/api/tx',
    {
      preHandler: authenticated,
      schema: {
        summary: 'Intents, newest first, filtered by state and kind; cursor pagination (API key: its own intents; admin key: all)',
        tags: ['transactions'],
        security: [{ apiKey: [] }],
        querystring: routeSchema(listQuery),
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: intentSchema }, nextCursor: { type: ['string', 'null'] } } },
          400: problemSchema,
          401: problemSchema,
        },
      },
    },
    async (request) => {
      const query = listQuery.parse(request.query);
      const { rows } = await pool.query<IntentRow>(
        `${INTENT_COLUMNS}
         where ($1::text is null or state = $1) and ($2::text is null or kind = $2) and ($3::bigint is null or id < $3)
           and ($5::text is null or submitted_by = $5)
         order by id desc limit $4`,
        [query.state ?? null, query.kind ?? null, query.cursor ?? null, query.limit + 1, submitterFilter(request.apiKey!)],
      );
      const page = rows.slice(0, query.limit);
      return { items: page.map(toIntent), nextCursor: rows.length > query.limit ? String(page.at(-1)!.id) : null };
    },
  );
}

const INTENT_COLUMNS = `select id, idempotency_key, kind, state, chain, signer, sender, contract, target, function_name, args, sequence,
  transaction_id, block_number, block_hash, receipt, events, error, reorgs, created_at, updated_at from relayer_intents`;

interface IntentRow {
  id: bigint;
  idempotency_key: string;
  kind: string;
  state: string;
  chain: string;
  signer: string;
  sender: string | null;
  contract: string | null;
  target: string;
  function_name: string;
  args: unknown;
  sequence: bigint | null;
  transaction_id: string | null;
  block_number: bigint | null;
  block_hash: string | null;
  receipt: unknown;
  events: unknown;
  error: unknown;
  reorgs: number;
  created_at: Date;
  updated_at: Date;
}

function toIntent(row: IntentRow) {
  return {
    id: String(row.id),
    idempotencyKey: row.idempotency_key,
    kind: row.kind,
    state: row.state,
    chain: row.chain,
    signer: row.signer,
    sender: row.sender,
    contract: row.contract,
    target: row.target,
    functionName: row.function_name,
    args: row.args,
    sequence: row.sequence === null ? null : String(row.sequence),
    transactionId: row.transaction_id,
    blockNumber: row.block_number === null ? null : String(row.block_number),
    blockHash: row.block_hash,
    receipt: row.receipt,
    events: row.events,
    error: row.error,
    reorgs: row.reorgs,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
