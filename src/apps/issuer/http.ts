import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import { ADMIN_ROLE, IntentRejectedError, bigintId, evmAddress, inTransaction, positiveUint256, storableText } from '../../engine/index.js';
import { IllegalTransitionError, actAs } from './state.js';

/** API key roles of the platform (an admin key may do everything). */
export const COMPLIANCE_ROLE = 'issuer.compliance';
/** A company's own users: scope `{ company: "<id>" }`. */
export const COMPANY_ROLE = 'issuer.company';
/** An investor: scope `{ investor: "<id>" }`. */
export const INVESTOR_ROLE = 'issuer.investor';

/** A refusal with its HTTP status: the server's error handler turns it into problem+json. */
export class Refusal extends Error {
  override name = 'Refusal';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const id = bigintId('expected a positive integer id');
export const idParams = z.object({ id });
export const address = evmAddress;
export const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hex hash')
  .refine((h) => !/^0x0{64}$/.test(h), 'must not be zero')
  .transform((h) => h.toLowerCase());
export const amount = positiveUint256('expected a positive whole amount as decimal digits (at most a uint256)');
export const reason = storableText(2000, 1);
export const decisionBody = z.object({ reason }).strict();
export const page = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: id.optional().describe('the nextCursor of the previous page'),
});

export const isAdmin = (request: FastifyRequest) => request.apiKey!.roles.includes(ADMIN_ROLE);
export const isOfficer = (request: FastifyRequest) => isAdmin(request) || request.apiKey!.roles.includes(COMPLIANCE_ROLE);
/** The company a company user's key speaks for, if it is one. */
export const companyOf = (request: FastifyRequest) => (request.apiKey!.roles.includes(COMPANY_ROLE) ? request.apiKey!.scope.company : undefined);
export const investorOf = (request: FastifyRequest) => (request.apiKey!.roles.includes(INVESTOR_ROLE) ? request.apiKey!.scope.investor : undefined);
export const actorOf = (request: FastifyRequest) => `key:${request.apiKey!.keyId}`;

export function requireOfficer(request: FastifyRequest): void {
  if (!isOfficer(request)) throw new Refusal(403, 'this needs a compliance officer key (or an admin key)');
}

/**
 * Runs a business action in one transaction as the request's key, turning what
 * the database refuses into 4xx: an illegal transition and the exclusivity lock
 * are 409s, a reference to a missing row a 404, a failed check a 422.
 */
export function act<T>(pool: pg.Pool, request: FastifyRequest, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await actAs(client, actorOf(request));
    return work(client);
  }).catch((error: unknown) => {
    throw refusalFor(error);
  });
}

const CONSTRAINTS: Record<string, string> = {
  campaigns_one_open_per_company: 'the company already has an open campaign (draft, submitted, approved, deploying, active or closing): one at a time',
  campaigns_one_per_company_per_year: 'the company already has a campaign this calendar year: one per year',
  companies_wallet_key: 'a company with this wallet is already registered',
  investors_wallet_key: 'an investor with this wallet is already registered',
  vc_links_credential_hash_subject_key: 'this credential is already linked to this subject',
};

function refusalFor(error: unknown): unknown {
  if (error instanceof IllegalTransitionError) return new Refusal(409, error.message);
  // The outbox cannot take the write here (no deployment recorded, no signer): nothing was stored.
  if (error instanceof IntentRejectedError) return new Refusal(503, `the chain write cannot be accepted now, nothing was stored: ${error.message}`);
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code === '23505') return new Refusal(409, CONSTRAINTS[constraint ?? ''] ?? `already exists (${constraint})`);
  if (code === '23503') return new Refusal(404, `a referenced row does not exist (${constraint})`);
  if (code === '23514') return new Refusal(422, `refused by the check ${constraint}`);
  return error;
}
