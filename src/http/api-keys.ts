import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { sendProblem } from './problem.js';

/** `lsk_<id>_<secret>`: the id finds the row in logs and support tickets; the secret is never stored. */
const KEY_FORMAT = /^lsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** The engine's own role: it reads every intent. Apps define theirs (`credentials.institution`). */
export const ADMIN_ROLE = 'admin';

/** What a key may do: roles, and an app-defined scope (e.g. the institution it speaks for). */
export interface ApiKeyGrant {
  roles: string[];
  scope?: Record<string, string>;
}

export interface ApiKeyOwner {
  keyId: string;
  roles: string[];
  scope: Record<string, string>;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireKey`. */
    apiKey?: ApiKeyOwner;
  }
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** Creates a key; the key itself is returned once and only its hash is kept. */
export async function createApiKey(pool: pg.Pool, grant: ApiKeyGrant, name: string): Promise<{ id: string; key: string }> {
  const id = randomBytes(6).toString('hex');
  const key = `lsk_${id}_${randomBytes(32).toString('base64url')}`;
  await pool.query('insert into api_keys (id, key_hash, name, roles, scope) values ($1, $2, $3, $4, $5)', [id, hash(key), name, grant.roles, JSON.stringify(grant.scope ?? {})]);
  return { id, key };
}

export async function revokeApiKey(pool: pg.Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('update api_keys set revoked_at = now() where id = $1 and revoked_at is null', [id]);
  return rowCount === 1;
}

/** Who a presented key speaks for, or undefined for a malformed, unknown or revoked key. */
export async function authenticate(pool: pg.Pool, presented: string): Promise<ApiKeyOwner | undefined> {
  if (!KEY_FORMAT.test(presented)) return undefined;
  const { rows } = await pool.query<{ id: string; roles: string[]; scope: Record<string, string> }>(
    'select id, roles, scope from api_keys where key_hash = $1 and revoked_at is null',
    [hash(presented)],
  );
  const row = rows[0];
  return row && { keyId: row.id, roles: row.roles, scope: row.scope, admin: row.roles.includes(ADMIN_ROLE) };
}

/** A preHandler: 401 problem+json unless `Authorization: Bearer <key>` names an active key, which it sets as `request.apiKey`. */
export function requireKey(pool: pg.Pool) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const owner = presented ? await authenticate(pool, presented) : undefined;
    if (!owner) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(request, reply, 401, presented ? 'unknown or revoked API key' : 'an API key is required: Authorization: Bearer lsk_…');
    }
    request.apiKey = owner;
  };
}
