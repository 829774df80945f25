-- 008: live monitoring (docs/LIVE.md, docs/DESIGN.md "Live monitoring").
--
-- executions.live_seq numbers the ingests of one execution: 1 for the one
-- that created it, +1 for each append. Appends already lock and update the
-- execution row (SQL_EXECUTION_APPEND), so numbering them there costs
-- nothing and follows commit order: two appends to one execution cannot
-- commit in the other order than they numbered.
--
-- Every committed ingest sends NOTIFY agora_live (twice: the execution's
-- channel and its project's), which the agora-live process on each nginx
-- host publishes to its local Nchan. NOTIFY is delivered only on commit,
-- in commit order, so a rolled-back ingest is never announced.
--
-- live_tickets: the single-use tickets a browser puts in a subscription
-- URL instead of its long-lived token. Only their SHA-256 is stored. The
-- caller who asked for one is recorded, so the subscription is authorized
-- as that caller under the same row-level security as the read API.

ALTER TABLE agora.executions ADD COLUMN live_seq bigint NOT NULL DEFAULT 1;

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.live_tickets (
    ticket_hash     bytea PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    -- agora.caller() of the caller who asked for it, and its identity.
    caller          text NOT NULL,
    user_id         uuid,
    key_id          uuid,
    key_project     uuid,
    key_org         uuid,
    channel         text NOT NULL CHECK (channel ~ '^(execution|project)/[0-9a-f-]{36}$'),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX live_tickets_expires_idx ON agora.live_tickets (expires_at);

ALTER TABLE agora.live_tickets ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
-- A caller records tickets for itself only, in an organization it can see.
CREATE POLICY live_tickets_insert ON agora.live_tickets FOR INSERT
    WITH CHECK (caller = (SELECT agora.caller())
                AND (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                     OR organization_id = (SELECT agora.key_org())));

-- Issuing reads back the expiry it wrote (INSERT ... RETURNING).
CREATE POLICY live_tickets_select ON agora.live_tickets FOR SELECT
    USING (caller = (SELECT agora.caller()));

RESET ROLE;

GRANT INSERT, SELECT ON agora.live_tickets TO agora_app;
GRANT SELECT, DELETE ON agora.live_tickets TO agora_definer;
GRANT SELECT (id, revoked_at) ON agora.api_keys TO agora_definer;

-- Spends a ticket: the caller it was made for, and its channel, when it
-- exists and has not expired; nothing otherwise. The row is deleted
-- either way (one subscription per ticket, even a refused one), and so are
-- tickets that expired a minute ago or more, so the table stays small
-- without a job. Runs before any identity is set (the ticket is the
-- credential), hence a definer. key_ok is false when the ticket's API key
-- was revoked since.
CREATE FUNCTION agora.live_ticket_take(p_hash bytea)
    RETURNS TABLE (user_id uuid, key_id uuid, key_project uuid, key_org uuid, channel text,
                   key_ok boolean)
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM agora.live_tickets t
            WHERE t.ticket_hash = p_hash OR t.expires_at < now() - interval '1 minute'
            RETURNING t.*)
        SELECT g.user_id, g.key_id, g.key_project, g.key_org, g.channel,
               g.key_id IS NULL OR EXISTS (SELECT 1 FROM agora.api_keys k
                                           WHERE k.id = g.key_id AND k.revoked_at IS NULL)
        FROM gone g
        WHERE g.ticket_hash = p_hash AND g.expires_at > now()
    $$;

ALTER FUNCTION agora.live_ticket_take(bytea) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.live_ticket_take(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.live_ticket_take(bytea) TO agora_app;
