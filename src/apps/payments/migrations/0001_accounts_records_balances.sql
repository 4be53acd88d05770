-- The payments app (issue 13, seeds 002 and 004), written by hand: users and their accounts
-- (one address per chain), what the poller keeps of each relevant transaction (raw events,
-- records, the processing log), cached balances with their pending amounts and drifts, and sends.

-- A Confío user: who notifications go to, in their language, on their device.
CREATE TABLE payment_users (
  id bigserial PRIMARY KEY,
  -- The app's own id of the user (a phone number's hash, a Firebase uid): unique.
  external_ref text NOT NULL UNIQUE CHECK (external_ref <> '' AND length(external_ref) <= 200),
  display_name text CHECK (length(display_name) <= 200),
  locale text NOT NULL DEFAULT 'es' CHECK (locale <> '' AND length(locale) <= 35),
  -- Where pushes go: a provider (`fcm`, `webhook`) and its target (a device token); none: no pushes.
  push_provider text,
  push_target text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((push_provider IS NULL) = (push_target IS NULL))
);
--> statement-breakpoint

-- A user's address on one chain (one per chain). Active accounts are the address set the chain
-- sources follow (`payments:<chain>`), kept current by the trigger below in the same commit.
CREATE TABLE payment_accounts (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES payment_users (id),
  chain text NOT NULL,
  -- As the chain family compares it: lower-case 0x hex on EVM, the 64-hex long form on Sui.
  address text NOT NULL CHECK (address ~ '^0x[0-9a-f]+$'),
  active boolean NOT NULL DEFAULT true,
  -- custodial: the platform holds its key (a signer of the chain); user: the user signs on the device.
  custody text NOT NULL DEFAULT 'user' CHECK (custody IN ('custodial', 'user')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chain, address),
  UNIQUE (user_id, chain)
);
--> statement-breakpoint

CREATE FUNCTION payment_accounts_address_set() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM address_sets WHERE name = 'payments:' || OLD.chain AND address = OLD.address;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.active THEN
    INSERT INTO address_sets (name, address) VALUES ('payments:' || NEW.chain, NEW.address) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER payment_accounts_address_set AFTER INSERT OR UPDATE OR DELETE ON payment_accounts
  FOR EACH ROW EXECUTE FUNCTION payment_accounts_address_set();
--> statement-breakpoint

-- The audit trail: one row per relevant transaction, with every event of it the poller kept
-- (projection `payments`: journaled for reorgs, rebuilt by reindex).
CREATE TABLE payment_raw_events (
  chain text NOT NULL,
  transaction_id text NOT NULL,
  block_number bigint NOT NULL,
  block_hash text NOT NULL,
  block_timestamp bigint NOT NULL,
  -- [{ source, name, emitter, eventIndex, args }] in chain order.
  events jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain, transaction_id)
);
--> statement-breakpoint

-- What happened, per module: one row per transfer, payment or escrow step (projection `payments`).
CREATE TABLE payment_transactions (
  chain text NOT NULL,
  transaction_id text NOT NULL,
  -- The position of the event it comes from in its block (a Sui transfer: its Transaction event's).
  event_index integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('transfer', 'payment', 'escrow_created', 'escrow_paid', 'escrow_released', 'escrow_cancelled', 'escrow_disputed', 'escrow_resolved')),
  token text NOT NULL,
  amount numeric(78, 0) NOT NULL CHECK (amount >= 0),
  fee numeric(78, 0) NOT NULL DEFAULT 0 CHECK (fee >= 0),
  sender_address text,
  recipient_address text,
  -- Our accounts among them, if any (resolved when processed).
  sender_account bigint REFERENCES payment_accounts (id),
  recipient_account bigint REFERENCES payment_accounts (id),
  -- Pay: the payment reference; P2P: the trade id.
  reference text,
  status text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'failed')),
  block_number bigint NOT NULL,
  block_timestamp bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain, transaction_id, event_index, kind)
);
--> statement-breakpoint
-- History per account, newest first (cursor pagination on (block_number, event_index)).
CREATE INDEX payment_transactions_sender ON payment_transactions (sender_account, block_number DESC, event_index DESC) WHERE sender_account IS NOT NULL;
--> statement-breakpoint
CREATE INDEX payment_transactions_recipient ON payment_transactions (recipient_account, block_number DESC, event_index DESC) WHERE recipient_account IS NOT NULL;
--> statement-breakpoint

-- Every handler run: which, on what, outcome, error, duration, attempt. Append-only and kept
-- across reindexes (it is the audit of processing, not a fold of the chain).
CREATE TABLE payment_processing_log (
  id bigserial PRIMARY KEY,
  chain text NOT NULL,
  transaction_id text NOT NULL,
  handler text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('processed', 'nothing', 'failed')),
  error text,
  duration_ms double precision NOT NULL CHECK (duration_ms >= 0),
  attempt integer NOT NULL CHECK (attempt >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((outcome = 'failed') = (error IS NOT NULL))
);
--> statement-breakpoint
CREATE INDEX payment_processing_log_transaction ON payment_processing_log (chain, transaction_id, handler, id);
--> statement-breakpoint

-- The cached balance of an account in a token (seed 004): the amount at a chain height, when it
-- was read, whether something touched it since (stale), and what is in flight.
CREATE TABLE payment_balances (
  account_id bigint NOT NULL REFERENCES payment_accounts (id),
  token text NOT NULL,
  amount numeric(78, 0) NOT NULL DEFAULT 0 CHECK (amount >= 0),
  -- The block or checkpoint the amount was read at; null: never read from the chain.
  height bigint,
  last_synced timestamptz,
  stale boolean NOT NULL DEFAULT true,
  -- Reserved by sends not settled yet; promised by sends from our other accounts.
  pending_out numeric(78, 0) NOT NULL DEFAULT 0 CHECK (pending_out >= 0),
  pending_in numeric(78, 0) NOT NULL DEFAULT 0 CHECK (pending_in >= 0),
  PRIMARY KEY (account_id, token)
);
--> statement-breakpoint
CREATE INDEX payment_balances_stale ON payment_balances (last_synced NULLS FIRST) WHERE stale;
--> statement-breakpoint

-- A difference the hourly reconciliation found between the cache and the chain (then repaired).
CREATE TABLE payment_balance_drifts (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES payment_accounts (id),
  token text NOT NULL,
  cached numeric(78, 0) NOT NULL,
  on_chain numeric(78, 0) NOT NULL,
  height bigint NOT NULL,
  found_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint

-- A send asked for through the API: the reservation it holds and the intent that carries it.
CREATE TABLE payment_sends (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES payment_accounts (id),
  token text NOT NULL,
  recipient_address text NOT NULL,
  -- Our account it goes to, if it is one (its pending_in).
  recipient_account bigint REFERENCES payment_accounts (id),
  amount numeric(78, 0) NOT NULL CHECK (amount > 0),
  -- custodial: signed by the platform's key; user_signed: bytes the user signed, submitted as they are.
  mode text NOT NULL CHECK (mode IN ('custodial', 'user_signed')),
  intent_id bigint NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'failed')),
  transaction_id text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  settled_at timestamptz,
  CHECK ((state = 'pending') = (settled_at IS NULL))
);
--> statement-breakpoint
CREATE INDEX payment_sends_account ON payment_sends (account_id, id DESC);
--> statement-breakpoint
CREATE INDEX payment_sends_pending ON payment_sends (intent_id) WHERE state = 'pending';
