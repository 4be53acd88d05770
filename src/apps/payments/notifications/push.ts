/**
 * How a notification leaves the platform: a push provider takes one message to
 * one target and says whether it was delivered, may be tried again later, or
 * never will be (the target is dead or the message is refused).
 */

export interface PushMessage {
  /** Where it goes: an FCM registration token, or a webhook provider's recipient reference. A secret of sorts: never logged. */
  to: string;
  title: string;
  body: string;
  /** Extra key/values for the app on the device (FCM's `data` takes strings only). */
  data: Record<string, string>;
  /** Stable across retries of one notification: a receiver that can deduplicate (webhooks) uses it. */
  idempotencyKey: string;
}

export type PushResult =
  | { status: 'delivered'; /** The provider's id for the message (FCM's `projects/…/messages/…`). */ id?: string }
  | {
      status: 'retryable';
      error: string;
      /** The provider asked to wait this long before trying again (Retry-After). */
      retryAfterMs?: number;
    }
  | {
      status: 'permanent';
      error: string;
      /** The target itself is dead (FCM UNREGISTERED, an invalid token): stop sending to it. */
      invalidTarget: boolean;
    };

export interface PushProvider {
  /** How notification rows name this provider (`fcm`, `webhook`). */
  name: string;
  /** Never throws for a failure to deliver: the result says what happened. Error texts hold no secret. */
  send(message: PushMessage): Promise<PushResult>;
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A failure of fetch itself (no answer): its message and cause's code, without the URL or anything else in the request. */
export function networkError(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code ?? (error instanceof Error ? error.name : 'network error');
}
