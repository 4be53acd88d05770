import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { contentSecurityPolicy, packageRoot, problemSchema, routeSchema, sendProblem } from '../../engine/index.js';
import { credentialId } from './inputs.js';

const idParams = z.object({ id: credentialId });

/**
 * The public verification page (`/`, and `/verify/:id` as a link to share) and
 * the QR code of that link. The page computes the document's SHA-256 in the
 * browser and sends only that: the file never leaves it.
 */
export async function verificationPage(app: FastifyInstance, publicUrl?: string): Promise<void> {
  const html = readFileSync(join(packageRoot, 'web', 'verify.html'), 'utf8');
  const csp = contentSecurityPolicy(html);
  const page = async (_request: FastifyRequest, reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('content-security-policy', csp).send(html);
  app.get('/', { schema: { hide: true } }, page);
  app.get('/verify/:id', { schema: { hide: true } }, page);
  app.get(
    '/verify/:id/qr.svg',
    { schema: { summary: 'QR code (SVG) of the shareable verification link', tags: ['credentials'], params: routeSchema(idParams), response: { 400: problemSchema } } },
    async (request, reply) => {
      const { id } = idParams.parse(request.params);
      // PUBLIC_URL when set: behind a proxy, the Host header is the proxy's business.
      const origin = publicUrl ?? requestOrigin(request);
      if (!origin) return sendProblem(request, reply, 400, "the Host header (or a trusted proxy's X-Forwarded-Host and -Proto) does not name an http(s) host and port to link to; PUBLIC_URL fixes the links' origin");
      const link = `${origin}/verify/${id}`;
      return reply.type('image/svg+xml').send(await QRCode.toString(link, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }));
    },
  );
}

/**
 * A host name or IP literal, and a port: nothing else may go into a link (an
 * arbitrary header could also make the link too long for a QR code).
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/;

/** The origin the request was sent to, if its headers name one that a link can be built from. */
function requestOrigin(request: FastifyRequest): string | undefined {
  const { protocol, host } = request;
  return (protocol === 'http' || protocol === 'https') && HOST.test(host) ? `${protocol}://${host}` : undefined;
}
