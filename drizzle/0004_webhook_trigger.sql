-- Webhooks: every state change of an intent (its creation included) queues one
-- graphile-worker job per endpoint in relayer_webhooks, inside the transaction
-- that made the change, so a delivery exists exactly when the change committed.
-- With no endpoint registered, nothing is queued.
CREATE OR REPLACE FUNCTION ledgersync_intent_webhooks() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  endpoint record;
BEGIN
  FOR endpoint IN SELECT url, max_attempts FROM relayer_webhooks LOOP
    PERFORM graphile_worker.add_job(
      'ledgersync.webhook',
      json_build_object('url', endpoint.url, 'intentId', NEW.id::text, 'state', NEW.state, 'at', now()),
      max_attempts := endpoint.max_attempts
    );
  END LOOP;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ledgersync_intent_created_webhooks
  AFTER INSERT ON relayer_intents
  FOR EACH ROW EXECUTE FUNCTION ledgersync_intent_webhooks();
--> statement-breakpoint
CREATE TRIGGER ledgersync_intent_changed_webhooks
  AFTER UPDATE OF state ON relayer_intents
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION ledgersync_intent_webhooks();
--> statement-breakpoint
-- Deliveries that used up their tries: graphile-worker leaves such jobs in place
-- (attempts = max_attempts) with their last error. This names them.
CREATE VIEW relayer_webhook_dead_letters AS
  SELECT jobs.id AS job_id, jobs.payload->>'url' AS url, (jobs.payload->>'intentId')::bigint AS intent_id,
         jobs.payload->>'state' AS state, jobs.attempts, jobs.last_error, jobs.updated_at
  FROM graphile_worker._private_jobs jobs
  JOIN graphile_worker._private_tasks tasks ON tasks.id = jobs.task_id
  WHERE tasks.identifier = 'ledgersync.webhook' AND jobs.attempts >= jobs.max_attempts;
