/**
 * A grpc-web server on node:http, speaking what @protobuf-ts/grpcweb-transport (the SDK's
 * transport) sends: POST /<package.Service>/<Method>, `application/grpc-web+proto` or
 * `application/grpc-web-text` (base64, the transport's default), each message in a 5-byte
 * framed envelope (flag 0x00 data, 0x80 trailers; 4-byte big-endian length), the status in
 * `grpc-status` / `grpc-message` trailers, or in the headers of a trailers-only reply.
 * Messages are decoded and encoded with the SDK's own generated message types.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MethodInfo, ServiceType } from '@protobuf-ts/runtime-rpc';
import { GrpcStatusCode, RpcFailure } from './errors.js';
import type { FaultInjector } from './faults.js';

export interface StreamSink<O> {
  /** Sends one message; resolves once the socket can take more (backpressure). */
  send(message: O): Promise<void>;
  /** Aborted when the client goes away or a fault drops the stream. */
  signal: AbortSignal;
}

export type Handler =
  | { kind: 'unary'; method: MethodInfo; handle: (request: object) => Promise<object> | object }
  | { kind: 'stream'; method: MethodInfo; handle: (request: object, sink: StreamSink<object>) => Promise<void> };

function methodOf(service: ServiceType, name: string): MethodInfo {
  const method = service.methods.find((m) => m.name === name);
  if (!method) throw new Error(`${service.typeName} has no method ${name}`);
  return method;
}

/** A unary method of one of the SDK's services, by its .proto name. */
export function unary<I extends object, O extends object>(service: ServiceType, name: string, handle: (request: I) => Promise<O> | O): Handler {
  const method = methodOf(service, name);
  if (method.serverStreaming) throw new Error(`${name} is a streaming method`);
  return { kind: 'unary', method, handle: handle as (request: object) => Promise<object> | object };
}

export function serverStream<I extends object, O extends object>(service: ServiceType, name: string, handle: (request: I, sink: StreamSink<O>) => Promise<void>): Handler {
  const method = methodOf(service, name);
  if (!method.serverStreaming) throw new Error(`${name} is not a streaming method`);
  return { kind: 'stream', method, handle: handle as (request: object, sink: StreamSink<object>) => Promise<void> };
}

const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const DATA = 0x00;
const TRAILER = 0x80;

function frame(flag: number, payload: Uint8Array, text: boolean): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = flag;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  // In text mode each frame is base64 on its own: the client decodes padded chunks in sequence.
  return text ? Buffer.from(out.toString('base64')) : out;
}

function trailerBlock(code: GrpcStatusCode, message: string): Uint8Array {
  return Buffer.from(`grpc-status:${code}\r\ngrpc-message:${encodeURIComponent(message)}\r\n`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw new RpcFailure(GrpcStatusCode.RESOURCE_EXHAUSTED, 'request too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseRequest(body: Buffer, text: boolean): Uint8Array {
  const bytes = text ? Buffer.from(body.toString('latin1'), 'base64') : body;
  if (bytes.length < 5 || bytes[0] !== DATA) throw new RpcFailure(GrpcStatusCode.INVALID_ARGUMENT, 'expected one uncompressed grpc-web data frame');
  const length = bytes.readUInt32BE(1);
  if (bytes.length < 5 + length) throw new RpcFailure(GrpcStatusCode.INVALID_ARGUMENT, 'truncated grpc-web frame');
  return bytes.subarray(5, 5 + length);
}

export interface GrpcWebServer {
  url: string;
  /** Calls received, by method name. */
  calls: Record<string, number>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startGrpcWebServer(handlers: Handler[], faults: FaultInjector, port = 0): Promise<GrpcWebServer> {
  const routes = new Map(handlers.map((h) => [`/${h.method.service.typeName}/${h.method.name}`, h]));
  const calls: Record<string, number> = {};
  const sockets = new Set<Socket>();

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const text = contentType.startsWith('application/grpc-web-text');
    const replyType = text ? 'application/grpc-web-text' : 'application/grpc-web+proto';
    // A failure before the first message goes in the headers: gRPC's trailers-only reply.
    const failEarly = (code: GrpcStatusCode, message: string) => {
      if (res.headersSent) return void res.end(frame(TRAILER, trailerBlock(code, message), text));
      res.writeHead(200, { 'content-type': replyType, 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) });
      res.end();
    };
    if (req.method !== 'POST' || !contentType.startsWith('application/grpc-web')) {
      res.writeHead(415, { 'content-type': 'text/plain' }).end('grpc-web only');
      return;
    }
    const handler = routes.get(req.url ?? '');
    const name = handler?.method.name ?? (req.url ?? '').split('/').pop() ?? '';
    calls[name] = (calls[name] ?? 0) + 1;
    try {
      const body = await readBody(req);
      if (!handler) throw new RpcFailure(GrpcStatusCode.UNIMPLEMENTED, `method ${req.url} is not simulated`);
      const request = handler.method.I.fromBinary(parseRequest(body, text)) as object;
      const plan = faults.for(name);
      if (plan.latencyMs) {
        faults.count('latency');
        await sleep(plan.latencyMs);
      }
      if (faults.roll('unavailable', plan.unavailableRate)) throw new RpcFailure(GrpcStatusCode.UNAVAILABLE, 'service unavailable (injected)');
      if (faults.roll('internal', plan.internalRate)) throw new RpcFailure(GrpcStatusCode.INTERNAL, 'internal error (injected)');
      if (handler.kind === 'unary') {
        const response = await handler.handle(request);
        if (faults.roll('failAfter', plan.failAfterRate)) throw new RpcFailure(GrpcStatusCode.UNAVAILABLE, 'connection lost after the call was handled (injected)');
        res.writeHead(200, { 'content-type': replyType });
        res.write(frame(DATA, handler.method.O.toBinary(response), text));
        res.end(frame(TRAILER, trailerBlock(GrpcStatusCode.OK, ''), text));
        return;
      }
      await stream(handler, request, res, text, replyType, plan, faults);
    } catch (error) {
      if (res.destroyed) return;
      if (error instanceof RpcFailure) failEarly(error.code, error.message);
      else failEarly(GrpcStatusCode.INTERNAL, `simulator error: ${(error as Error).message}`);
    }
  };

  const server: Server = createServer((req, res) => void serve(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    calls,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when the socket takes more data, or closes; leaves no listener behind. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

async function stream(handler: Extract<Handler, { kind: 'stream' }>, request: object, res: ServerResponse, text: boolean, replyType: string, plan: ReturnType<FaultInjector['for']>, faults: FaultInjector) {
  const abort = new AbortController();
  let sent = 0;
  let dropped = false;
  const drop = () => {
    if (dropped || res.destroyed) return;
    dropped = true;
    faults.count('drop');
    abort.abort(new Error('dropped (injected)'));
    if (plan.dropAs === 'reset') res.destroy();
    else res.end(frame(TRAILER, trailerBlock(GrpcStatusCode.UNAVAILABLE, 'stream dropped (injected)'), text));
  };
  res.on('close', () => abort.abort(new Error('client went away')));
  const timer = plan.dropAfterMs === undefined ? undefined : setTimeout(drop, plan.dropAfterMs);
  const sink: StreamSink<object> = {
    signal: abort.signal,
    send: async (message) => {
      if (abort.signal.aborted) throw abort.signal.reason;
      if (!res.headersSent) res.writeHead(200, { 'content-type': replyType });
      const ok = res.write(frame(DATA, handler.method.O.toBinary(message), text));
      sent++;
      if (plan.dropAfterMessages !== undefined && sent >= plan.dropAfterMessages) drop();
      else if (!ok) await drained(res);
    },
  };
  try {
    await handler.handle(request, sink);
    if (abort.signal.aborted) return;
    if (!res.headersSent) res.writeHead(200, { 'content-type': replyType });
    res.end(frame(TRAILER, trailerBlock(GrpcStatusCode.OK, ''), text));
  } catch (error) {
    if (abort.signal.aborted) return;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
