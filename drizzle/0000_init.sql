-- (The credentials app's tables were created here before engine v2; they are the app's own migrations now.)
CREATE TABLE "indexer_blocks" (
	"chain_id" bigint NOT NULL,
	"number" bigint NOT NULL,
	"hash" text NOT NULL,
	"parent_hash" text NOT NULL,
	"timestamp" bigint NOT NULL,
	CONSTRAINT "indexer_blocks_chain_id_number_pk" PRIMARY KEY("chain_id","number")
);
--> statement-breakpoint
CREATE TABLE "indexer_checkpoints" (
	"chain_id" bigint PRIMARY KEY NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint,
	"head_number" bigint,
	"head_seen_at" timestamp with time zone,
	"halted_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indexer_events" (
	"chain_id" bigint NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint NOT NULL,
	"transaction_hash" text NOT NULL,
	"transaction_index" integer NOT NULL,
	"log_index" integer NOT NULL,
	"address" text NOT NULL,
	"event_name" text NOT NULL,
	"args" jsonb NOT NULL,
	"topics" text[] NOT NULL,
	"data" text NOT NULL,
	CONSTRAINT "indexer_events_chain_id_block_hash_log_index_pk" PRIMARY KEY("chain_id","block_hash","log_index")
);
--> statement-breakpoint
CREATE TABLE "indexer_journal" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" bigint NOT NULL,
	"block_number" bigint NOT NULL,
	"table_name" text NOT NULL,
	"op" char(1) NOT NULL,
	"old_row" jsonb,
	"new_row" jsonb
);
--> statement-breakpoint
CREATE INDEX "indexer_events_order" ON "indexer_events" USING btree ("chain_id","block_number","log_index");--> statement-breakpoint
CREATE INDEX "indexer_journal_block" ON "indexer_journal" USING btree ("chain_id","block_number");
