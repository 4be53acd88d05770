import { redactUrl, signWebhook } from '../../../engine/index.js';
import { networkError, parseRetryAfter, type PushMessage, type PushProvider, type PushResult } from './push.js';

export interface WebhookProviderConfig {
  /** Where every notification is posted. Its key-like parts never reach an error or a log. */
  url: string;
  /** HMAC-SHA256 key; never logged. */
  secret: string;
  /** How rows name this provider. Default `webhook`. */
  name?: string;
  /** Default 10 s. */
  timeoutMs?: number;
}

/** The header carrying the signature: the engine's webhook scheme, `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'ledgersync-signature';
/** The notification's idempotency key, the same on every retry: receivers deduplicate on it. */
export const DELIVERY_HEADER = 'ledgersync-delivery';

/**
 * Posts `{ type: 'payments.notification', idempotencyKey, to, title, body, data, sentAt }`
 * as JSON to the configured URL, signed as the engine signs its webhooks (the
 * receiver checks it with `verifyWebhook` of src/engine). 2xx is delivered;
 * 408, 425, 429 and 5xx (and no answer) may be tried again; any other answer is permanent.
 */
export function webhookProvider(config: WebhookProviderConfig): PushProvider {
  const timeoutMs = config.timeoutMs ?? 10_000;
  const where = redactUrl(config.url);
  return {
    name: config.name ?? 'webhook',
    async send(message: PushMessage): Promise<PushResult> {
      const body = JSON.stringify({
        type: 'payments.notification',
        idempotencyKey: message.idempotencyKey,
        to: message.to,
        title: message.title,
        body: message.body,
        data: message.data,
        sentAt: new Date().toISOString(),
      });
      let response: Response;
      try {
        response = await fetch(config.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhook(config.secret, Math.floor(Date.now() / 1000), body),
            [DELIVERY_HEADER]: message.idempotencyKey,
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        return { status: 'retryable', error: `webhook ${where}: ${networkError(error)}` };
      }
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { status: 'delivered' };
      const error = `webhook ${where} answered ${response.status}`;
      if ([408, 425, 429].includes(response.status) || response.status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        return { status: 'retryable', error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }
      return { status: 'permanent', error, invalidTarget: response.status === 410 };
    },
  };
}
