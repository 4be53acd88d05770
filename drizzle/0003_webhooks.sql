CREATE TABLE "relayer_webhooks" (
	"url" text PRIMARY KEY NOT NULL,
	"max_attempts" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
