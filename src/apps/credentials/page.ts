import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { packageRoot } from '../../runtime/paths.js';
import { routeSchema } from '../../http/zod.js';
import { problemSchema } from '../../http/problem.js';

const idParams = z.object({ id: z.string().regex(/^[1-9]\d{0,76}$/, 'expected a credential id (a positive integer)') });

/**
 * The public verification page (`/`, and `/verify/:id` as a link to share) and
 * the QR code of that link. The page computes the document's SHA-256 in the
 * browser and sends only that: the file never leaves it.
 */
export async function verificationPage(app: FastifyInstance): Promise<void> {
  const html = readFileSync(join(packageRoot, 'web', 'verify.html'), 'utf8');
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get('/verify/:id', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get(
    '/verify/:id/qr.svg',
    { schema: { summary: 'QR code (SVG) of the shareable verification link', tags: ['credentials'], params: routeSchema(idParams), response: { 400: problemSchema } } },
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      const link = `${request.protocol}://${request.host}/verify/${id}`;
      return reply.type('image/svg+xml').send(await QRCode.toString(link, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }));
    },
  );
}
