CREATE TABLE "sui_owned_objects" (
	"chain" text NOT NULL,
	"object_id" text NOT NULL,
	"signer" text NOT NULL,
	"object_type" text NOT NULL,
	"coin_type" text,
	"balance" numeric(20, 0),
	"version" bigint NOT NULL,
	"digest" text NOT NULL,
	"state" text DEFAULT 'free' NOT NULL,
	"locked_by_transaction" text,
	"locked_by_intent" bigint,
	"locked_as" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sui_owned_objects_chain_object_id_pk" PRIMARY KEY("chain","object_id"),
	CONSTRAINT "sui_owned_objects_lock" CHECK (("sui_owned_objects"."state" = 'free') = ("sui_owned_objects"."locked_by_transaction" is null) and ("sui_owned_objects"."state" = 'free') = ("sui_owned_objects"."locked_as" is null))
);
--> statement-breakpoint
CREATE INDEX "sui_owned_objects_signer" ON "sui_owned_objects" USING btree ("chain","signer","coin_type","state");--> statement-breakpoint
CREATE INDEX "sui_owned_objects_transaction" ON "sui_owned_objects" USING btree ("locked_by_transaction");