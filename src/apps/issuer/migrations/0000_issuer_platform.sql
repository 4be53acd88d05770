-- The issuer platform's tables (issue 12), written by hand: its state machines live here, in the
-- database, so that an illegal transition is refused whoever asks, the app or a person at psql.

-- Every legal move of each state machine. '(new)' is where a row starts.
CREATE TABLE issuer_transitions (
  entity text NOT NULL CHECK (entity IN ('company', 'investor', 'campaign', 'investment')),
  from_state text NOT NULL,
  to_state text NOT NULL,
  PRIMARY KEY (entity, from_state, to_state)
);
INSERT INTO issuer_transitions (entity, from_state, to_state) VALUES
  -- A company is registered as an issuer on chain; a failed registration may be retried.
  ('company', '(new)', 'registering'),
  ('company', 'registering', 'registered'),
  ('company', 'registering', 'registration_failed'),
  ('company', 'registration_failed', 'registering'),
  -- An investor is verified in the investor registry (their claim hash) before investing.
  ('investor', '(new)', 'verifying'),
  ('investor', 'verifying', 'verified'),
  ('investor', 'verifying', 'verification_failed'),
  ('investor', 'verification_failed', 'verifying'),
  -- A campaign: draft -> submitted -> approved (by a compliance officer) -> deploying -> active
  -- -> closing -> successful -> certificates_issued | failed -> refunding -> refunded.
  ('campaign', '(new)', 'draft'),
  ('campaign', 'draft', 'submitted'),
  ('campaign', 'draft', 'withdrawn'),
  ('campaign', 'submitted', 'approved'),
  ('campaign', 'submitted', 'rejected'),
  ('campaign', 'approved', 'deploying'),
  ('campaign', 'deploying', 'active'),
  -- The deployment reverted or timed out: back to approved with the reason, to be retried.
  ('campaign', 'deploying', 'approved'),
  -- A deployment given up on (timed out) landed after all: the chain says the campaign is live.
  ('campaign', 'approved', 'active'),
  ('campaign', 'active', 'closing'),
  -- Closed too early by the chain's clock: open again until its deadline passes there.
  ('campaign', 'closing', 'active'),
  ('campaign', 'closing', 'successful'),
  ('campaign', 'closing', 'failed'),
  ('campaign', 'successful', 'certificates_issued'),
  ('campaign', 'failed', 'refunding'),
  ('campaign', 'refunding', 'refunded'),
  -- An investment passes the AML check (recording) or is held for review; an officer releases or rejects it.
  ('investment', '(new)', 'recording'),
  ('investment', '(new)', 'held'),
  ('investment', 'held', 'recording'),
  ('investment', 'held', 'rejected'),
  ('investment', 'recording', 'recorded'),
  ('investment', 'recording', 'record_failed'),
  ('investment', 'recorded', 'certified'),
  ('investment', 'recorded', 'refunded');

-- Who did what, when and why, for every transition: written by the triggers below, never changed.
CREATE TABLE issuer_audit_log (
  id bigserial PRIMARY KEY,
  entity text NOT NULL,
  entity_id bigint NOT NULL,
  from_state text,
  to_state text NOT NULL,
  reason text,
  -- The API key (or the relayer, a task) that made the change: the transaction's `issuer.actor`
  -- setting, else the database user, marked as direct SQL.
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX issuer_audit_log_entity ON issuer_audit_log (entity, entity_id, id);

CREATE FUNCTION issuer_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'LSI02';
END $$;
CREATE TRIGGER issuer_audit_log_append_only BEFORE UPDATE OR DELETE ON issuer_audit_log
  FOR EACH ROW EXECUTE FUNCTION issuer_refuse_change();
CREATE TRIGGER issuer_audit_log_no_truncate BEFORE TRUNCATE ON issuer_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION issuer_refuse_change();

-- Refuses a state (on insert) or a change of state that issuer_transitions does not list.
CREATE FUNCTION issuer_guard_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  _entity text := TG_ARGV[0];
  _from text := CASE WHEN TG_OP = 'INSERT' THEN '(new)' ELSE OLD.state END;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.state IS NOT DISTINCT FROM OLD.state THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM issuer_transitions t WHERE t.entity = _entity AND t.from_state = _from AND t.to_state = NEW.state) THEN
    RAISE EXCEPTION 'illegal % transition: % -> %', _entity, _from, NEW.state
      USING ERRCODE = 'LSI01', DETAIL = format('%s %s', _entity, NEW.id);
  END IF;
  NEW.state_changed_at := now();
  RETURN NEW;
END $$;

CREATE FUNCTION issuer_audit_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.state IS NOT DISTINCT FROM OLD.state THEN
    RETURN NULL;
  END IF;
  INSERT INTO issuer_audit_log (entity, entity_id, from_state, to_state, reason, actor)
  VALUES (
    TG_ARGV[0], NEW.id, CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.state END, NEW.state, NEW.state_reason,
    coalesce(nullif(current_setting('issuer.actor', true), ''), 'sql:' || session_user)
  );
  RETURN NULL;
END $$;

CREATE TABLE companies (
  id bigserial PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Its issuer account on chain (lower-case).
  wallet text NOT NULL UNIQUE CHECK (wallet ~ '^0x[0-9a-f]{40}$'),
  -- Its verifiable credential (hash), and where its documents are.
  vc_hash text NOT NULL CHECK (vc_hash ~ '^0x[0-9a-f]{64}$'),
  ipfs_hash text NOT NULL DEFAULT '',
  state text NOT NULL,
  state_reason text,
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  registration_intent bigint,
  registered_transaction text,
  registered_block bigint,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE investors (
  id bigserial PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  wallet text NOT NULL UNIQUE CHECK (wallet ~ '^0x[0-9a-f]{40}$'),
  -- ISO 3166-1 alpha-2, checked against the sanctioned list on every investment.
  country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  -- The hash of the claim that verified them (KYC), recorded in the investor registry.
  claim_hash text NOT NULL CHECK (claim_hash ~ '^0x[0-9a-f]{64}$'),
  state text NOT NULL,
  state_reason text,
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  verification_intent bigint,
  -- AML: this investor's own limit per period (null: the configured default), risk flags, review status.
  period_limit numeric(78, 0) CHECK (period_limit > 0),
  risk_flags text[] NOT NULL DEFAULT '{}',
  review_status text NOT NULL DEFAULT 'clear' CHECK (review_status IN ('clear', 'watch', 'blocked')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Verifiable credentials that compliance relies on: a company's issuer credential, an investor's claim.
CREATE TABLE vc_links (
  id bigserial PRIMARY KEY,
  credential_hash text NOT NULL CHECK (credential_hash ~ '^0x[0-9a-f]{64}$'),
  -- Who issued the credential (a DID or an organisation's name) and whom it is about.
  issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
  subject text NOT NULL,
  company_id bigint REFERENCES companies,
  investor_id bigint REFERENCES investors,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((company_id IS NULL) <> (investor_id IS NULL)),
  UNIQUE (credential_hash, subject)
);

CREATE TABLE campaigns (
  id bigserial PRIMARY KEY,
  company_id bigint NOT NULL REFERENCES companies,
  -- The platform's id of the campaign on chain: the CREATE2 salt of its contract.
  reference text NOT NULL UNIQUE CHECK (reference ~ '^0x[0-9a-f]{64}$'),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  target numeric(78, 0) NOT NULL CHECK (target > 0),
  minimum numeric(78, 0) NOT NULL CHECK (minimum > 0 AND minimum <= target),
  deadline timestamptz NOT NULL,
  -- The calendar year (UTC) it was opened in: one campaign per company per year.
  year integer NOT NULL DEFAULT extract(year FROM now() AT TIME ZONE 'UTC'),
  state text NOT NULL,
  state_reason text,
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  deploy_attempts integer NOT NULL DEFAULT 0,
  deploy_intent bigint,
  contract_address text UNIQUE,
  deployed_block bigint,
  deployed_transaction text,
  finalize_intent bigint,
  -- The sum of its recorded investments (confirmed on chain).
  raised numeric(78, 0) NOT NULL DEFAULT 0,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The exclusivity lock: one open campaign per company, and one per company per calendar year
-- (a campaign withdrawn or rejected before it ran does not count).
CREATE UNIQUE INDEX campaigns_one_open_per_company ON campaigns (company_id)
  WHERE state IN ('draft', 'submitted', 'approved', 'deploying', 'active', 'closing');
CREATE UNIQUE INDEX campaigns_one_per_company_per_year ON campaigns (company_id, year)
  WHERE state NOT IN ('withdrawn', 'rejected');
CREATE INDEX campaigns_due ON campaigns (deadline) WHERE state = 'active';

CREATE TABLE investments (
  id bigserial PRIMARY KEY,
  campaign_id bigint NOT NULL REFERENCES campaigns,
  investor_id bigint NOT NULL REFERENCES investors,
  amount numeric(78, 0) NOT NULL CHECK (amount > 0),
  -- The platform's id of the investment on chain (and of its certificate).
  reference text NOT NULL UNIQUE CHECK (reference ~ '^0x[0-9a-f]{64}$'),
  state text NOT NULL,
  state_reason text,
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  -- AML: what the check found (empty: it passed) and where its review stands.
  aml_flags text[] NOT NULL DEFAULT '{}',
  aml_review text NOT NULL CHECK (aml_review IN ('passed', 'held', 'released', 'rejected')),
  intent bigint,
  transaction_hash text,
  block_number bigint,
  certificate_intent bigint,
  certificate_token_id text,
  refund_intent bigint,
  refund_transaction text,
  -- The client's Idempotency-Key: the same request sent again finds this investment.
  idempotency_key text UNIQUE,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX investments_campaign ON investments (campaign_id, id);
CREATE INDEX investments_investor_recent ON investments (investor_id, created_at);

CREATE TABLE compliance_approvals (
  id bigserial PRIMARY KEY,
  campaign_id bigint REFERENCES campaigns,
  investment_id bigint REFERENCES investments,
  decision text NOT NULL CHECK (decision IN ('approved', 'rejected', 'released')),
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  officer text NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((campaign_id IS NULL) <> (investment_id IS NULL))
);

CREATE TRIGGER companies_guard BEFORE INSERT OR UPDATE OF state ON companies FOR EACH ROW EXECUTE FUNCTION issuer_guard_state('company');
CREATE TRIGGER companies_audit AFTER INSERT OR UPDATE OF state ON companies FOR EACH ROW EXECUTE FUNCTION issuer_audit_state('company');
CREATE TRIGGER investors_guard BEFORE INSERT OR UPDATE OF state ON investors FOR EACH ROW EXECUTE FUNCTION issuer_guard_state('investor');
CREATE TRIGGER investors_audit AFTER INSERT OR UPDATE OF state ON investors FOR EACH ROW EXECUTE FUNCTION issuer_audit_state('investor');
CREATE TRIGGER campaigns_guard BEFORE INSERT OR UPDATE OF state ON campaigns FOR EACH ROW EXECUTE FUNCTION issuer_guard_state('campaign');
CREATE TRIGGER campaigns_audit AFTER INSERT OR UPDATE OF state ON campaigns FOR EACH ROW EXECUTE FUNCTION issuer_audit_state('campaign');
CREATE TRIGGER investments_guard BEFORE INSERT OR UPDATE OF state ON investments FOR EACH ROW EXECUTE FUNCTION issuer_guard_state('investment');
CREATE TRIGGER investments_audit AFTER INSERT OR UPDATE OF state ON investments FOR EACH ROW EXECUTE FUNCTION issuer_audit_state('investment');

-- The chain as the indexer sees it (projections: journaled, so a reorg takes back what it removes).
CREATE TABLE issuer_chain_issuers (
  chain text NOT NULL,
  issuer text NOT NULL,
  vc_hash text NOT NULL,
  ipfs_hash text NOT NULL,
  registered boolean NOT NULL,
  updated_block bigint NOT NULL,
  updated_transaction text NOT NULL,
  PRIMARY KEY (chain, issuer)
);

CREATE TABLE issuer_chain_investors (
  chain text NOT NULL,
  investor text NOT NULL,
  claim_hash text,
  verified boolean NOT NULL,
  updated_block bigint NOT NULL,
  PRIMARY KEY (chain, investor)
);

CREATE TABLE issuer_chain_campaigns (
  chain text NOT NULL,
  address text NOT NULL,
  issuer text NOT NULL,
  reference text NOT NULL,
  target numeric(78, 0) NOT NULL,
  minimum numeric(78, 0) NOT NULL,
  deadline bigint NOT NULL,
  created_block bigint NOT NULL,
  created_transaction text NOT NULL,
  raised numeric(78, 0) NOT NULL DEFAULT 0,
  investments integer NOT NULL DEFAULT 0,
  -- null while open; then whether it succeeded.
  successful boolean,
  finalized_block bigint,
  PRIMARY KEY (chain, address)
);
CREATE INDEX issuer_chain_campaigns_reference ON issuer_chain_campaigns (chain, reference);

CREATE TABLE issuer_chain_investments (
  chain text NOT NULL,
  campaign text NOT NULL,
  reference text NOT NULL,
  investor text NOT NULL,
  amount numeric(78, 0) NOT NULL,
  recorded_block bigint NOT NULL,
  recorded_transaction text NOT NULL,
  refunded_transaction text,
  PRIMARY KEY (chain, campaign, reference)
);

-- Share certificates, one row per token, made from the certificate contract's Transfer events.
CREATE TABLE nft_share_certificates (
  chain text NOT NULL,
  token_id numeric(78, 0) NOT NULL,
  owner text NOT NULL,
  campaign text,
  investment_reference text,
  minted_block bigint NOT NULL,
  minted_transaction text NOT NULL,
  transfers integer NOT NULL DEFAULT 0,
  PRIMARY KEY (chain, token_id)
);
CREATE INDEX nft_share_certificates_investment ON nft_share_certificates (chain, campaign, investment_reference);
