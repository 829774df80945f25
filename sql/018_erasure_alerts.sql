-- 018: erasing an execution (017) also erases the alerts it fired (014).
--
-- An alert's payload repeats the run's error text, workflow and link, and
-- its deliveries repeat the payload's outcome: they are the run's data, so
-- they go with it, undelivered ones included (nothing is sent for a run
-- that no longer exists). The per-rule cooldowns stay: they name a rule
-- and a subject, not what the run held. A statement trigger after any
-- DELETE of executions, as agora_definer (alerts are not the caller's to
-- delete through RLS: only the deliverer and the triggers write them);
-- the deliveries go by alert_deliveries' cascade.
SET LOCAL ROLE agora_owner;

-- Erasure finds a run's alerts by execution_id alone.
CREATE INDEX alerts_execution_idx ON agora.alerts (execution_id) WHERE execution_id IS NOT NULL;

RESET ROLE;

CREATE FUNCTION agora.forget_erased_alerts() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        DELETE FROM agora.alerts a
        WHERE a.execution_id IN (SELECT o.id FROM old_rows o);
        RETURN NULL;
    END
    $$;

ALTER FUNCTION agora.forget_erased_alerts() OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.forget_erased_alerts() FROM PUBLIC;

CREATE TRIGGER alerts_forget_erased AFTER DELETE ON agora.executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.forget_erased_alerts();

GRANT DELETE ON agora.alerts TO agora_definer;
