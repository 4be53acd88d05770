-- The payments app's notifications (issue 13), written by hand: one row per message to one
-- recipient, sent by the graphile-worker task `payments.notify`, retried on temporary failures,
-- and left `dead` (the dead letter, with its last error) when it never will be delivered.

CREATE TABLE payment_notifications (
  id bigserial PRIMARY KEY,
  -- Who it is for: the app's user or account reference.
  account text NOT NULL,
  -- Which push provider sends it (`fcm`, `webhook`, …) and to what there (a device token, a recipient reference).
  provider text NOT NULL,
  target text NOT NULL,
  locale text NOT NULL DEFAULT 'es',
  kind text NOT NULL CHECK (kind IN ('payment_received', 'payment_sent', 'merchant_payment_received',
    'escrow_created', 'escrow_released', 'escrow_cancelled', 'escrow_disputed')),
  -- What the message is made of: amount (base units, as text), decimals, symbol, counterparty, reference, data.
  payload jsonb NOT NULL,
  -- One notification per event, recipient and kind (e.g. `<digest>:<recipient>:payment_received`):
  -- processing a transaction again never notifies again.
  idempotency_key text NOT NULL UNIQUE,
  -- pending: not tried yet; failed: tried, to be tried again; sent; dead: never will be.
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'dead')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  -- The provider's id of the delivered message (FCM's `projects/…/messages/…`).
  provider_message_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);

-- A user's notifications, newest first; and the dead letters, for whoever looks after them.
CREATE INDEX payment_notifications_account ON payment_notifications (account, created_at DESC);
CREATE INDEX payment_notifications_dead ON payment_notifications (updated_at) WHERE state = 'dead';
