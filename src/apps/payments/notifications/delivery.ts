import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { inTransaction, type Logger, type ProjectionStore } from '../../../engine/index.js';
import { isNotificationKind, renderMessage, type MessageParams, type NotificationKind } from './messages.js';
import type { PushMessage, PushProvider, PushResult } from './push.js';

/** The graphile-worker task that sends one notification. */
export const NOTIFY_TASK = 'payments.notify';
/** Tries per notification before it is dead, unless the caller says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 8;
/** A Retry-After is followed up to this long; beyond it the provider is asked again sooner. */
const MAX_RETRY_AFTER_MS = 60 * 60_000;

export type NotificationState = 'pending' | 'sent' | 'failed' | 'dead';

export interface NotificationRequest {
  /** Who it is for: the app's user or account reference. */
  account: string;
  /** The push provider's name (`fcm`, `webhook`) and the target there (a device token, a recipient reference). */
  provider: string;
  target: string;
  /** The user's locale; unknown or absent: Spanish. */
  locale?: string | null;
  kind: NotificationKind;
  params: MessageParams & { /** Extra string values for the device (a transaction id to open). */ data?: Record<string, string> };
  /** One per event, recipient and kind: see `notificationKey`. A second request with the same key does nothing. */
  idempotencyKey: string;
}

/** The idempotency key of the notification of `kind` to `recipient` about `event` (a transaction digest, or digest and event index). */
export const notificationKey = (event: string, recipient: string, kind: NotificationKind) => `${event}:${recipient}:${kind}`;

/**
 * Records a notification and queues its delivery, in the caller's transaction
 * (`client` inside BEGIN … COMMIT): both happen with the caller's own writes or
 * neither does. A notification whose idempotency key is already recorded is
 * neither recorded nor queued again: `queued: false`, and the id of the first.
 */
export async function queueNotification(
  client: Pick<ProjectionStore, 'query'>,
  request: NotificationRequest,
  options: { maxAttempts?: number; runAt?: Date } = {},
): Promise<{ id: string; queued: boolean }> {
  return (await queueNotifications(client, [request], options))[0]!;
}

/**
 * `queueNotification` for many requests at once, in three statements whatever
 * their number (the poller queues a block's pushes with it); results in the
 * order of the requests.
 */
export async function queueNotifications(
  client: Pick<ProjectionStore, 'query'>,
  requests: NotificationRequest[],
  options: { maxAttempts?: number; runAt?: Date } = {},
): Promise<Array<{ id: string; queued: boolean }>> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 32767) throw new RangeError(`maxAttempts must be an integer from 1 to 32767, not ${maxAttempts}`);
  if (requests.length === 0) return [];
  const rows = requests.map((request) => {
    if (!isNotificationKind(request.kind)) throw new Error(`unknown notification kind ${String(request.kind)}`);
    const { amount, decimals, symbol, counterparty, reference, data } = request.params;
    const payload = { amount: amount.toString(), decimals, symbol, ...(counterparty ? { counterparty } : {}), ...(reference ? { reference } : {}), ...(data ? { data } : {}) };
    return { account: request.account, provider: request.provider, target: request.target, locale: request.locale ?? 'es', kind: request.kind, payload, idempotency_key: request.idempotencyKey };
  });
  const { rows: inserted } = await client.query<{ id: string; idempotency_key: string }>(
    `insert into payment_notifications (account, provider, target, locale, kind, payload, idempotency_key)
     select r.account, r.provider, r.target, r.locale, r.kind, r.payload, r.idempotency_key
     from jsonb_to_recordset($1::jsonb) as r(n integer, account text, provider text, target text, locale text, kind text, payload jsonb, idempotency_key text)
     order by r.n
     on conflict (idempotency_key) do nothing
     returning id::text, idempotency_key`,
    [JSON.stringify(rows.map((row, n) => ({ n, ...row })))],
  );
  if (inserted.length > 0) {
    await client.query(`select graphile_worker.add_job($1, json_build_object('id', id), run_at := $2, max_attempts := $3) from unnest($4::text[]) as id`, [
      NOTIFY_TASK,
      options.runAt ?? null,
      maxAttempts,
      inserted.map((r) => r.id),
    ]);
  }
  const queued = new Map(inserted.map((r) => [r.idempotency_key, r.id]));
  const earlier = requests.filter((r) => !queued.has(r.idempotencyKey)).map((r) => r.idempotencyKey);
  const { rows: existing } =
    earlier.length > 0
      ? await client.query<{ id: string; idempotency_key: string }>('select id::text, idempotency_key from payment_notifications where idempotency_key = any($1::text[])', [earlier])
      : { rows: [] };
  const first = new Map(existing.map((r) => [r.idempotency_key, r.id]));
  // A key twice in one call: the first request is recorded and queued, the second finds it.
  const seen = new Set<string>();
  return requests.map((r) => {
    const id = queued.get(r.idempotencyKey);
    if (id !== undefined && !seen.has(r.idempotencyKey)) {
      seen.add(r.idempotencyKey);
      return { id, queued: true };
    }
    return { id: id ?? first.get(r.idempotencyKey)!, queued: false };
  });
}

interface ClaimedRow {
  id: string;
  account: string;
  provider: string;
  target: string;
  locale: string;
  kind: string;
  payload: { amount: string; decimals: number; symbol: string; counterparty?: string; reference?: string; data?: Record<string, string> };
  idempotency_key: string;
  attempts: number;
}

export interface NotificationTaskOptions {
  /**
   * Told when a provider says a target is dead (FCM UNREGISTERED, a webhook's 410):
   * the app stops sending to it (forgets the device token). Its failure is logged, not retried.
   */
  onInvalidTarget?(notification: { id: string; account: string; provider: string; target: string }): Promise<void>;
}

/**
 * The task sending one notification (`{ id }`) through its provider:
 * - delivered: `sent`;
 * - a temporary failure (5xx, 429, no answer, no access token): `failed` with the error, and
 *   thrown, so that graphile-worker tries again with its backoff; when the provider gave a
 *   Retry-After, the job is queued again for then instead (with the attempts left);
 *   after the job's last attempt (helpers.job.max_attempts): `dead` with the last error;
 * - a permanent failure (a dead token, a refused message): `dead` at once.
 * A notification already sent or dead is left alone, so a job run twice sends once.
 */
export function notificationTask(ports: { pool: pg.Pool; logger: Logger }, providers: PushProvider[], options: NotificationTaskOptions = {}): Task {
  const byName = new Map<string, PushProvider>();
  for (const provider of providers) {
    if (byName.has(provider.name)) throw new Error(`two push providers are named ${provider.name}`);
    byName.set(provider.name, provider);
  }
  const logger = ports.logger.child({ task: NOTIFY_TASK });

  return async (jobPayload, helpers) => {
    const id = String((jobPayload as { id?: unknown }).id ?? '');
    if (!/^\d+$/.test(id)) throw new Error(`${NOTIFY_TASK}: payload has no notification id`);
    const { rows } = await ports.pool.query<ClaimedRow>(
      `update payment_notifications set attempts = attempts + 1, updated_at = now()
       where id = $1 and state in ('pending', 'failed')
       returning id::text, account, provider, target, locale, kind, payload, idempotency_key, attempts`,
      [id],
    );
    const row = rows[0];
    if (!row) return; // sent or dead already (or deleted): nothing to do
    const log = logger.child({ notification: row.id, kind: row.kind, provider: row.provider, attempt: row.attempts });

    const result = await attempt(row, byName.get(row.provider));
    if (result.status === 'delivered') {
      await ports.pool.query(
        `update payment_notifications set state = 'sent', sent_at = now(), updated_at = now(), last_error = null, provider_message_id = $2 where id = $1`,
        [row.id, result.id ?? null],
      );
      log.info('notification sent');
      return;
    }
    const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
    if (result.status === 'permanent' || lastAttempt) {
      await ports.pool.query(`update payment_notifications set state = 'dead', updated_at = now(), last_error = $2 where id = $1`, [row.id, result.error]);
      log.warn({ error: result.error, permanent: result.status === 'permanent' }, 'notification dead: it will not be sent');
      if (result.status === 'permanent' && result.invalidTarget && options.onInvalidTarget) {
        await options.onInvalidTarget({ id: row.id, account: row.account, provider: row.provider, target: row.target }).catch((error: unknown) => {
          log.error({ error: error instanceof Error ? error.message : String(error) }, 'onInvalidTarget failed');
        });
      }
      return;
    }
    if (result.retryAfterMs !== undefined) {
      // The provider said when: a new job for then, with the attempts this one had left.
      const delayMs = Math.min(Math.max(result.retryAfterMs, 1000), MAX_RETRY_AFTER_MS);
      await inTransaction(ports.pool, async (client) => {
        await client.query(`update payment_notifications set state = 'failed', updated_at = now(), last_error = $2 where id = $1`, [row.id, result.error]);
        await client.query(`select graphile_worker.add_job($1, $2::json, run_at := now() + $3 * interval '1 millisecond', max_attempts := $4)`, [
          NOTIFY_TASK,
          JSON.stringify({ id: row.id }),
          delayMs,
          helpers.job.max_attempts - helpers.job.attempts,
        ]);
      });
      log.info({ error: result.error, retryInMs: delayMs }, 'notification not sent yet: trying again when the provider asked');
      return;
    }
    await ports.pool.query(`update payment_notifications set state = 'failed', updated_at = now(), last_error = $2 where id = $1`, [row.id, result.error]);
    // graphile-worker logs this and tries again after its backoff; the message holds no secret.
    throw new Error(`notification ${row.id} not sent yet: ${result.error}`);
  };
}

/** One try: the message rendered and handed to its provider. Never throws. */
async function attempt(row: ClaimedRow, provider: PushProvider | undefined): Promise<PushResult> {
  if (!provider) return { status: 'retryable', error: `no push provider named ${row.provider} on this worker` };
  let message: PushMessage;
  try {
    if (!isNotificationKind(row.kind)) throw new Error(`unknown kind ${row.kind}`);
    const p = row.payload;
    const rendered = renderMessage(row.kind, row.locale, {
      amount: BigInt(p.amount),
      decimals: p.decimals,
      symbol: p.symbol,
      ...(p.counterparty ? { counterparty: p.counterparty } : {}),
      ...(p.reference ? { reference: p.reference } : {}),
    });
    message = {
      to: row.target,
      title: rendered.title,
      body: rendered.body,
      data: { ...p.data, kind: row.kind, amount: p.amount, decimals: String(p.decimals), symbol: p.symbol, notificationId: row.id },
      idempotencyKey: row.idempotency_key,
    };
  } catch (error) {
    return { status: 'permanent', error: `cannot write the message: ${error instanceof Error ? error.message : String(error)}`, invalidTarget: false };
  }
  try {
    return await provider.send(message);
  } catch (error) {
    // A provider is not to throw; if one does, its message may quote the target.
    const text = error instanceof Error ? `${error.name}: ${error.message}` : 'error';
    return { status: 'retryable', error: `${provider.name} threw ${text.split(row.target).join('[redacted]')}`.slice(0, 500) };
  }
}
