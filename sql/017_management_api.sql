-- 017: the management API's changes (README "Managing organizations"):
-- the audit log, key rotation, renames and deletions by owners and admins
-- only, the erasure of an execution, and the index behind "executions of a
-- workflow that ran a node".
--
-- Audit log. One row per change made through the management API, written
-- by the domain code in the transaction of the change (a rolled-back change
-- leaves none). The actor is not a parameter: the row takes the
-- transaction's identity (agora.uid(), agora.key_id()), and the INSERT
-- policy refuses any other, so a row cannot name someone else as its
-- author. agora_app may insert and read, never update or delete: the log
-- is append-only for the workers. Only owners and admins of the
-- organization read it. Deleting the organization deletes its log (nobody
-- could read it any more).
--
-- Renames and deletions of projects and workflows are for owners and
-- admins. projects already have that policy (003); workflows let members
-- and the project's API key update (003), so a RESTRICTIVE update policy
-- narrows that to owners and admins: nothing else updates a workflow row
-- (ingest adds nodes, never touches the workflow).
--
-- Rotation gives an API key a new secret: agora_app gets UPDATE of
-- secret_hash (003 kept it fixed) and of the new rotated_at, under the
-- api_keys_admin policy (owners and admins).
--
-- Erasure of an execution. Its node executions, spans, events and
-- snapshots go by the foreign keys' cascade. What else names a run is
-- cleaned by a statement trigger after any DELETE of executions, as
-- agora_definer (these rows are not the caller's to change through RLS):
-- - idempotency_keys that answered with its id (a retry within 24 hours
--   would otherwise be told 201 with the id of a run that is gone);
-- - live_tickets for its channel (unspent, they could not subscribe
--   anyway: the subscription is checked against executions under RLS);
-- - stats_errors_daily rows whose example_id is the run: the example
--   becomes the latest remaining error run of that workflow, day and
--   message; with none left, the rows of that message go (the trigger of
--   011 has already taken the run's count away), so the message text of
--   the erased run is not kept either.
-- The DELETE route removes the node executions before their execution
-- (domain/workflow_admin.c) so that their contribution leaves the node
-- rollups too.
--
-- Members may leave (a policy of their own); an organization keeps its
-- last owner (members.c counts owners under a per-organization lock).

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    -- The project the target belongs to, when it belongs to one.
    project_id      uuid,
    at              timestamptz NOT NULL DEFAULT now(),
    -- Exactly one: the user (JWT sub) or the API key that made the change.
    actor_user_id   uuid,
    actor_key_id    uuid,
    action          text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    target_type     text NOT NULL CHECK (target_type ~ '^[a-z_]+$'),
    target_id       text NOT NULL CHECK (octet_length(target_id) BETWEEN 1 AND 400),
    -- What changed, never a secret: names, roles, prices.
    detail          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    CHECK ((actor_user_id IS NULL) <> (actor_key_id IS NULL))
);
-- GET /api/organizations/{id}/audit-log: newest first, keyset on id.
CREATE INDEX audit_log_org_idx ON agora.audit_log (organization_id, id DESC);

ALTER TABLE agora.audit_log ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_select ON agora.audit_log FOR SELECT
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));
-- Written as the caller, in an organization it belongs to (a user) or its
-- own (an API key, which creates workflows).
CREATE POLICY audit_log_insert ON agora.audit_log FOR INSERT
    WITH CHECK (actor_user_id IS NOT DISTINCT FROM (SELECT agora.uid())
                AND actor_key_id IS NOT DISTINCT FROM (SELECT agora.key_id())
                AND (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                     OR (organization_id = (SELECT agora.key_org())
                         AND project_id = (SELECT agora.key_project()))));

-- Any member may leave (003 lets only owners and admins delete
-- memberships). The last owner may not: members.c counts the owners under
-- a per-organization lock before any change that could remove one.
CREATE POLICY memberships_leave ON agora.memberships FOR DELETE
    USING (user_id = (SELECT agora.uid()));

CREATE POLICY workflows_update_managers ON agora.workflows AS RESTRICTIVE FOR UPDATE
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));

ALTER TABLE agora.api_keys ADD COLUMN rotated_at timestamptz;

-- Executions of a workflow that ran a node (GET /api/executions?workflow_id=
-- &node_name=): the node's name is resolved to its workflow node, and this
-- index answers "did execution e run node n" with one probe, or lists the
-- node's executions when it ran rarely (execution_reads.c says which plan
-- is used when). Partial: node executions without a node cost nothing.
CREATE INDEX node_executions_node_idx ON agora.node_executions (node_id, execution_id)
    WHERE node_id IS NOT NULL;

RESET ROLE;

GRANT SELECT, INSERT ON agora.audit_log TO agora_app;
GRANT UPDATE (secret_hash, rotated_at) ON agora.api_keys TO agora_app;

CREATE FUNCTION agora.forget_erased_executions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        -- By organization first (its index): the table holds a day of
        -- every tenant's keys.
        DELETE FROM agora.idempotency_keys i
        WHERE i.organization_id IN (SELECT DISTINCT o.organization_id FROM old_rows o)
          AND i.execution_id IN (SELECT o.id FROM old_rows o);
        DELETE FROM agora.live_tickets t
        WHERE t.channel IN (SELECT 'execution/' || o.id FROM old_rows o);
        -- A run is the example only of its own workflow and day: the
        -- primary key's (workflow_id, day) prefix finds those rows. Only
        -- rollups that outlive the statement: when the workflow itself is
        -- being deleted (its cascade got here), its rollups go with it.
        WITH hit AS (
            SELECT s.workflow_id, s.day, s.message, s.shard
            FROM old_rows o
            JOIN agora.stats_errors_daily s
              ON s.workflow_id = o.workflow_id AND s.day = date_trunc('day', o.started_at, 'UTC')
             AND s.example_id = o.id
            WHERE o.status = 'error'
              AND EXISTS (SELECT 1 FROM agora.workflows w WHERE w.id = o.workflow_id)),
        repl AS (
            SELECT h.*, (SELECT e.id FROM agora.executions e
                         WHERE e.workflow_id = h.workflow_id AND e.status = 'error'
                           AND e.started_at >= h.day AND e.started_at < h.day + interval '1 day'
                           AND agora.stats_error_message(e.error) = h.message
                         ORDER BY COALESCE(e.completed_at, e.started_at) DESC, e.id
                         LIMIT 1) AS example
            FROM hit h),
        moved AS (
            UPDATE agora.stats_errors_daily s
            SET example_id = r.example,
                last_seen = (SELECT COALESCE(e.completed_at, e.started_at) FROM agora.executions e
                             WHERE e.id = r.example)
            FROM repl r
            WHERE r.example IS NOT NULL AND s.workflow_id = r.workflow_id AND s.day = r.day
              AND s.message = r.message AND s.shard = r.shard
            RETURNING 1)
        DELETE FROM agora.stats_errors_daily s
        USING repl r
        WHERE r.example IS NULL AND s.workflow_id = r.workflow_id AND s.day = r.day AND s.message = r.message;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION agora.forget_erased_executions() OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.forget_erased_executions() FROM PUBLIC;

-- After 011's stats_executions_delete by name order, so the run's count
-- has left the error rollup before its example is replaced.
CREATE TRIGGER stats_forget_erased AFTER DELETE ON agora.executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.forget_erased_executions();

-- What the trigger reads and removes, and nothing more.
GRANT SELECT (status, completed_at, error) ON agora.executions TO agora_definer;
GRANT SELECT (id) ON agora.workflows TO agora_definer;
GRANT DELETE ON agora.stats_errors_daily TO agora_definer;
