import type { Socket } from 'node:net';
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem.js';

/**
 * Errors found before a request reaches a route, answered in problem+json like
 * every other error: Fastify's (a path that does not decode, a path segment too
 * long) and Node's, which never reach Fastify at all (malformed HTTP, headers
 * over the size limit, a timeout, an Expect header nobody can meet).
 */

/** The longest path parameter the router accepts; a longer one is a 414. */
export const MAX_PARAM_LENGTH = 100;

/** Fastify's `frameworkErrors`: the router's refusals. */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return sendProblem(request, reply, 400, 'the path is not valid percent-encoded UTF-8');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendProblem(request, reply, 414, `a path segment is longer than ${MAX_PARAM_LENGTH} characters`);
    default:
      // Async route constraints, which no route here has.
      request.log.error({ err: error }, 'router error');
      return sendProblem(request, reply, 500, 'internal error; the request id identifies it in the logs');
  }
}

/** Node's `clientError`: the request could not be parsed, so there is no request to answer; the socket gets the problem and is closed. */
export function clientError(error: ConnectionError, socket: Socket): void {
  // The client is gone: nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, `the request line and headers exceed ${maxHeaderSize} bytes`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request was not received in time']
        : [400, `not a valid HTTP/1.1 request (${error.code ?? error.message})`];
  const body = problemJson(status, detail);
  // No body to a HEAD: its client would take it for a broken next response. Unparsed, the request's
  // method is read off the packet (which starts with it when the client wrote the request at once).
  const packet: unknown = error.rawPacket;
  const head = Buffer.isBuffer(packet) && packet.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  }
  socket.destroy(error);
}

/** RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400 (Node's own answer to it has no body, so Node is told not to check). */
export async function requireHost(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) return sendProblem(request, reply, 400, 'an HTTP/1.1 request needs a Host header');
}

/** Node's `checkExpectation`: an Expect header other than 100-continue, which Node would refuse with a bare 417. */
export function unmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = problemJson(417, `cannot meet Expect: ${request.headers.expect}`);
  response.writeHead(417, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }).end(body);
}

function problemJson(status: number, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail });
}
