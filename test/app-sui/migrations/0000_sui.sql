CREATE TABLE "sui_balances" (
	"chain" text NOT NULL,
	"address" text NOT NULL,
	"coin_type" text NOT NULL,
	"balance" numeric(40, 0) NOT NULL,
	"changes" integer NOT NULL,
	"last_checkpoint" bigint NOT NULL,
	CONSTRAINT "sui_balances_chain_address_coin_type_pk" PRIMARY KEY("chain","address","coin_type")
);
--> statement-breakpoint
CREATE TABLE "sui_payments" (
	"chain" text NOT NULL,
	"digest" text NOT NULL,
	"event_index" integer NOT NULL,
	"checkpoint" bigint NOT NULL,
	"payer" text NOT NULL,
	"recipient" text NOT NULL,
	"amount" numeric(20, 0) NOT NULL,
	"coin_type" text NOT NULL,
	"memo" text NOT NULL,
	CONSTRAINT "sui_payments_chain_digest_event_index_pk" PRIMARY KEY("chain","digest","event_index")
);
--> statement-breakpoint
CREATE TABLE "sui_transactions" (
	"chain" text NOT NULL,
	"digest" text NOT NULL,
	"checkpoint" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"sender" text NOT NULL,
	"success" boolean NOT NULL,
	"error" text,
	"sources" text[] NOT NULL,
	CONSTRAINT "sui_transactions_chain_digest_pk" PRIMARY KEY("chain","digest")
);
