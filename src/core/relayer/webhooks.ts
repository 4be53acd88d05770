import { createHmac, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { Task } from 'graphile-worker';
import { redactUrl } from '../../runtime/redact.js';

export interface WebhookConfig {
  urls: string[];
  /** HMAC-SHA256 key; never logged. */
  secret: string;
  /** Tries per delivery before it is left failed (graphile-worker retries with exponential backoff). */
  maxAttempts: number;
  timeoutMs: number;
}

/** The graphile-worker task that posts one intent state change to one endpoint. */
export const WEBHOOK_TASK = 'ledgersync.webhook';

/** Makes relayer_webhooks hold exactly the configured endpoints (the trigger queues deliveries for these). */
export async function registerWebhooks(pool: pg.Pool, config: Pick<WebhookConfig, 'urls' | 'maxAttempts'>): Promise<void> {
  await pool.query(
    `with wanted as (select unnest($1::text[]) as url),
          removed as (delete from relayer_webhooks where url not in (select url from wanted))
     insert into relayer_webhooks (url, max_attempts) select url, $2 from wanted
     on conflict (url) do update set max_attempts = excluded.max_attempts`,
    [config.urls, config.maxAttempts],
  );
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes
 * it with the shared secret, and rejects old timestamps to stop replays.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks a signature header against the body, within `toleranceSeconds`. */
export function verifyWebhook(secret: string, header: string, body: string, toleranceSeconds = 300, now = Date.now() / 1000): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isFinite(timestamp) || Math.abs(now - timestamp) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface DeliveryPayload {
  url: string;
  intentId: string;
  state: string;
  at: string;
}

/**
 * Posts `{ type: 'intent.state_changed', state, occurredAt, intent }` to the
 * endpoint. Any answer but 2xx (or no answer within the timeout) throws, and
 * graphile-worker tries again later; after the last try the job stays in
 * graphile_worker.jobs with its last error: the dead letter.
 */
export function webhookTask(pool: pg.Pool, config: Pick<WebhookConfig, 'secret' | 'timeoutMs'>): Task {
  return async (payload, helpers) => {
    const delivery = payload as DeliveryPayload;
    const { rows } = await pool.query(
      `select id::text, idempotency_key, kind, chain, sender, function_name, transaction_id, block_number::text, error, updated_at
       from relayer_intents where id = $1`,
      [delivery.intentId],
    );
    const intent = rows[0];
    if (!intent) return; // deleted since: nothing to tell
    const body = JSON.stringify({
      type: 'intent.state_changed',
      state: delivery.state,
      occurredAt: delivery.at,
      intent: {
        id: intent.id,
        idempotencyKey: intent.idempotency_key,
        kind: intent.kind,
        chain: intent.chain,
        sender: intent.sender,
        functionName: intent.function_name,
        transactionId: intent.transaction_id,
        blockNumber: intent.block_number,
        error: intent.error,
      },
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ledgersync-signature': signWebhook(config.secret, timestamp, body),
        'ledgersync-delivery': String(helpers.job.id),
      },
      body,
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`webhook ${redactUrl(delivery.url)} answered ${response.status}`);
  };
}
