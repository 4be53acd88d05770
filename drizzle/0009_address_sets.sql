CREATE TABLE "address_sets" (
	"name" text NOT NULL,
	"address" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "address_sets_name_address_pk" PRIMARY KEY("name","address"),
	CONSTRAINT "address_sets_no_spaces" CHECK ("name" !~ '\s' AND "address" !~ '\s' AND "name" <> '' AND "address" <> '')
);
--> statement-breakpoint
ALTER TABLE "indexer_events" DROP CONSTRAINT "indexer_events_chain_block_hash_event_index_pk";--> statement-breakpoint
ALTER TABLE "indexer_events" ADD CONSTRAINT "indexer_events_chain_block_hash_event_index_source_pk" PRIMARY KEY("chain","block_hash","event_index","source");--> statement-breakpoint
-- Readers follow the sets by notification: '+' or '-', the set's name, then the address.
-- (A name or address holding a space would be ambiguous: the engine refuses them.)
CREATE FUNCTION ledgersync_address_set_changed() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
    PERFORM pg_notify('ledgersync_address_sets', '+ ' || NEW.name || ' ' || NEW.address);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.name, OLD.address) IS DISTINCT FROM (NEW.name, NEW.address)) THEN
    PERFORM pg_notify('ledgersync_address_sets', '- ' || OLD.name || ' ' || OLD.address);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER address_sets_changed AFTER INSERT OR UPDATE OR DELETE ON "address_sets" FOR EACH ROW EXECUTE FUNCTION ledgersync_address_set_changed();--> statement-breakpoint
-- Truncating a set's table empties every set: readers reload.
CREATE FUNCTION ledgersync_address_sets_truncated() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('ledgersync_address_sets', '*');
  RETURN NULL;
END
$$ LANGUAGE plpgsql;--> statement-breakpoint
CREATE TRIGGER address_sets_truncated AFTER TRUNCATE ON "address_sets" FOR EACH STATEMENT EXECUTE FUNCTION ledgersync_address_sets_truncated();
