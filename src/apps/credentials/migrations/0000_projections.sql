-- Before engine v2 the engine's first migration made these tables, keyed by a numeric chain id.
-- They hold only what the chain gives again, and the engine's v2 migration restarts indexing
-- from the chain: replace them.
DROP TABLE IF EXISTS "credentials";--> statement-breakpoint
DROP TABLE IF EXISTS "institutions";--> statement-breakpoint
CREATE TABLE "credentials" (
	"chain" text NOT NULL,
	"credential_id" numeric(78, 0) NOT NULL,
	"institution" text NOT NULL,
	"student" text NOT NULL,
	"fingerprint" text NOT NULL,
	"metadata_uri" text NOT NULL,
	"issued_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"issued_block" bigint NOT NULL,
	"issued_transaction" text NOT NULL,
	"revoked" boolean DEFAULT false NOT NULL,
	"revoked_at" bigint,
	"revocation_reason" text,
	"revoked_transaction" text,
	CONSTRAINT "credentials_chain_credential_id_pk" PRIMARY KEY("chain","credential_id")
);
--> statement-breakpoint
CREATE TABLE "institutions" (
	"chain" text NOT NULL,
	"address" text NOT NULL,
	"name" text NOT NULL,
	"metadata_uri" text NOT NULL,
	"active" boolean NOT NULL,
	"updated_at" bigint NOT NULL,
	"updated_block" bigint NOT NULL,
	CONSTRAINT "institutions_chain_address_pk" PRIMARY KEY("chain","address")
);
--> statement-breakpoint
CREATE INDEX "credentials_student" ON "credentials" USING btree ("student");--> statement-breakpoint
CREATE INDEX "credentials_fingerprint" ON "credentials" USING btree ("fingerprint");--> statement-breakpoint
CREATE INDEX "credentials_institution" ON "credentials" USING btree ("institution");