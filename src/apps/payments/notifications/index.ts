/** The payments app's notifications: push providers (FCM HTTP v1, signed webhooks), localised messages, delivery through the job queue. */
export type { PushMessage, PushProvider, PushResult } from './push.js';
export { fcmProvider, FCM_SCOPE, JWT_BEARER_GRANT, type FcmConfig, type ServiceAccount } from './fcm.js';
export { webhookProvider, SIGNATURE_HEADER, DELIVERY_HEADER, type WebhookProviderConfig } from './webhook.js';
export { renderMessage, formatAmount, resolveLocale, NOTIFICATION_KINDS, LANGUAGES, DEFAULT_LOCALE, type NotificationKind, type MessageParams, type RenderedMessage } from './messages.js';
export {
  queueNotification,
  queueNotifications,
  notificationTask,
  notificationKey,
  NOTIFY_TASK,
  DEFAULT_MAX_ATTEMPTS,
  type NotificationRequest,
  type NotificationState,
  type NotificationTaskOptions,
} from './delivery.js';
