import fc from 'fast-check';
import type { RouteOptions } from 'fastify';
import type { Answer, Outgoing, httpClient } from './http-client.js';

/** The JSON schema of one parameter, as far as the generator reads it. */
interface ParameterSchema {
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

/** The parameters of one part of a request (path, query or body) as its JSON schema documents them. */
interface Fields {
  properties: Record<string, ParameterSchema>;
  required: string[];
}

/** A route as the server registered it, with the parameters its schema documents. */
export interface RouteUnderTest {
  method: string;
  url: string;
  params: Fields;
  query: Fields;
  body: Fields;
}

export function routesOf(route: RouteOptions): RouteUnderTest[] {
  const schema = (route.schema ?? {}) as Partial<Record<'params' | 'querystring' | 'body', Partial<Fields>>>;
  const fields = (part: Partial<Fields> | undefined): Fields => ({ properties: part?.properties ?? {}, required: part?.required ?? [] });
  return [route.method].flat().map((method) => ({ method, url: route.url, params: fields(schema.params), query: fields(schema.querystring), body: fields(schema.body) }));
}

/**
 * How many of the generated requests go to a route: one share, one more per
 * parameter in its path or query, two per field of its body (behind a body
 * there is more to reach: keys, lookups, the outbox).
 */
export function weightOf(route: RouteUnderTest): number {
  const count = (fields: Fields) => Object.keys(fields.properties).length;
  return 1 + count(route.params) + count(route.query) + 2 * count(route.body);
}

/** Values the server knows, so that generated requests also get past the first checks to the code behind them. */
export interface Known {
  ids: string[];
  addresses: string[];
  fingerprints: string[];
  /** API keys that do something (each for some of the routes). */
  keys: string[];
  /** API keys that do not: revoked, or for an institution the server does not sign for. */
  refusedKeys: string[];
}

const UINT256_MAX = 2n ** 256n - 1n;
/** Inputs at and across the limits the API has, and texts PostgreSQL or the ABI encoder refuse. */
const EDGES = [
  '', '0', '1', '-1', '01', '1.5', '1e3', '0x10', ' 1', '+1', 'NaN', 'Infinity', 'null', 'true', '[]', '{}',
  '9223372036854775807', '9223372036854775808', '9999999999999999999', '99999999999999999999999',
  String(UINT256_MAX), String(UINT256_MAX + 1n), `1${'0'.repeat(80)}`,
  'valid', 'revoked', 'expired', 'pending', 'confirmed', 'failed', 'credentials.issue', 'credentials.revoke',
  'é'.repeat(16), 'é'.repeat(17), 'x'.repeat(32), 'x'.repeat(33), '\u0000', 'a\u0000b', '\ud800', 'a\udfffb', '😀', '\u202e',
  '<script>', '../../etc/passwd', "' or 1=1 --", '__proto__', 'constructor',
];
/** Percent sequences that do not decode (or decode to something surprising). */
const BAD_ENCODINGS = ['%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF', '%00', '%2F', '..', '%2e%2e', ';', '#x'];
const CONTENT_TYPES = [
  'application/json; charset=utf-8', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/problem+json',
  'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
  'application/octet-stream', 'application/xml', '', ';', 'application/json; charset=', 'nonsense',
];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'SEARCH', 'PROPFIND'];

/**
 * Any code point, lone surrogates included (fast-check's own string units leave
 * those out), with the troublesome ones more often than chance would bring them.
 */
const anyCharacter = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udfff', 'é', '😀', '\u202e', '\ufeff') },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)) },
);
const anyText = fc.string({ unit: anyCharacter, maxLength: 40 });
/** What a header value may hold on the wire (Node's client refuses control characters). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 });
const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
/** Present one time in `oneIn`. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number) => fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

/** Edges, any text, odd numbers: what a parameter is not meant to get. */
const hostile = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGES) },
  { weight: 2, arbitrary: anyText },
  { weight: 1, arbitrary: fc.oneof(hex(20), hex(32), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 260n }).map(String), fc.stringMatching(/^\d{1,120}$/)) },
);
/** In JSON, also what a string parameter never is. */
const hostileJson = fc.oneof(
  { weight: 6, arbitrary: hostile },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.constantFrom('1e400', '-0', '123456789012345678901234567890', '1e-400').map((t) => new RawNumber(t)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** Values the schema allows (as far as JSON schema says: zod's refinements are the server's to check), and its edges. */
function allowedBy(schema: ParameterSchema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
  const types = [schema.type ?? 'string'].flat();
  if (types.includes('integer') || types.includes('number')) {
    const [min, max] = [schema.minimum ?? -(2 ** 53), schema.maximum ?? 2 ** 53];
    return fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, 2 ** 64, 0.5) });
  }
  if (types.includes('boolean')) return fc.boolean();
  const longest = schema.maxLength ?? 64;
  const text = fc.string({ unit: anyCharacter, maxLength: Math.min(longest, 40), size: 'medium' });
  // At and just over the longest, where that is not megabytes (the body limits see to those).
  return longest > 4096
    ? text
    : fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: fc.constantFrom('x'.repeat(longest), 'x'.repeat(longest + 1), 'é'.repeat(Math.ceil(longest / 2) + 1)) });
}

/** Every byte but the unreserved ones percent-encoded (a lone surrogate goes as U+FFFD: UTF-8 has no bytes for it). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A JSON number as written, which JSON.stringify cannot produce (1e400, -0, more digits than a double holds). */
class RawNumber {
  constructor(readonly text: string) {}
}
function serialize(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof RawNumber ? `\u0001${v.text}\u0001` : v)).replace(/"\\u0001(.*?)\\u0001"/g, '$1');
}

type Entry = readonly [string, unknown];

/**
 * A plausible set of fields (the required ones, some optional ones) and then
 * up to two things wrong with it: a field's value replaced by a hostile one,
 * a field dropped, a field nobody asked for. Requests with one thing wrong get
 * past every other check to the code behind it.
 */
function fieldsOf(fields: Fields, plausible: (schema: ParameterSchema) => fc.Arbitrary<unknown>, hostileValue: fc.Arbitrary<unknown>): fc.Arbitrary<Entry[]> {
  const entries = Object.entries(fields.properties).map(([name, schema]) => {
    const entry = plausible(schema).map((value): Entry => [name, value]);
    return fields.required.includes(name) ? entry : fc.option(entry, { freq: 2 });
  });
  const mutation = fc.oneof(
    fc.tuple(fc.constant('replace' as const), fc.nat(), hostileValue),
    fc.tuple(fc.constant('drop' as const), fc.nat(), fc.constant(null)),
    fc.tuple(fc.constant('add' as const), anyText, hostileValue),
  );
  return fc.tuple(fc.tuple(...entries), fc.array(mutation, { maxLength: 2 })).map(([drawn, mutations]) => {
    let result = drawn.filter((entry): entry is Entry => entry !== null);
    for (const [kind, at, value] of mutations) {
      const index = typeof at === 'number' && result.length > 0 ? at % result.length : -1;
      if (kind === 'replace' && index >= 0) result = result.map((entry, i) => (i === index ? [entry[0], value] : entry));
      if (kind === 'drop' && index >= 0) result = result.filter((_, i) => i !== index);
      if (kind === 'add') result = [...result, [String(at), value]];
    }
    return result;
  });
}

/**
 * Requests for `route`: its path parameters, query and body plausible with a
 * thing or two wrong (see `fieldsOf`), under assorted headers, keys, content
 * types and methods, some of them beyond what the server accepts before routing.
 */
export function requestsFor(route: RouteUnderTest, known: Known): fc.Arbitrary<Outgoing> {
  const knownValues = [...known.ids, ...known.addresses, ...known.fingerprints];
  /** What the schema allows, and what the server knows of that fits it (existing ids first of all). */
  const plausible = (schema: ParameterSchema) => {
    const fitting = schema.pattern ? knownValues.filter((v) => new RegExp(schema.pattern!).test(v)) : [];
    return fitting.length > 0 ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...fitting) }, { weight: 1, arbitrary: allowedBy(schema) }) : allowedBy(schema);
  };
  const inUrl = (value: unknown) => percentEncode(String(value));
  const badEncoding = fc.oneof(fc.constantFrom(...BAD_ENCODINGS), fc.tuple(hostile, fc.constantFrom(...BAD_ENCODINGS)).map(([a, b]) => inUrl(a) + b));

  const params = fieldsOf(route.params, plausible, hostile).map((entries) => new Map(entries.map(([name, value]) => [name, inUrl(value)])));
  const path = fc
    .record({
      params,
      // A path parameter that does not decode, or around the router's longest (100).
      odd: rarely(fc.oneof(badEncoding, fc.stringMatching(/^\d{95,130}$/)), 8),
      rest: fc.array(hostile.map(inUrl), { maxLength: 3 }),
    })
    .map(({ params, odd, rest }) => {
      const parts = route.url.split('/').map((part) => (part.startsWith(':') ? (odd ?? params.get(part.slice(1)) ?? '') : part === '*' ? rest.join('/') : part));
      return parts.join('/') || '/';
    });

  const query = fc
    .record({ fields: fieldsOf(route.query, plausible, hostile), odd: rarely(badEncoding, 10) })
    .map(({ fields, odd }) => {
      const pairs = [...fields.map(([name, value]) => `${inUrl(name)}=${inUrl(value)}`), ...(odd ? [`x=${odd}`] : [])];
      return pairs.length > 0 ? `?${pairs.join('&')}` : '';
    });

  const text = fc.oneof(
    { weight: 40, arbitrary: fieldsOf(route.body, plausible, hostileJson).map((entries) => serialize(Object.fromEntries(entries))) },
    { weight: 3, arbitrary: hostileJson.map(serialize) },
    { weight: 3, arbitrary: fc.constantFrom('', '{', '{"a":}', 'null', '[]', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}', '\ufeff{}', '{"a":"\\ud800"}') },
    // Over the server's 1 MiB body limit, under the document routes' 16 MiB.
    { weight: 1, arbitrary: fc.constant(`{"document":"${'A'.repeat(1_100_000)}"}`) },
  );
  const body = fc.oneof({ weight: 10, arbitrary: text.map((t) => Buffer.from(t, 'utf8')) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) });

  const headers = fc
    .record({
      authorization: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...known.keys).map((key) => `Bearer ${key}`) },
        { weight: 1, arbitrary: fc.constantFrom(...known.refusedKeys).map((key) => `Bearer ${key}`) },
        { weight: 1, arbitrary: headerText },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      'content-type': fc.oneof({ weight: 10, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.constant(undefined) }),
      'idempotency-key': rarely(fc.oneof(headerText, fc.stringMatching(/^[!-~]{1,220}$/)), 3),
      host: rarely(fc.oneof(fc.constantFrom('verify.example:8443', '[::1]:8000', 'a'.repeat(3000), 'bad host', ''), headerText), 4),
      'x-forwarded-host': rarely(fc.oneof(fc.constant('b'.repeat(3000)), headerText), 6),
      'x-forwarded-proto': rarely(fc.oneof(fc.constantFrom('https', 'ftp', 'x'.repeat(3000)), headerText), 6),
      'x-forwarded-for': rarely(headerText, 6),
      'x-request-id': rarely(headerText, 4),
      origin: rarely(fc.oneof(fc.constant('https://verify.example'), headerText), 6),
      accept: rarely(headerText, 6),
      'accept-encoding': rarely(fc.constantFrom('gzip', 'br', 'identity;q=0', '*;q=0'), 6),
      expect: rarely(fc.constantFrom('100-continue', 'nonsense'), 50),
      // Over Node's 16 KiB of request line and headers: a 431.
      'x-padding': rarely(fc.constant('p'.repeat(17_000)), 100),
    })
    .map((h) => Object.fromEntries(Object.entries(h).filter((entry): entry is [string, string] => entry[1] !== undefined)));

  const method = fc.oneof({ weight: 10, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) });
  // Bodies mostly where the route takes one, and now and then where it does not.
  const maybeBody = Object.keys(route.body.properties).length > 0 ? fc.oneof({ weight: 8, arbitrary: body }, { weight: 1, arbitrary: fc.constant(undefined) }) : rarely(body, 8);
  return fc.record({ method, path, query, headers, body: maybeBody }).map(({ method, path, query, headers, body }) => ({
    method,
    path: path + query,
    headers: body === undefined ? Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'content-type')) : headers,
    ...(body === undefined || method === 'HEAD' ? {} : { body }),
  }));
}

/** What is wrong with an answer, if anything: a 5xx, or an error that is not a complete RFC 9457 problem. */
export function wrongWith(request: Outgoing, answer: Answer): string | undefined {
  if (answer.status >= 500) return `${answer.status}: ${answer.body.toString().slice(0, 300)}`;
  if (answer.status < 400) return undefined;
  if (!answer.contentType?.startsWith('application/problem+json')) return `${answer.status} as ${answer.contentType}: ${answer.body.toString().slice(0, 300)}`;
  if (request.method === 'HEAD') return undefined;
  const problem = JSON.parse(answer.body.toString()) as Record<string, unknown>;
  const complete = typeof problem.type === 'string' && typeof problem.title === 'string' && problem.status === answer.status && typeof problem.detail === 'string';
  return complete ? undefined : `${answer.status} with an incomplete problem: ${answer.body.toString().slice(0, 300)}`;
}

export function describeRequest({ method, path, headers, body }: Outgoing): string {
  const short = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text);
  return `${method} ${short(path)} ${JSON.stringify(Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, short(value)])))}${body ? ` ${short(body.toString())}` : ''}`;
}

/**
 * Sends `numRuns` batches of 16 generated requests (as many at once) over `routes`, weighted
 * by `weightOf`; throws on the first answer that is a 5xx or an error that is not
 * a complete problem+json. Returns how many were sent, and how many per route.
 */
export async function fireGeneratedRequests(client: ReturnType<typeof httpClient>, routes: RouteUnderTest[], known: Known, numRuns: number) {
  const tried = new Map(routes.map((route) => [`${route.method} ${route.url}`, 0]));
  let sent = 0;
  const anyRequest = fc.oneof(...routes.map((route) => ({ weight: weightOf(route), arbitrary: requestsFor(route, known).map((request) => ({ route, request })) })));
  await fc.assert(
    fc.asyncProperty(fc.array(anyRequest, { minLength: 16, maxLength: 16 }), async (batch) => {
      const answers = await Promise.all(
        batch.map(async ({ route, request }) => {
          // A request for the route is one with its method (now and then another is tried on its path).
          if (request.method === route.method) tried.set(`${route.method} ${route.url}`, tried.get(`${route.method} ${route.url}`)! + 1);
          sent++;
          const answer = await client.send(request).catch((error: Error) => error);
          return [request, answer] as const;
        }),
      );
      for (const [request, answer] of answers) {
        const wrong = answer instanceof Error ? `no answer: ${answer.message}` : wrongWith(request, answer);
        if (wrong) throw new Error(`${describeRequest(request)} → ${wrong}`);
      }
    }),
    { numRuns },
  );
  return { sent, tried };
}
