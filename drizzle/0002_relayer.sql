CREATE TABLE "relayer_intents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"kind" text NOT NULL,
	"chain_id" bigint NOT NULL,
	"signer" text NOT NULL,
	"contract" text NOT NULL,
	"to_address" text NOT NULL,
	"function_name" text NOT NULL,
	"args" jsonb NOT NULL,
	"data" text NOT NULL,
	"value" numeric(78, 0) DEFAULT '0' NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"nonce" bigint,
	"gas_limit" numeric(78, 0),
	"confirmations" integer NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at_block" bigint,
	"transaction_hash" text,
	"block_number" bigint,
	"block_hash" text,
	"receipt" jsonb,
	"events" jsonb,
	"error" jsonb,
	"reorgs" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "relayer_intents_state" CHECK ("relayer_intents"."state" in ('pending', 'signed', 'broadcast', 'included', 'confirmed', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "relayer_signers" (
	"chain_id" bigint NOT NULL,
	"address" text NOT NULL,
	"next_nonce" bigint NOT NULL,
	CONSTRAINT "relayer_signers_chain_id_address_pk" PRIMARY KEY("chain_id","address")
);
--> statement-breakpoint
CREATE TABLE "relayer_transactions" (
	"hash" text PRIMARY KEY NOT NULL,
	"intent_id" bigint,
	"chain_id" bigint NOT NULL,
	"signer" text NOT NULL,
	"nonce" bigint NOT NULL,
	"raw" text NOT NULL,
	"max_fee_per_gas" numeric(78, 0),
	"max_priority_fee_per_gas" numeric(78, 0),
	"gas_price" numeric(78, 0),
	"status" text DEFAULT 'signed' NOT NULL,
	"signed_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "relayer_transactions" ADD CONSTRAINT "relayer_transactions_intent_id_relayer_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."relayer_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "relayer_intents_idempotency_key" ON "relayer_intents" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "relayer_intents_work" ON "relayer_intents" USING btree ("chain_id","signer","state","id");--> statement-breakpoint
CREATE INDEX "relayer_transactions_intent" ON "relayer_transactions" USING btree ("intent_id");--> statement-breakpoint
CREATE INDEX "relayer_transactions_nonce" ON "relayer_transactions" USING btree ("chain_id","signer","nonce");