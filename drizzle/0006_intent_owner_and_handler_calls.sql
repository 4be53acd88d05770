CREATE TABLE "relayer_handler_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"intent_id" bigint NOT NULL,
	"hook" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" jsonb,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "relayer_intents" ADD COLUMN "submitted_by" text;--> statement-breakpoint
ALTER TABLE "relayer_handler_calls" ADD CONSTRAINT "relayer_handler_calls_intent_id_relayer_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."relayer_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "relayer_handler_calls_intent" ON "relayer_handler_calls" USING btree ("intent_id","id");--> statement-breakpoint
CREATE INDEX "relayer_handler_calls_due" ON "relayer_handler_calls" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "relayer_intents_submitted_by" ON "relayer_intents" USING btree ("submitted_by","id");