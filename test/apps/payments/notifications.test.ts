import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { inTransaction, verifyWebhook } from '../../../src/engine/index.js';
import {
  DELIVERY_HEADER,
  FCM_SCOPE,
  JWT_BEARER_GRANT,
  NOTIFICATION_KINDS,
  NOTIFY_TASK,
  SIGNATURE_HEADER,
  fcmProvider,
  formatAmount,
  notificationKey,
  notificationTask,
  queueNotification,
  renderMessage,
  webhookProvider,
  type NotificationRequest,
  type PushMessage,
  type ServiceAccount,
} from '../../../src/apps/payments/notifications/index.js';
import { startWorker } from '../../../src/jobs/worker.js';
import { createLogger } from '../../../src/runtime/logger.js';
import { createTestDatabase } from '../../harness/db.js';
import { until } from '../../harness/until.js';

/**
 * The payments app's notifications against real parts: a local HTTP server
 * standing in for Google's token endpoint and FCM's send endpoint, which checks
 * every request as Google would (the JWT's header, claims and RS256 signature
 * with the service account's public key, the grant type, the bearer token, the
 * project in the path, the message's JSON); a local webhook receiver checking
 * signatures; a real PostgreSQL and a real graphile-worker running the task.
 */

const PROJECT = 'confio-test';
const CLIENT_EMAIL = 'push@confio-test.iam.gserviceaccount.com';
const KEY_ID = 'k1d0000000000000000000000000000000000000';

type Answer = 'ok' | '503' | `429:${number}` | 'unregistered' | 'invalid-token' | '401';

/** A fake Google: the token endpoint and FCM's messages:send, each checking what it is sent. */
async function fakeGoogle(publicKey: KeyObject) {
  const problems: string[] = [];
  const tokens: string[] = [];
  const sends: Array<{ token: string; message: Record<string, unknown>; at: number }> = [];
  /** What the send endpoint answers for a device token, in turn; once used up: ok. */
  const script = new Map<string, Answer[]>();
  let revoked = new Set<string>();
  let tokenUri = '';
  /** The fake's clock, which checks a JWT's iat: moved with the provider's in tests of expiry. */
  const clock = { offsetMs: 0 };

  const problem = (res: ServerResponse, status: number, what: string, body: unknown = { error: { code: status, message: what, status: 'INVALID_ARGUMENT' } }) => {
    problems.push(what);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
  const fcmError = (code: number, status: string, errorCode: string, message: string) => ({
    error: { code, message, status, details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] },
  });

  const onToken = (req: IncomingMessage, res: ServerResponse, body: string) => {
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return problem(res, 400, `token: content-type ${req.headers['content-type']}`, { error: 'invalid_request' });
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER_GRANT) return problem(res, 400, `token: grant_type ${form.get('grant_type')}`, { error: 'unsupported_grant_type' });
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return problem(res, 400, 'token: assertion is not a JWT', { error: 'invalid_grant' });
    const [h, c, s] = parts as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    const now = (Date.now() + clock.offsetMs) / 1000;
    const checks: Array<[boolean, string]> = [
      [header.alg === 'RS256' && header.typ === 'JWT' && header.kid === KEY_ID, `header ${JSON.stringify(header)}`],
      [claims.iss === CLIENT_EMAIL, `iss ${String(claims.iss)}`],
      [claims.scope === FCM_SCOPE, `scope ${String(claims.scope)}`],
      [claims.aud === tokenUri, `aud ${String(claims.aud)}`],
      [typeof claims.iat === 'number' && Math.abs(claims.iat - now) < 60, `iat ${String(claims.iat)}`],
      [typeof claims.exp === 'number' && claims.exp === (claims.iat as number) + 3600, `exp ${String(claims.exp)}`],
      [verify('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, 'base64url')), 'RS256 signature does not verify'],
    ];
    const failed = checks.find(([ok]) => !ok);
    if (failed) return problem(res, 400, `token: ${failed[1]}`, { error: 'invalid_grant', error_description: failed[1] });
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    tokens.push(token);
    json(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
  };

  const onSend = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.includes(bearer)) return problem(res, 401, 'send: no valid bearer token');
    if (revoked.has(bearer)) return json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    if (!req.headers['content-type']?.startsWith('application/json')) return problem(res, 400, `send: content-type ${req.headers['content-type']}`);
    let parsed: { message?: Record<string, unknown> };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return problem(res, 400, 'send: body is not JSON');
    }
    const m = parsed.message;
    const notification = m?.notification as Record<string, unknown> | undefined;
    const data = m?.data as Record<string, unknown> | undefined;
    const shape: Array<[boolean, string]> = [
      [!!m && Object.keys(parsed).length === 1, 'send: body is not { message }'],
      [typeof m?.token === 'string' && (m.token as string).length > 0, 'send: message.token'],
      [typeof notification?.title === 'string' && typeof notification?.body === 'string', 'send: message.notification { title, body }'],
      [!!data && Object.values(data).every((v) => typeof v === 'string'), 'send: message.data must hold strings only'],
      [!('topic' in (m ?? {})) && !('condition' in (m ?? {})), 'send: exactly one target'],
    ];
    const failed = shape.find(([ok]) => !ok);
    if (failed) return problem(res, 400, failed[1]);
    const token = m!.token as string;
    sends.push({ token, message: m!, at: Date.now() });
    const answer = script.get(token)?.shift() ?? 'ok';
    if (answer === 'ok') return json(res, 200, { name: `projects/${PROJECT}/messages/${randomBytes(8).toString('hex')}` });
    if (answer === '503') return json(res, 503, fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.'));
    if (answer === 'unregistered') return json(res, 404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.'));
    if (answer === 'invalid-token') return json(res, 400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token'));
    if (answer === '401') {
      revoked = new Set([...revoked, bearer]);
      return json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
    }
    const seconds = answer.split(':')[1]!;
    return json(res, 429, fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded for this device.'), { 'retry-after': seconds });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.method === 'POST' && req.url === '/token') return onToken(req, res, body);
      if (req.method === 'POST' && req.url === `/v1/projects/${PROJECT}/messages:send`) return onSend(req, res, body);
      problem(res, 404, `unexpected ${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tokenUri = `${base}/token`;
  return { base, tokenUri, problems, tokens, sends, script, clock, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A webhook receiver keeping every request as it came. */
async function webhookReceiver() {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const answers: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/confio?api_key=AbCdEf0123456789XyZ`, received, answers, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const deviceToken = () => `fcm-${randomBytes(40).toString('base64url')}`;
const message = (to: string): PushMessage => ({ to, title: 'Pago recibido', body: 'Recibiste 5,00 cUSD', data: { kind: 'payment_received' }, idempotencyKey: `k-${randomBytes(4).toString('hex')}` });

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const WEBHOOK_SECRET = 'whsec_5f1d2c3b4a5968778695a4b3c2d1e0f9';

describe('payment notification messages', () => {
  const amounts: Array<[bigint, number, string, string]> = [
    [5_000_000n, 6, '5,00 cUSD', '5.00 cUSD'],
    [1_234_500_000n, 6, '1.234,50 cUSD', '1,234.50 cUSD'],
    [1_234_567_890_000n, 6, '1.234.567,89 cUSD', '1,234,567.89 cUSD'],
    [0n, 6, '0,00 cUSD', '0.00 cUSD'],
    [1n, 6, '0,000001 cUSD', '0.000001 cUSD'],
    [1_500_000n, 6, '1,50 cUSD', '1.50 cUSD'],
    [1_234_560n, 6, '1,23456 cUSD', '1.23456 cUSD'],
    [999_999_999n, 6, '999,999999 cUSD', '999.999999 cUSD'],
    [1000_000_000n, 6, '1.000,00 cUSD', '1,000.00 cUSD'],
    // Beyond 2^53: the digits come from the bigint, not from a float.
    [9_007_199_254_740_993_000_001n, 6, '9.007.199.254.740.993,000001 cUSD', '9,007,199,254,740,993.000001 cUSD'],
    [10n ** 18n + 1n, 18, '1,000000000000000001 cUSD', '1.000000000000000001 cUSD'],
    [42n, 0, '42 cUSD', '42 cUSD'],
    [15n, 1, '1,5 cUSD', '1.5 cUSD'],
  ];
  it.each(amounts)('formats %s base units with %s decimals: es %s, en %s', (amount, decimals, es, en) => {
    expect(formatAmount(amount, decimals, 'es', 'cUSD')).toBe(es);
    expect(formatAmount(amount, decimals, 'en', 'cUSD')).toBe(en);
  });

  it('formats by the full locale: es-AR and es-VE with a decimal comma, es-MX and en-GB their own way', () => {
    expect(formatAmount(1_234_500_000n, 6, 'es-AR')).toBe('1.234,50');
    expect(formatAmount(1_234_500_000n, 6, 'es-VE')).toBe('1.234,50');
    expect(formatAmount(1_234_500_000n, 6, 'es-MX')).toBe('1,234.50');
    expect(formatAmount(1_234_500_000n, 6, 'en-GB')).toBe('1,234.50');
    expect(formatAmount(-1_500_000n, 6, 'es')).toBe('-1,50');
    expect(() => formatAmount(1n, -1, 'es')).toThrow(RangeError);
  });

  it('says "Recibiste 5,00 cUSD" in Spanish and "You received 5.00 cUSD" in English; any other locale reads Spanish', () => {
    const params = { amount: 5_000_000n, decimals: 6, symbol: 'cUSD' };
    expect(renderMessage('payment_received', 'es', params)).toEqual({ locale: 'es', title: 'Pago recibido', body: 'Recibiste 5,00 cUSD' });
    expect(renderMessage('payment_received', 'en', params)).toEqual({ locale: 'en', title: 'Payment received', body: 'You received 5.00 cUSD' });
    expect(renderMessage('payment_received', 'EN-us', params).body).toBe('You received 5.00 cUSD');
    expect(renderMessage('payment_received', 'es-CO', params).body).toBe('Recibiste 5,00 cUSD');
    for (const other of ['fr', 'pt-BR', '', null, undefined, 'not a locale!!', 'x']) {
      expect(renderMessage('payment_received', other, params), String(other)).toEqual({ locale: 'es', title: 'Pago recibido', body: 'Recibiste 5,00 cUSD' });
    }
    expect(renderMessage('payment_received', 'es', { ...params, counterparty: 'Ana' }).body).toBe('Recibiste 5,00 cUSD de Ana');
    expect(renderMessage('payment_sent', 'en', { ...params, counterparty: 'Ana' }).body).toBe('You sent 5.00 cUSD to Ana');
    expect(renderMessage('merchant_payment_received', 'es', { ...params, reference: 'F-12' }).body).toBe('Recibiste un pago de 5,00 cUSD (ref. F-12)');
  });

  it('has every kind in both languages, each naming the amount', () => {
    const params = { amount: 1_234_500_000n, decimals: 6, symbol: 'cUSD' };
    for (const kind of NOTIFICATION_KINDS) {
      const es = renderMessage(kind, 'es', params);
      const en = renderMessage(kind, 'en', params);
      expect(es.body, kind).toContain('1.234,50 cUSD');
      expect(en.body, kind).toContain('1,234.50 cUSD');
      expect(es.title && en.title && es.title !== en.title, kind).toBeTruthy();
    }
  });
});

describe('FCM HTTP v1 provider against a local Google', () => {
  let google: Awaited<ReturnType<typeof fakeGoogle>>;
  let account: ServiceAccount;
  beforeAll(async () => {
    google = await fakeGoogle(publicKey);
    account = { project_id: PROJECT, client_email: CLIENT_EMAIL, private_key: PRIVATE_PEM, private_key_id: KEY_ID, token_uri: google.tokenUri };
  });
  afterAll(() => google.close());

  it('signs a JWT the token endpoint accepts, fetches the access token once for many sends, and posts the message FCM expects', async () => {
    const fcm = fcmProvider({ serviceAccount: account, baseUrl: google.base });
    const before = google.tokens.length;
    const to = [deviceToken(), deviceToken(), deviceToken(), deviceToken()];
    // Two at once before any token exists, then two more: one token request in all.
    const results = [...(await Promise.all([fcm.send(message(to[0]!)), fcm.send(message(to[1]!))])), await fcm.send(message(to[2]!)), await fcm.send(message(to[3]!))];
    expect(google.problems).toEqual([]);
    expect(results.every((r) => r.status === 'delivered' && r.id?.startsWith(`projects/${PROJECT}/messages/`))).toBe(true);
    expect(google.tokens.length - before).toBe(1);
    const sent = google.sends.find((s) => s.token === to[2])!.message;
    expect(sent).toEqual({
      token: to[2],
      notification: { title: 'Pago recibido', body: 'Recibiste 5,00 cUSD' },
      data: { kind: 'payment_received' },
      android: { priority: 'high', notification: { sound: 'default' } },
      apns: { headers: { 'apns-priority': '10' }, payload: { aps: { sound: 'default' } } },
    });
  });

  it('fetches a new access token shortly before the old one expires, and after FCM refuses one', async () => {
    const fcm = fcmProvider({ serviceAccount: account, baseUrl: google.base, now: () => Date.now() + google.clock.offsetMs, refreshMarginMs: 60_000 });
    const before = google.tokens.length;
    try {
      expect((await fcm.send(message(deviceToken()))).status).toBe('delivered');
      google.clock.offsetMs = 3599_000 - 61_000; // the token (3599 s) has more than the margin left
      expect((await fcm.send(message(deviceToken()))).status).toBe('delivered');
      expect(google.tokens.length - before).toBe(1);
      google.clock.offsetMs += 2_000; // within the margin: a new one
      expect((await fcm.send(message(deviceToken()))).status).toBe('delivered');
      expect(google.tokens.length - before).toBe(2);
    } finally {
      google.clock.offsetMs = 0;
    }
    fcm.resetToken();
    // A token FCM no longer accepts: retryable, and the next send gets a new one.
    const to = deviceToken();
    google.script.set(to, ['401']);
    expect(await fcm.send(message(to))).toMatchObject({ status: 'retryable', error: expect.stringContaining('FCM 401 UNAUTHENTICATED') });
    expect((await fcm.send(message(to))).status).toBe('delivered');
    expect(google.tokens.length - before).toBe(4);
    expect(google.problems).toEqual([]);
  });

  it('tells a dead token (UNREGISTERED, invalid) from a temporary failure (503, 429 with Retry-After, no answer), with no secret in the errors', async () => {
    const fcm = fcmProvider({ serviceAccount: account, baseUrl: google.base });
    const [a, b, c, d] = [deviceToken(), deviceToken(), deviceToken(), deviceToken()];
    google.script.set(a, ['unregistered']);
    google.script.set(b, ['invalid-token']);
    google.script.set(c, ['503']);
    google.script.set(d, ['429:7']);
    const results = [await fcm.send(message(a)), await fcm.send(message(b)), await fcm.send(message(c)), await fcm.send(message(d))];
    expect(results).toEqual([
      { status: 'permanent', invalidTarget: true, error: 'FCM 404 UNREGISTERED: Requested entity was not found.' },
      { status: 'permanent', invalidTarget: true, error: 'FCM 400 INVALID_ARGUMENT: The registration token is not a valid FCM registration token' },
      { status: 'retryable', error: 'FCM 503 UNAVAILABLE: The service is currently unavailable.' },
      { status: 'retryable', error: 'FCM 429 QUOTA_EXCEEDED: Quota exceeded for this device.', retryAfterMs: 7000 },
    ]);
    // Nothing listening: no answer at all.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const offline = await fcmProvider({ serviceAccount: account, baseUrl: `http://127.0.0.1:${closed}` }).send(message(a));
    expect(offline).toEqual({ status: 'retryable', error: 'FCM: send failed: ECONNREFUSED' });
    const noTokenEndpoint = await fcmProvider({ serviceAccount: { ...account, token_uri: `http://127.0.0.1:${closed}/token` }, baseUrl: google.base }).send(message(a));
    expect(noTokenEndpoint).toEqual({ status: 'retryable', error: 'FCM: access token request failed: ECONNREFUSED' });
    // A key Google does not know: the token endpoint refuses the JWT (a retryable failure, so a fixed key saves the notification).
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const wrongKey = await fcmProvider({ serviceAccount: { ...account, private_key: other }, baseUrl: google.base }).send(message(a));
    expect(wrongKey).toEqual({ status: 'retryable', error: 'FCM: access token request answered 400 invalid_grant: RS256 signature does not verify' });
    google.problems.length = 0;
    const unreadable = await fcmProvider({ serviceAccount: { ...account, private_key: 'not a key' }, baseUrl: google.base }).send(message(a));
    expect(unreadable.status).toBe('retryable');
    const texts = JSON.stringify([results, offline, noTokenEndpoint, wrongKey, unreadable]);
    for (const secret of [...google.tokens, a, b, c, d, PRIVATE_PEM, other, ...PRIVATE_PEM.split('\n').filter((l) => l.length > 20)]) expect(texts).not.toContain(secret);
  });
});

describe('webhook provider', () => {
  it('posts the message as signed JSON that verifies with the shared secret; 5xx and 429 are temporary, 410 a dead target', async () => {
    const receiver = await webhookReceiver();
    try {
      const hook = webhookProvider({ url: receiver.url, secret: WEBHOOK_SECRET });
      const m = { ...message('merchant:42'), idempotencyKey: 'digest1:merchant:42:merchant_payment_received' };
      expect(await hook.send(m)).toEqual({ status: 'delivered' });
      const [got] = receiver.received;
      expect(got!.headers['content-type']).toBe('application/json');
      expect(got!.headers[DELIVERY_HEADER]).toBe(m.idempotencyKey);
      expect(verifyWebhook(WEBHOOK_SECRET, got!.headers[SIGNATURE_HEADER] as string, got!.body)).toBe(true);
      expect(verifyWebhook('another secret', got!.headers[SIGNATURE_HEADER] as string, got!.body)).toBe(false);
      expect(verifyWebhook(WEBHOOK_SECRET, got!.headers[SIGNATURE_HEADER] as string, got!.body.replace('5,00', '9,00'))).toBe(false);
      expect(JSON.parse(got!.body)).toEqual({
        type: 'payments.notification',
        idempotencyKey: m.idempotencyKey,
        to: 'merchant:42',
        title: 'Pago recibido',
        body: 'Recibiste 5,00 cUSD',
        data: { kind: 'payment_received' },
        sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      receiver.answers.push(503, 429, 410, 400);
      const results = [await hook.send(m), await hook.send(m), await hook.send(m), await hook.send(m)];
      expect(results.map((r) => [r.status, r.status === 'permanent' ? r.invalidTarget : undefined])).toEqual([
        ['retryable', undefined],
        ['retryable', undefined],
        ['permanent', true],
        ['permanent', false],
      ]);
      // The URL's key never shows in an error.
      expect(JSON.stringify(results)).not.toContain('AbCdEf0123456789XyZ');
      expect(results[0]).toMatchObject({ error: expect.stringContaining('answered 503') });
    } finally {
      await receiver.close();
    }
  });
});

describe('delivery through the job queue', () => {
  let google: Awaited<ReturnType<typeof fakeGoogle>>;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let worker: { stop(): Promise<void> };
  const logLines: string[] = [];
  const invalidTargets: string[] = [];

  beforeAll(async () => {
    google = await fakeGoogle(publicKey);
    receiver = await webhookReceiver();
    database = await createTestDatabase([{ name: 'payments', migrations: 'src/apps/payments/migrations' }]);
    const logger = createLogger('debug', { destination: { write: (line: string) => void logLines.push(line) } });
    const providers = [
      fcmProvider({ serviceAccount: { project_id: PROJECT, client_email: CLIENT_EMAIL, private_key: PRIVATE_PEM, private_key_id: KEY_ID, token_uri: google.tokenUri }, baseUrl: google.base }),
      webhookProvider({ url: receiver.url, secret: WEBHOOK_SECRET }),
    ];
    const task = notificationTask({ pool: database.pool, logger }, providers, { onInvalidTarget: async (n) => void invalidTargets.push(n.target) });
    worker = await startWorker(database.url, logger, { tasks: { [NOTIFY_TASK]: task } }, { pollInterval: 100, concurrency: 4 });
  });
  afterAll(async () => {
    await worker?.stop();
    await database?.drop();
    await google?.close();
    await receiver?.close();
  });

  const request = (target: string, overrides: Partial<NotificationRequest> = {}): NotificationRequest => ({
    account: 'user-7',
    provider: 'fcm',
    target,
    locale: 'es',
    kind: 'payment_received',
    params: { amount: 5_000_000n, decimals: 6, symbol: 'cUSD', data: { transaction: 'digest' } },
    idempotencyKey: notificationKey(`0x${randomBytes(16).toString('hex')}`, 'user-7', 'payment_received'),
    ...overrides,
  });
  const queue = (r: NotificationRequest, maxAttempts?: number) => inTransaction(database.pool, (client) => queueNotification(client, r, maxAttempts ? { maxAttempts } : {}));
  const row = async (id: string) =>
    (await database.pool.query('select state, attempts, last_error, sent_at, provider_message_id from payment_notifications where id = $1', [id])).rows[0] as {
      state: string;
      attempts: number;
      last_error: string | null;
      sent_at: Date | null;
      provider_message_id: string | null;
    };
  const settled = (id: string) => until(async () => ['sent', 'dead'].includes((await row(id)).state) && (await jobsFor(id)) === 0, `notification ${id} to settle`, 30_000);
  /** Jobs left for a notification (none once it is sent or dead: the dead letter is the row, not a stuck job). */
  const jobsFor = async (id: string) => (await database.pool.query(`select count(*)::int as n from graphile_worker._private_jobs where payload->>'id' = $1`, [id])).rows[0].n as number;
  const sendsTo = (token: string) => google.sends.filter((s) => s.token === token);

  it('delivers once a notification queued twice with one idempotency key (a transaction processed twice), and never one whose transaction rolled back', async () => {
    const to = deviceToken();
    const r = request(to);
    const first = await queue(r);
    const second = await queue(r);
    // Processed a third time, concurrently with itself.
    const [third, fourth] = await Promise.all([queue(r), queue(r)]);
    expect(first.queued).toBe(true);
    expect([second, third, fourth]).toEqual([
      { id: first.id, queued: false },
      { id: first.id, queued: false },
      { id: first.id, queued: false },
    ]);
    const rolledBack = deviceToken();
    await expect(
      inTransaction(database.pool, async (client) => {
        await queueNotification(client, request(rolledBack));
        throw new Error('the handler failed after queueing');
      }),
    ).rejects.toThrow('the handler failed');
    await settled(first.id);
    await new Promise((r) => setTimeout(r, 500)); // anything more would have run by now
    expect(await row(first.id)).toMatchObject({ state: 'sent', attempts: 1, last_error: null, provider_message_id: expect.stringContaining(`projects/${PROJECT}/messages/`) });
    expect(sendsTo(to)).toHaveLength(1);
    expect(sendsTo(to)[0]!.message).toMatchObject({
      notification: { title: 'Pago recibido', body: 'Recibiste 5,00 cUSD' },
      data: { transaction: 'digest', kind: 'payment_received', amount: '5000000', decimals: '6', symbol: 'cUSD', notificationId: first.id },
    });
    expect(sendsTo(rolledBack)).toHaveLength(0);
    expect((await database.pool.query('select count(*)::int as n from payment_notifications where target = $1', [rolledBack])).rows[0].n).toBe(0);
    expect(google.problems).toEqual([]);
  });

  it('retries a 503 with graphile-worker’s backoff and then delivers; follows a 429’s Retry-After', async () => {
    const flaky = deviceToken();
    const limited = deviceToken();
    google.script.set(flaky, ['503']);
    google.script.set(limited, ['429:2']);
    const a = await queue(request(flaky, { locale: 'en' }));
    const b = await queue(request(limited));
    await Promise.all([settled(a.id), settled(b.id)]);
    expect(await row(a.id)).toMatchObject({ state: 'sent', attempts: 2, last_error: null });
    expect(await row(b.id)).toMatchObject({ state: 'sent', attempts: 2, last_error: null });
    expect(sendsTo(flaky).map((s) => (s.message.notification as { body: string }).body)).toEqual(['You received 5.00 cUSD', 'You received 5.00 cUSD']);
    const [first, second] = sendsTo(limited);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    expect(google.problems).toEqual([]);
  });

  it('puts a notification to a dead token (UNREGISTERED) in the dead letter at once, and tells the app', async () => {
    const dead = deviceToken();
    google.script.set(dead, ['unregistered']);
    const n = await queue(request(dead));
    await settled(n.id);
    expect(await row(n.id)).toMatchObject({ state: 'dead', attempts: 1, last_error: 'FCM 404 UNREGISTERED: Requested entity was not found.', sent_at: null });
    expect(sendsTo(dead)).toHaveLength(1);
    expect(invalidTargets).toContain(dead);
  });

  it('puts a notification in the dead letter with its last error when its attempts run out', async () => {
    const down = deviceToken();
    google.script.set(down, ['503', '503', '503']);
    const n = await queue(request(down), 2);
    await settled(n.id);
    expect(await row(n.id)).toMatchObject({ state: 'dead', attempts: 2, last_error: 'FCM 503 UNAVAILABLE: The service is currently unavailable.' });
    expect(sendsTo(down)).toHaveLength(2);
  });

  it('delivers through the webhook provider, signed, with the idempotency key as delivery id', async () => {
    const r = request('merchant:42', { provider: 'webhook', kind: 'merchant_payment_received', params: { amount: 1_234_500_000n, decimals: 6, symbol: 'cUSD', reference: 'F-12' } });
    const n = await queue(r);
    await settled(n.id);
    expect(await row(n.id)).toMatchObject({ state: 'sent', attempts: 1 });
    const got = receiver.received.find((x) => x.headers[DELIVERY_HEADER] === r.idempotencyKey)!;
    expect(verifyWebhook(WEBHOOK_SECRET, got.headers[SIGNATURE_HEADER] as string, got.body)).toBe(true);
    expect(JSON.parse(got.body)).toMatchObject({ to: 'merchant:42', title: 'Nuevo pago en tu negocio', body: 'Recibiste un pago de 1.234,50 cUSD (ref. F-12)' });
  });

  it('fetched one access token for all of the above, and no secret reached the logs', async () => {
    expect(google.tokens).toHaveLength(1);
    const logs = logLines.join('');
    expect(logs).toContain('notification sent');
    expect(logs).toContain('notification dead');
    for (const secret of [...google.tokens, ...google.sends.map((s) => s.token), WEBHOOK_SECRET, 'AbCdEf0123456789XyZ', ...PRIVATE_PEM.split('\n').filter((l) => l.length > 20)]) {
      expect(logs).not.toContain(secret);
    }
  });
});
