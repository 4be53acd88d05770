-- Engine v2: chains are named by key (`evm:<chain id>`), the core speaks of
-- transactions, sequences and payloads rather than hashes, nonces and calldata,
-- and sources, children and per-source progress are tables of their own.
--
-- The indexer's tables hold only what the chain can give again: they are
-- recreated empty, and the indexer rebuilds them (and the apps' projections,
-- which their own migrations empty) from the chain on its next start. The
-- relayer's tables hold intents, which nothing else knows: they are converted.

DROP TABLE "indexer_events";--> statement-breakpoint
DROP TABLE "indexer_blocks";--> statement-breakpoint
DROP TABLE "indexer_journal";--> statement-breakpoint
DROP TABLE "indexer_checkpoints";--> statement-breakpoint
CREATE TABLE "indexer_checkpoints" (
	"chain" text PRIMARY KEY NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint,
	"head_number" bigint,
	"head_seen_at" timestamp with time zone,
	"halted_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indexer_sources" (
	"chain" text NOT NULL,
	"name" text NOT NULL,
	"start_block" bigint NOT NULL,
	"state" text NOT NULL,
	"synced_to" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "indexer_sources_chain_name_pk" PRIMARY KEY("chain","name")
);
--> statement-breakpoint
CREATE TABLE "indexer_events" (
	"chain" text NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint NOT NULL,
	"transaction_id" text NOT NULL,
	"transaction_index" integer NOT NULL,
	"event_index" integer NOT NULL,
	"source" text NOT NULL,
	"emitter" text NOT NULL,
	"name" text NOT NULL,
	"args" jsonb NOT NULL,
	"raw" "bytea" NOT NULL,
	CONSTRAINT "indexer_events_chain_block_hash_event_index_pk" PRIMARY KEY("chain","block_hash","event_index")
);
--> statement-breakpoint
CREATE TABLE "indexer_blocks" (
	"chain" text NOT NULL,
	"number" bigint NOT NULL,
	"hash" text NOT NULL,
	"parent_hash" text NOT NULL,
	"timestamp" bigint NOT NULL,
	CONSTRAINT "indexer_blocks_chain_number_pk" PRIMARY KEY("chain","number")
);
--> statement-breakpoint
CREATE TABLE "indexer_children" (
	"chain" text NOT NULL,
	"source" text NOT NULL,
	"id" text NOT NULL,
	"block_number" bigint NOT NULL,
	CONSTRAINT "indexer_children_chain_source_id_pk" PRIMARY KEY("chain","source","id")
);
--> statement-breakpoint
CREATE TABLE "indexer_journal" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain" text NOT NULL,
	"block_number" bigint NOT NULL,
	"table_name" text NOT NULL,
	"op" char(1) NOT NULL,
	"old_row" jsonb,
	"new_row" jsonb
);
--> statement-breakpoint
CREATE INDEX "indexer_events_order" ON "indexer_events" USING btree ("chain","block_number","event_index");--> statement-breakpoint
CREATE INDEX "indexer_journal_block" ON "indexer_journal" USING btree ("chain","block_number");--> statement-breakpoint

-- The reorg journal keyed by chain key: the trigger reads `ledgersync.chain`.
CREATE OR REPLACE FUNCTION ledgersync_journal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO indexer_journal (chain, block_number, table_name, op, old_row, new_row)
  VALUES (
    current_setting('ledgersync.chain'),
    current_setting('ledgersync.block_number')::bigint,
    TG_RELID::regclass::text,
    left(TG_OP, 1),
    CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
    CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END
  );
  RETURN NULL;
END;
$$;
--> statement-breakpoint
DROP FUNCTION ledgersync_undo(bigint, bigint);--> statement-breakpoint
CREATE FUNCTION ledgersync_undo(p_chain text, p_above bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  entry record;
  key_match text;
  undone integer := 0;
BEGIN
  FOR entry IN
    SELECT * FROM indexer_journal WHERE chain = p_chain AND block_number > p_above ORDER BY id DESC
  LOOP
    SELECT string_agg(format('t.%1$I = (jsonb_populate_record(NULL::%2$s, $1)).%1$I', a.attname, entry.table_name), ' AND ')
      INTO key_match
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = entry.table_name::regclass AND i.indisprimary;
    IF key_match IS NULL THEN
      RAISE EXCEPTION 'projection table % has no primary key; the reorg journal needs one', entry.table_name;
    END IF;
    IF entry.op IN ('I', 'U') THEN
      EXECUTE format('DELETE FROM %s t WHERE %s', entry.table_name, key_match) USING entry.new_row;
    END IF;
    IF entry.op IN ('U', 'D') THEN
      EXECUTE format('INSERT INTO %1$s SELECT * FROM jsonb_populate_record(NULL::%1$s, $1)', entry.table_name) USING entry.old_row;
    END IF;
    undone := undone + 1;
  END LOOP;
  DELETE FROM indexer_journal WHERE chain = p_chain AND block_number > p_above;
  RETURN undone;
END;
$$;
--> statement-breakpoint
-- Children of factory sources are journaled like projection rows.
CREATE TRIGGER ledgersync_journal
  AFTER INSERT OR UPDATE OR DELETE ON indexer_children
  FOR EACH ROW WHEN (coalesce(current_setting('ledgersync.block_number', true), '') <> '')
  EXECUTE FUNCTION ledgersync_journal();
--> statement-breakpoint

-- Intents: converted in place.
DROP INDEX "relayer_intents_work";--> statement-breakpoint
ALTER TABLE "relayer_intents" RENAME COLUMN "chain_id" TO "chain";--> statement-breakpoint
ALTER TABLE "relayer_intents" ALTER COLUMN "chain" TYPE text USING 'evm:' || "chain";--> statement-breakpoint
ALTER TABLE "relayer_intents" ALTER COLUMN "contract" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "relayer_intents" RENAME COLUMN "to_address" TO "target";--> statement-breakpoint
ALTER TABLE "relayer_intents" RENAME COLUMN "data" TO "payload";--> statement-breakpoint
ALTER TABLE "relayer_intents" RENAME COLUMN "nonce" TO "sequence";--> statement-breakpoint
ALTER TABLE "relayer_intents" RENAME COLUMN "gas_limit" TO "fee_limit";--> statement-breakpoint
ALTER TABLE "relayer_intents" RENAME COLUMN "transaction_hash" TO "transaction_id";--> statement-breakpoint
CREATE INDEX "relayer_intents_work" ON "relayer_intents" USING btree ("chain","signer","state","id");--> statement-breakpoint

DROP INDEX "relayer_transactions_nonce";--> statement-breakpoint
ALTER TABLE "relayer_transactions" RENAME COLUMN "hash" TO "id";--> statement-breakpoint
ALTER TABLE "relayer_transactions" RENAME COLUMN "chain_id" TO "chain";--> statement-breakpoint
ALTER TABLE "relayer_transactions" ALTER COLUMN "chain" TYPE text USING 'evm:' || "chain";--> statement-breakpoint
ALTER TABLE "relayer_transactions" RENAME COLUMN "nonce" TO "sequence";--> statement-breakpoint
ALTER TABLE "relayer_transactions" ALTER COLUMN "sequence" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "relayer_transactions" ALTER COLUMN "raw" TYPE bytea USING decode(substr("raw", 3), 'hex');--> statement-breakpoint
ALTER TABLE "relayer_transactions" ADD COLUMN "fees" jsonb;--> statement-breakpoint
UPDATE "relayer_transactions" SET "fees" = jsonb_strip_nulls(jsonb_build_object(
  'maxFeePerGas', "max_fee_per_gas"::text, 'maxPriorityFeePerGas', "max_priority_fee_per_gas"::text, 'gasPrice', "gas_price"::text));--> statement-breakpoint
ALTER TABLE "relayer_transactions" ALTER COLUMN "fees" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "relayer_transactions" DROP COLUMN "max_fee_per_gas";--> statement-breakpoint
ALTER TABLE "relayer_transactions" DROP COLUMN "max_priority_fee_per_gas";--> statement-breakpoint
ALTER TABLE "relayer_transactions" DROP COLUMN "gas_price";--> statement-breakpoint
CREATE INDEX "relayer_transactions_sequence" ON "relayer_transactions" USING btree ("chain","signer","sequence");--> statement-breakpoint

CREATE TABLE "evm_nonces" (
	"chain" text NOT NULL,
	"signer" text NOT NULL,
	"next_nonce" bigint NOT NULL,
	CONSTRAINT "evm_nonces_chain_signer_pk" PRIMARY KEY("chain","signer")
);
--> statement-breakpoint
INSERT INTO "evm_nonces" ("chain", "signer", "next_nonce") SELECT 'evm:' || "chain_id", "address", "next_nonce" FROM "relayer_signers";--> statement-breakpoint
DROP TABLE "relayer_signers";--> statement-breakpoint

-- API keys: roles and an app-defined scope instead of the credentials app's columns.
ALTER TABLE "api_keys" ADD COLUMN "roles" text[];--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "scope" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
UPDATE "api_keys" SET
  "roles" = CASE WHEN "admin" THEN ARRAY['admin'] ELSE ARRAY['credentials.institution'] END,
  "scope" = CASE WHEN "institution" IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('institution', "institution") END;--> statement-breakpoint
ALTER TABLE "api_keys" ALTER COLUMN "roles" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" DROP COLUMN "institution";--> statement-breakpoint
ALTER TABLE "api_keys" DROP COLUMN "admin";
