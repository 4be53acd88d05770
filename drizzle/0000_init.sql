CREATE TABLE "chains" (
	"chain_id" bigint PRIMARY KEY NOT NULL,
	"head_number" bigint,
	"head_hash" text,
	"head_seen_at" timestamp with time zone
);
