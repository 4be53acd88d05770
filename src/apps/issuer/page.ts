import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { contentSecurityPolicy, packageRoot } from '../../engine/index.js';

/**
 * The compliance officers' review page (`/review`): the queue of submitted
 * campaigns and held investments with their decisions, one static page over the
 * API. The officer's key is asked for in the page and kept in its tab only; the
 * page itself is public, everything it shows comes from the API behind that key.
 */
export async function reviewPage(app: FastifyInstance): Promise<void> {
  const html = readFileSync(join(packageRoot, 'web', 'review.html'), 'utf8');
  const csp = contentSecurityPolicy(html);
  app.get('/review', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', csp).send(html));
}
