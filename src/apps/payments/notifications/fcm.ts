import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { networkError, parseRetryAfter, type PushMessage, type PushProvider, type PushResult } from './push.js';

/** The fields of a Google service account's JSON key that FCM needs. */
export interface ServiceAccount {
  project_id: string;
  client_email: string;
  /** PEM (PKCS#8). Never logged, never in an error. */
  private_key: string;
  private_key_id?: string;
  /** Where the signed JWT is exchanged for an access token (https://oauth2.googleapis.com/token). */
  token_uri: string;
}

export interface FcmConfig {
  serviceAccount: ServiceAccount;
  /** Defaults to the service account's project. */
  projectId?: string;
  /** FCM's base URL (tests point it at a local server). Default https://fcm.googleapis.com. */
  baseUrl?: string;
  /** Overrides the service account's token_uri (tests point it at a local server). */
  tokenUri?: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** An access token is fetched again this long before it expires. Default 5 minutes. */
  refreshMarginMs?: number;
  /** For tests. */
  now?: () => number;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A failure to get an access token: retryable (a bad key keeps failing until the attempts run out, then the notification is dead with this error). */
class TokenError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * Firebase Cloud Messaging, HTTP v1: one POST per message to
 * `{baseUrl}/v1/projects/{projectId}/messages:send`, authorised by an OAuth2
 * access token obtained with the service account's key (an RS256 JWT exchanged
 * at its token_uri) and kept until shortly before it expires. Concurrent sends
 * share one token request.
 */
export function fcmProvider(config: FcmConfig): PushProvider & { /** Forget the access token (the next send fetches one). */ resetToken(): void } {
  const account = config.serviceAccount;
  const projectId = config.projectId ?? account.project_id;
  const baseUrl = (config.baseUrl ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
  const tokenUri = config.tokenUri ?? account.token_uri;
  const timeoutMs = config.timeoutMs ?? 10_000;
  const refreshMarginMs = config.refreshMarginMs ?? 5 * 60_000;
  const now = config.now ?? Date.now;
  const sendUrl = `${baseUrl}/v1/projects/${encodeURIComponent(projectId)}/messages:send`;
  let key: KeyObject | undefined;
  let cached: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  /** Removes the secrets this provider knows (the access token, the device token) from a text that leaves it. */
  const scrub = (text: string, message?: PushMessage) => {
    let out = text;
    for (const secret of [cached?.token, message?.to]) if (secret && secret.length >= 8) out = out.split(secret).join('[redacted]');
    return out.length > 500 ? `${out.slice(0, 500)}…` : out;
  };

  function signedAssertion(): string {
    key ??= createPrivateKey(account.private_key);
    const iat = Math.floor(now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) };
    const claims = { iss: account.client_email, scope: FCM_SCOPE, aud: tokenUri, iat, exp: iat + 3600 };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    return `${input}.${base64url(sign('sha256', Buffer.from(input), key))}`;
  }

  async function fetchToken(): Promise<string> {
    let assertion: string;
    try {
      assertion = signedAssertion();
    } catch (error) {
      // Node's key parsing errors do not quote the key, but say only what kind of failure it was.
      throw new TokenError(`the service account's private key cannot sign (${error instanceof Error ? error.name : 'error'})`);
    }
    let response: Response;
    try {
      response = await fetch(tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new TokenError(`access token request failed: ${networkError(error)}`);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      // OAuth errors are `{ error, error_description }`; neither echoes the assertion.
      let reason = '';
      try {
        const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        reason = [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ');
      } catch {
        // not JSON
      }
      throw new TokenError(`access token request answered ${response.status}${reason ? ` ${scrub(reason)}` : ''}`, parseRetryAfter(response.headers.get('retry-after'), now()));
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TokenError('access token response is not JSON');
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new TokenError('access token response has no access_token');
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    cached = { token: body.access_token, expiresAt: now() + expiresIn * 1000 };
    return body.access_token;
  }

  function accessToken(): Promise<string> {
    if (cached && now() < cached.expiresAt - refreshMarginMs) return Promise.resolve(cached.token);
    inFlight ??= fetchToken().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    name: 'fcm',
    resetToken() {
      cached = undefined;
    },
    async send(message: PushMessage): Promise<PushResult> {
      let token: string;
      try {
        token = await accessToken();
      } catch (error) {
        if (error instanceof TokenError) return { status: 'retryable', error: `FCM: ${error.message}`, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) };
        throw error;
      }
      const body = JSON.stringify({
        message: {
          token: message.to,
          notification: { title: message.title, body: message.body },
          data: message.data,
          android: { priority: 'high', notification: { sound: 'default' } },
          apns: { headers: { 'apns-priority': '10' }, payload: { aps: { sound: 'default' } } },
        },
      });
      let response: Response;
      try {
        response = await fetch(sendUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        return { status: 'retryable', error: `FCM: send failed: ${networkError(error)}` };
      }
      const text = await response.text().catch(() => '');
      if (response.ok) {
        try {
          const name = (JSON.parse(text) as { name?: unknown }).name;
          return typeof name === 'string' ? { status: 'delivered', id: name } : { status: 'delivered' };
        } catch {
          return { status: 'delivered' };
        }
      }
      const { status: grpcStatus, errorCode, message: reason } = fcmError(text);
      const error = `FCM ${response.status}${errorCode ? ` ${errorCode}` : grpcStatus ? ` ${grpcStatus}` : ''}${reason ? `: ${scrub(reason, message)}` : ''}`;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      const retry = (): PushResult => ({ status: 'retryable', error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      if (response.status === 401) {
        // The access token was refused (revoked, or the clock is off): a new one next time.
        cached = undefined;
        return retry();
      }
      if (response.status === 429 || response.status >= 500) return retry();
      // FCM's documented permanent errors: the token is dead (UNREGISTERED, 404), the message or the
      // token is malformed (INVALID_ARGUMENT, 400), or the token belongs to another sender (SENDER_ID_MISMATCH, 403).
      const invalidTarget = errorCode === 'UNREGISTERED' || response.status === 404 || (errorCode === 'INVALID_ARGUMENT' && /token/i.test(reason ?? '')) || errorCode === 'SENDER_ID_MISMATCH';
      return { status: 'permanent', error, invalidTarget };
    },
  };
}

/** FCM's error body: `{ error: { code, message, status, details: [{ '@type': '…FcmError', errorCode }] } }`. */
function fcmError(text: string): { status?: string; errorCode?: string; message?: string } {
  try {
    const error = (JSON.parse(text) as { error?: { status?: unknown; message?: unknown; details?: unknown } }).error;
    if (!error) return {};
    const details = Array.isArray(error.details) ? (error.details as Array<{ errorCode?: unknown }>) : [];
    const errorCode = details.map((d) => d?.errorCode).find((c): c is string => typeof c === 'string');
    return {
      ...(typeof error.status === 'string' ? { status: error.status } : {}),
      ...(errorCode ? { errorCode } : {}),
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
    };
  } catch {
    return {};
  }
}
