CREATE TABLE "ledger_children" (
	"chain" text NOT NULL,
	"address" text NOT NULL,
	"creator" text NOT NULL,
	"salt" text NOT NULL,
	"created_block" bigint NOT NULL,
	"pings" integer DEFAULT 0 NOT NULL,
	"last_ping" numeric(78, 0),
	CONSTRAINT "ledger_children_chain_address_pk" PRIMARY KEY("chain","address")
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"chain" text NOT NULL,
	"key" text NOT NULL,
	"value" numeric(78, 0) NOT NULL,
	"writer" text NOT NULL,
	"block" bigint NOT NULL,
	"transaction" text NOT NULL,
	"writes" integer NOT NULL,
	CONSTRAINT "ledger_entries_chain_key_pk" PRIMARY KEY("chain","key")
);
