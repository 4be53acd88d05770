/**
 * A fault-injecting JSON-RPC proxy for tests.
 *
 * It is a real HTTP server in front of the run's real anvil, so the indexer meets the
 * failures hosted providers produce (JSON-RPC errors, 5xx, 429, hung and cut-off replies,
 * eth_getLogs range limits) through the same HTTP stack it uses in production.
 * Every random decision comes from a seeded PRNG so a failing run can be replayed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultPlan {
  seed?: number; // default 1
  /** Methods eligible for faults; default: all except eth_chainId. */
  methods?: string[];
  /** Answer a JSON-RPC error { code: -32000, message: 'internal error (injected)' } with HTTP 200. */
  errorRate?: number;
  /** HTTP 500/502/503 with a short text body. */
  serverErrorRate?: number;
  /** HTTP 429 with `Retry-After: 0` and a JSON-RPC-style error body. */
  rateLimitRate?: number;
  /** Hold the request without answering for `timeoutMs`, then destroy the socket. */
  timeoutRate?: number;
  timeoutMs?: number; // default 15000
  /** Forward upstream, then send the full Content-Length but only half the body and cut the socket. */
  truncateRate?: number;
  /**
   * eth_getLogs only: when toBlock - fromBlock + 1 > maxLogRange, answer the error real providers give.
   * Applies whatever `methods` says: it models a provider's policy, not a random fault.
   */
  maxLogRange?: number;
  /** Which provider's wording to use for range errors; cycle through all when 'mixed' (default 'mixed'). */
  rangeErrorStyle?: 'alchemy' | 'infura' | 'quicknode' | 'generic' | 'mixed';
  /** Delay every forwarded request by this much: a slow node, to widen race windows in tests. */
  latencyMs?: number;
  /**
   * eth_blockNumber only: answer a head up to this many blocks below upstream's, at random, as a
   * provider behind a load balancer does when some of its nodes lag. Applies whatever `methods` says.
   */
  headLag?: number;
  /** The least lag drawn (default 0): equal to headLag for a node that is always that far behind. */
  headLagMin?: number;
  /**
   * A request (or batch) with a call of these methods is forwarded upstream, then never answered (held
   * like 'timeout'): a node that took the transaction but whose reply was lost. Applies whatever `methods` says.
   */
  swallowReplies?: string[];
  /** Keep the params of every call of these methods (see `recorded`), e.g. to see which eth_getLogs filters a client sent. */
  record?: string[];
}

export interface RecordedCall {
  method: string;
  params: unknown;
}

export type FaultKind = 'error' | 'serverError' | 'rateLimit' | 'timeout' | 'truncate' | 'range' | 'lag' | 'swallow';

export interface ProxyStats {
  /** HTTP requests received. */
  requests: number;
  /** HTTP requests sent upstream on a client's behalf (tag lookups for range checks are not counted). */
  forwarded: number;
  /** Faults produced, by kind: per JSON-RPC element for 'error' and 'range', per HTTP request otherwise. */
  injected: Record<string, number>;
  /** JSON-RPC calls received, by method (each element of a batch counts). */
  byMethod: Record<string, number>;
}

export interface RpcProxy {
  url: string;
  /** Change faults at run time; also re-seeds the PRNG and restarts the 'mixed' style cycle. */
  setPlan(plan: FaultPlan): void;
  stats(): ProxyStats;
  /** The calls of the methods the plan records, in the order received (whatever faults they then met). */
  recorded(): RecordedCall[];
  /** Closes the server and destroys any held sockets. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
// Bounds so a misbehaving upstream or client cannot hang or bloat a test run.
const UPSTREAM_TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const SERVER_ERROR_STATUSES = [500, 502, 503] as const;
const RANGE_STYLES = ['alchemy', 'infura', 'quicknode', 'generic'] as const;
type RangeStyle = (typeof RANGE_STYLES)[number];
const HEAD_TAGS = new Set(['latest', 'pending', 'safe', 'finalized']);
const INJECTED_ERROR: RpcError = { code: -32000, message: 'internal error (injected)' };

interface RpcError {
  code: number;
  message: string;
}
interface RpcMessage {
  id?: unknown;
  method?: unknown;
  params?: unknown;
}
interface RpcReply {
  jsonrpc: '2.0';
  id: unknown;
  result?: unknown;
  error?: RpcError;
}
type HttpFault = { kind: 'serverError'; status: number } | { kind: 'rateLimit' } | { kind: 'timeout' } | { kind: 'truncate' };
interface UpstreamReply {
  status: number;
  contentType: string;
  body: Buffer;
}

/** mulberry32: a tiny 32-bit PRNG, good enough to spread faults and fully determined by its seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function startRpcProxy(upstream: string, plan: FaultPlan = {}): Promise<RpcProxy> {
  const proxy = new FaultProxy(upstream, plan);
  await proxy.listen();
  return proxy;
}

class FaultProxy implements RpcProxy {
  url = '';
  private plan: FaultPlan = {};
  private random: () => number = mulberry32(1);
  private rangeCursor = 0;
  private counters = { requests: 0, forwarded: 0, injected: {} as Record<string, number>, byMethod: {} as Record<string, number> };
  private readonly calls: RecordedCall[] = [];
  private readonly held = new Set<{ timer: ReturnType<typeof setTimeout>; res: ServerResponse }>();
  // Aborts in-flight upstream calls on close(), so close() never waits on anvil.
  private readonly closing = new AbortController();
  private readonly server: Server;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly upstream: string,
    plan: FaultPlan,
  ) {
    this.setPlan(plan);
    this.server = createServer((req, res) => void this.handle(req, res));
    // A client that sends garbage should not crash the test process.
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const { port } = this.server.address() as AddressInfo;
        this.url = `http://127.0.0.1:${port}`;
        resolve();
      });
    });
  }

  setPlan(plan: FaultPlan): void {
    this.plan = { ...plan, methods: plan.methods ? [...plan.methods] : undefined, record: plan.record ? [...plan.record] : undefined, swallowReplies: plan.swallowReplies ? [...plan.swallowReplies] : undefined };
    this.random = mulberry32(plan.seed ?? 1);
    this.rangeCursor = 0;
  }

  stats(): ProxyStats {
    const { requests, forwarded, injected, byMethod } = this.counters;
    return { requests, forwarded, injected: { ...injected }, byMethod: { ...byMethod } };
  }

  recorded(): RecordedCall[] {
    return [...this.calls];
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing.abort();
      for (const hold of this.held) {
        clearTimeout(hold.timer);
        hold.res.destroy();
      }
      this.held.clear();
      this.server.close(() => resolve());
      // Idle keep-alive connections would otherwise keep close() waiting.
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST') return sendText(res, 405, 'only POST is proxied');
      const body = await readBody(req);
      if (body === undefined) return sendText(res, 413, 'request body too large');
      this.counters.requests++;
      await this.route(body, res);
    } catch (err) {
      if (this.closing.signal.aborted) return void res.destroy();
      if (!res.headersSent) return sendText(res, 502, `proxy error: ${(err as Error).message}`);
      res.destroy();
    }
  }

  private async route(body: Buffer, res: ServerResponse): Promise<void> {
    const parsed = parseJson(body);
    // Not JSON-RPC we understand: let upstream give its own answer, untouched.
    if (parsed === undefined || (Array.isArray(parsed) && parsed.length === 0) || !isObjectOrArray(parsed)) {
      return this.passThrough(body, res);
    }
    const batch = Array.isArray(parsed);
    const messages = (batch ? parsed : [parsed]).map(asMessage);
    for (const message of messages) this.countMethod(message);
    // The whole request (batch) is lost with its reply: the swallowed call took effect, the others did too.
    if (messages.some((m) => typeof m.method === 'string' && this.plan.swallowReplies?.includes(m.method))) {
      await this.forward(body);
      this.countFault('swallow');
      return this.hold(res);
    }

    // Every PRNG draw happens here, synchronously, so concurrent requests cannot reorder them.
    const httpFault = this.drawHttpFault(messages);
    if (httpFault) return this.applyHttpFault(httpFault, body, messages, batch, res);
    const errorDraws = messages.map((m) => this.isEligible(m.method) && this.random() < (this.plan.errorRate ?? 0));
    const { headLag = 0, headLagMin = 0 } = this.plan;
    const lagDraws = messages.map((m) => (m.method === 'eth_blockNumber' && headLag > 0 ? headLagMin + Math.floor(this.random() * (headLag - headLagMin + 1)) : 0));

    const local = await this.answerLocally(messages, errorDraws, lagDraws);
    if (local.every((reply) => reply === undefined)) return this.passThrough(body, res);
    if (local.every((reply) => reply !== undefined)) return sendJson(res, 200, batch ? local : local[0]);
    return this.forwardRest(messages, local, res);
  }

  private isEligible(method: unknown): boolean {
    if (typeof method !== 'string') return false;
    return this.plan.methods ? this.plan.methods.includes(method) : method !== 'eth_chainId';
  }

  private countMethod(message: RpcMessage): void {
    const name = typeof message.method === 'string' ? message.method : '(invalid)';
    this.counters.byMethod[name] = (this.counters.byMethod[name] ?? 0) + 1;
    if (this.plan.record?.includes(name)) this.calls.push({ method: name, params: structuredClone(message.params) });
  }

  private countFault(kind: FaultKind): void {
    this.counters.injected[kind] = (this.counters.injected[kind] ?? 0) + 1;
  }

  /**
   * One draw picks at most one HTTP-level fault, each kind taking a slice of [0, 1) as wide as its rate.
   * A batch qualifies when some element is eligible, but never when it carries a protected method
   * (eth_chainId by default), since a whole-batch fault would hit that call too.
   */
  private drawHttpFault(messages: RpcMessage[]): HttpFault | undefined {
    const eligible = messages.map((m) => this.isEligible(m.method));
    const protectedInside = messages.some((m, i) => m.method === 'eth_chainId' && !eligible[i]);
    if (!eligible.some(Boolean) || protectedInside) return undefined;
    const draw = this.random();
    const slices: [HttpFault['kind'], number | undefined][] = [
      ['serverError', this.plan.serverErrorRate],
      ['rateLimit', this.plan.rateLimitRate],
      ['timeout', this.plan.timeoutRate],
      ['truncate', this.plan.truncateRate],
    ];
    let edge = 0;
    for (const [kind, rate] of slices) {
      edge += rate ?? 0;
      if (draw >= edge) continue;
      if (kind !== 'serverError') return { kind };
      const status = SERVER_ERROR_STATUSES[Math.floor(this.random() * SERVER_ERROR_STATUSES.length)] ?? 500;
      return { kind, status };
    }
    return undefined;
  }

  private async applyHttpFault(fault: HttpFault, body: Buffer, messages: RpcMessage[], batch: boolean, res: ServerResponse): Promise<void> {
    this.countFault(fault.kind);
    switch (fault.kind) {
      case 'serverError':
        return sendText(res, fault.status, `${fault.status} upstream unavailable (injected)`);
      case 'rateLimit': {
        const id = batch ? null : (messages[0]?.id ?? null);
        const reply = { jsonrpc: '2.0', id, error: { code: 429, message: 'Too Many Requests' } };
        return sendJson(res, 429, reply, { 'retry-after': '0' });
      }
      case 'timeout':
        return this.hold(res);
      case 'truncate':
        return this.truncate(await this.forward(body), res);
    }
  }

  /** Never answers; the socket is cut after timeoutMs, or at once by close() or the client leaving. */
  private hold(res: ServerResponse): void {
    if (res.closed) return;
    const hold = { res, timer: setTimeout(() => res.destroy(), this.plan.timeoutMs ?? DEFAULT_TIMEOUT_MS) };
    this.held.add(hold);
    res.once('close', () => {
      clearTimeout(hold.timer);
      this.held.delete(hold);
    });
  }

  /** Promises the whole body in Content-Length but delivers half, like a connection dropped mid-reply. */
  private truncate(reply: UpstreamReply, res: ServerResponse): void {
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': reply.body.length });
    res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)), () => res.destroy());
  }

  /** Range errors first (a provider rejects the query before running it), then injected errors, then lagging heads. */
  private async answerLocally(messages: RpcMessage[], errorDraws: boolean[], lagDraws: number[]): Promise<(RpcReply | undefined)[]> {
    const head = memo(() => this.fetchHead());
    const replies: (RpcReply | undefined)[] = [];
    for (const [i, message] of messages.entries()) {
      const range = await this.rangeError(message, head);
      if (range) this.countFault('range');
      else if (errorDraws[i]) this.countFault('error');
      const error = range ?? (errorDraws[i] ? INJECTED_ERROR : undefined);
      if (error) {
        replies.push({ jsonrpc: '2.0', id: message.id ?? null, error });
        continue;
      }
      const lag = lagDraws[i] ?? 0;
      const upstreamHead = lag > 0 ? await head() : undefined;
      if (upstreamHead === undefined) {
        replies.push(undefined);
        continue;
      }
      this.countFault('lag');
      const lagging = upstreamHead > BigInt(lag) ? upstreamHead - BigInt(lag) : 0n;
      replies.push({ jsonrpc: '2.0', id: message.id ?? null, result: `0x${lagging.toString(16)}` });
    }
    return replies;
  }

  private async rangeError(message: RpcMessage, head: () => Promise<bigint | undefined>): Promise<RpcError | undefined> {
    const max = this.plan.maxLogRange;
    if (max === undefined || message.method !== 'eth_getLogs') return undefined;
    const filter = Array.isArray(message.params) ? (message.params[0] as unknown) : undefined;
    if (typeof filter !== 'object' || filter === null) return undefined;
    const { fromBlock, toBlock, blockHash } = filter as Record<string, unknown>;
    // A blockHash query is one block by definition.
    if (blockHash !== undefined && blockHash !== null) return undefined;
    const from = await resolveBlock(fromBlock, head);
    const to = await resolveBlock(toBlock, head);
    // Unresolvable or inverted ranges are upstream's to judge.
    if (from === undefined || to === undefined || to - from + 1n <= BigInt(max)) return undefined;
    return rangeErrorFor(this.nextRangeStyle(), BigInt(max), from);
  }

  private nextRangeStyle(): RangeStyle {
    const style = this.plan.rangeErrorStyle ?? 'mixed';
    if (style !== 'mixed') return style;
    const picked = RANGE_STYLES[this.rangeCursor % RANGE_STYLES.length] ?? 'generic';
    this.rangeCursor++;
    return picked;
  }

  /** The chain head, to resolve tags like 'latest'; undefined when upstream cannot say. */
  private async fetchHead(): Promise<bigint | undefined> {
    try {
      const reply = await this.post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }));
      const { result } = JSON.parse(reply.body.toString('utf8')) as { result?: unknown };
      return typeof result === 'string' ? BigInt(result) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sends only the batch elements not answered here, then puts upstream's replies back in order. */
  private async forwardRest(messages: RpcMessage[], local: (RpcReply | undefined)[], res: ServerResponse): Promise<void> {
    const rest = messages.filter((_, i) => local[i] === undefined);
    const reply = await this.forward(Buffer.from(JSON.stringify(rest)));
    const upstreamReplies = reply.status === 200 ? parseJson(reply.body) : undefined;
    // Upstream failed the whole batch: show that failure rather than invent a partial answer.
    if (!Array.isArray(upstreamReplies)) return sendUpstream(res, reply);
    sendJson(res, 200, mergeReplies(messages, local, upstreamReplies));
  }

  private async passThrough(body: Buffer, res: ServerResponse): Promise<void> {
    sendUpstream(res, await this.forward(body));
  }

  private async forward(body: Buffer): Promise<UpstreamReply> {
    this.counters.forwarded++;
    if (this.plan.latencyMs) await new Promise((r) => setTimeout(r, this.plan.latencyMs));
    return this.post(body.toString('utf8'));
  }

  private async post(body: string): Promise<UpstreamReply> {
    const response = await fetch(this.upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(UPSTREAM_TIMEOUT_MS)]),
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'application/json',
      body: Buffer.from(await response.arrayBuffer()),
    };
  }
}

function rangeErrorFor(style: RangeStyle, max: bigint, from: bigint): RpcError {
  switch (style) {
    case 'alchemy':
      return {
        code: -32602,
        message:
          `Log response size exceeded. You can make eth_getLogs requests with up to a ${max} block range. ` +
          `Based on your parameters, this block range should work: [0x${from.toString(16)}, 0x${(from + max - 1n).toString(16)}]`,
      };
    case 'infura':
      return { code: -32005, message: 'query returned more than 10000 results' };
    case 'quicknode':
      return { code: -32602, message: `eth_getLogs is limited to a ${max} range` };
    case 'generic':
      return { code: -32000, message: 'block range is too wide' };
  }
}

/** A block number from a filter field; an omitted field means 'latest', as in the JSON-RPC spec. */
async function resolveBlock(ref: unknown, head: () => Promise<bigint | undefined>): Promise<bigint | undefined> {
  if (ref === undefined || ref === null || (typeof ref === 'string' && HEAD_TAGS.has(ref))) return head();
  if (ref === 'earliest') return 0n;
  if (typeof ref === 'string' && /^0x[0-9a-f]+$/i.test(ref)) return BigInt(ref);
  if (typeof ref === 'number' && Number.isSafeInteger(ref) && ref >= 0) return BigInt(ref);
  return undefined;
}

/**
 * Upstream may answer a batch in any order, so replies are matched by id; an element upstream
 * left unanswered gets an error rather than a hole in the array.
 */
function mergeReplies(messages: RpcMessage[], local: (RpcReply | undefined)[], upstreamReplies: unknown[]): unknown[] {
  const byId = new Map<string, unknown[]>();
  for (const reply of upstreamReplies) {
    const key = idKey((reply as RpcMessage | null)?.id);
    byId.set(key, [...(byId.get(key) ?? []), reply]);
  }
  return messages.map((message, i) => {
    const answered = local[i] ?? byId.get(idKey(message.id))?.shift();
    return answered ?? { jsonrpc: '2.0', id: message.id ?? null, error: { code: -32603, message: 'no reply from upstream (proxy)' } };
  });
}

function idKey(id: unknown): string {
  return JSON.stringify(id ?? null);
}

function memo<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= load());
}

/** The whole body, or undefined when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isObjectOrArray(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function asMessage(value: unknown): RpcMessage {
  return typeof value === 'object' && value !== null ? (value as RpcMessage) : {};
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendUpstream(res: ServerResponse, reply: UpstreamReply): void {
  res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': reply.body.length });
  res.end(reply.body);
}
