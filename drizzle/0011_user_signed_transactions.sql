ALTER TABLE "relayer_intents" ADD COLUMN "sender" text;--> statement-breakpoint
ALTER TABLE "sui_owned_objects" ADD COLUMN "reserved_until" timestamp with time zone;