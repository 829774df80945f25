-- 006: client-chosen node execution ids, for live runs.
--
-- A node execution may carry a client-chosen `id` (a UUID), kept in
-- client_id; the server's own id (bigint) stays the primary key and what
-- the timeline calls `id`. A later append to the same execution that sends
-- the same id updates that node execution (INSERT ... ON CONFLICT
-- (client_id) DO UPDATE) instead of adding one. Ids are global, like
-- execution ids: an id belongs to one execution of one tenant.
--
-- agora.node_execution_ids_elsewhere() tells the ingest which of a
-- payload's ids some other execution holds, whoever's it is, so that it
-- can answer 404 (another tenant's: the same answer as an unknown id
-- would get, the row is never touched) or 409 (the caller's own, another
-- execution) before its INSERT ... ON CONFLICT DO UPDATE meets a row the
-- row-level security policies hide, which PostgreSQL answers with an error
-- that says nothing useful. It reveals no more than the ingest already
-- must: that an id is taken.

ALTER TABLE agora.node_executions ADD COLUMN client_id uuid;
-- Partial: node executions without a client id (most of them) cost the
-- index nothing on insert.
CREATE UNIQUE INDEX node_executions_client_id_key ON agora.node_executions (client_id)
    WHERE client_id IS NOT NULL;

CREATE FUNCTION agora.node_execution_ids_elsewhere(p_ids uuid[], p_execution uuid) RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT n.client_id
        FROM agora.node_executions n
        WHERE n.client_id = ANY (p_ids) AND n.execution_id <> p_execution
    $$;

GRANT SELECT (client_id, execution_id) ON agora.node_executions TO agora_definer;
ALTER FUNCTION agora.node_execution_ids_elsewhere(uuid[], uuid) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.node_execution_ids_elsewhere(uuid[], uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.node_execution_ids_elsewhere(uuid[], uuid) TO agora_app;
