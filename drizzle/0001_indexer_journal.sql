-- Reorg journal: projection tables get a row trigger (see src/indexer/journal.ts)
-- that records each change made while `ledgersync.block_number` is set, which the
-- indexer does only for blocks above finality. Finalized data is never journaled.
CREATE OR REPLACE FUNCTION ledgersync_journal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO indexer_journal (chain_id, block_number, table_name, op, old_row, new_row)
  VALUES (
    current_setting('ledgersync.chain_id')::bigint,
    current_setting('ledgersync.block_number')::bigint,
    TG_RELID::regclass::text,
    left(TG_OP, 1),
    CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
    CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END
  );
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Undoes, newest first, every journaled change of a chain above a block, and
-- forgets them. Rows are matched on the table's primary key.
CREATE OR REPLACE FUNCTION ledgersync_undo(p_chain_id bigint, p_above bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  entry record;
  key_match text;
  undone integer := 0;
BEGIN
  FOR entry IN
    SELECT * FROM indexer_journal WHERE chain_id = p_chain_id AND block_number > p_above ORDER BY id DESC
  LOOP
    SELECT string_agg(format('t.%1$I = (jsonb_populate_record(NULL::%2$s, $1)).%1$I', a.attname, entry.table_name), ' AND ')
      INTO key_match
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = entry.table_name::regclass AND i.indisprimary;
    IF key_match IS NULL THEN
      RAISE EXCEPTION 'projection table % has no primary key; the reorg journal needs one', entry.table_name;
    END IF;
    IF entry.op IN ('I', 'U') THEN
      EXECUTE format('DELETE FROM %s t WHERE %s', entry.table_name, key_match) USING entry.new_row;
    END IF;
    IF entry.op IN ('U', 'D') THEN
      EXECUTE format('INSERT INTO %1$s SELECT * FROM jsonb_populate_record(NULL::%1$s, $1)', entry.table_name) USING entry.old_row;
    END IF;
    undone := undone + 1;
  END LOOP;
  DELETE FROM indexer_journal WHERE chain_id = p_chain_id AND block_number > p_above;
  RETURN undone;
END;
$$;
