-- 003: row-level security. The identity helpers, the SECURITY DEFINER
-- lookups that policies call, RLS (enabled and FORCEd) with its policies on
-- every table, and the grants that let agora_app reach the tables only
-- through those policies. Names are fixed by docs/DESIGN.md.
--
-- Policies call functions as `(SELECT agora.f())`: a scalar sub-select
-- without outer references becomes an InitPlan, evaluated once per
-- statement instead of once per row, and `col = ANY (InitPlan)` can still
-- use an index. The arrays are written `ANY ((SELECT agora.read_orgs())::uuid[])`:
-- without the cast, `ANY ((SELECT ...))` parses as ANY (subquery) and
-- would compare a uuid with a whole uuid[].
--
-- Runs as the superuser: creating policies needs the table owner or a
-- superuser, and handing functions to agora_definer needs a superuser.

-- Identity: the settings db_begin_as() sets with set_config(..., true).
-- Plain SQL and STABLE, so the planner inlines them. An empty setting means
-- "not this kind of caller" and reads as NULL, which matches nothing.

CREATE FUNCTION agora.uid() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(pg_catalog.current_setting('agora.user_id', true), '')::uuid $$;

CREATE FUNCTION agora.key_project() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(pg_catalog.current_setting('agora.project_id', true), '')::uuid $$;

CREATE FUNCTION agora.key_org() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(pg_catalog.current_setting('agora.org_id', true), '')::uuid $$;

CREATE FUNCTION agora.key_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(pg_catalog.current_setting('agora.key_id', true), '')::uuid $$;

-- The caller as idempotency_keys.caller spells it: a user's uuid, or
-- 'key:' || the API key's id. NULL without an identity.
CREATE FUNCTION agora.caller() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(agora.uid()::text, 'key:' || agora.key_id()::text) $$;

ALTER FUNCTION agora.uid() OWNER TO agora_owner;
ALTER FUNCTION agora.key_project() OWNER TO agora_owner;
ALTER FUNCTION agora.key_org() OWNER TO agora_owner;
ALTER FUNCTION agora.key_id() OWNER TO agora_owner;
ALTER FUNCTION agora.caller() OWNER TO agora_owner;

-- Membership lookups. SECURITY DEFINER as agora_definer (BYPASSRLS), so a
-- policy on memberships can ask about memberships without recursing into
-- its own policy. search_path is pinned (pg_temp last) so a caller's
-- objects can never stand in for ours.

CREATE FUNCTION agora.read_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT COALESCE(array_agg(m.organization_id), '{}')
        FROM agora.memberships m
        WHERE m.user_id = agora.uid()
    $$;

CREATE FUNCTION agora.write_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT COALESCE(array_agg(m.organization_id), '{}')
        FROM agora.memberships m
        WHERE m.user_id = agora.uid() AND m.role IN ('owner', 'admin', 'member')
    $$;

CREATE FUNCTION agora.admin_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT COALESCE(array_agg(m.organization_id), '{}')
        FROM agora.memberships m
        WHERE m.user_id = agora.uid() AND m.role IN ('owner', 'admin')
    $$;

CREATE FUNCTION agora.org_role(org uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT m.role
        FROM agora.memberships m
        WHERE m.organization_id = org AND m.user_id = agora.uid()
    $$;

-- True when the caller created org and nobody is a member yet: the one
-- case where a user may insert a membership without already being an
-- admin (the creator claiming ownership right after creating it).
CREATE FUNCTION agora.is_unclaimed_org(org uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT EXISTS (SELECT 1 FROM agora.organizations o
                       WHERE o.id = org AND o.created_by = agora.uid())
           AND NOT EXISTS (SELECT 1 FROM agora.memberships m WHERE m.organization_id = org)
    $$;

-- Authentication of an API key, before any identity is set (auth.c). The
-- caller compares the hash in constant time and checks revoked.
CREATE FUNCTION agora.api_key_lookup(p_id uuid)
    RETURNS TABLE (project_id uuid, organization_id uuid, secret_hash bytea, revoked boolean)
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT k.project_id, k.organization_id, k.secret_hash, k.revoked_at IS NOT NULL
        FROM agora.api_keys k
        WHERE k.id = p_id
    $$;

-- Records that a key was used. An API key cannot update api_keys under
-- RLS, hence a definer. At most one write a minute per key, so busy keys do
-- not turn every request into a row update.
CREATE FUNCTION agora.api_key_touch(p_id uuid) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        UPDATE agora.api_keys k SET last_used_at = now()
        WHERE k.id = p_id AND k.revoked_at IS NULL
          AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
    $$;

-- Forgets idempotency keys older than 24 hours (CONTRACT.md: a retry is
-- safe within a day). Any worker may call it; it takes no argument so it
-- cannot be used to drop younger keys. Returns how many went.
CREATE FUNCTION agora.purge_idempotency_keys() RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        WITH gone AS (
            DELETE FROM agora.idempotency_keys i
            WHERE i.created_at < now() - interval '24 hours'
            RETURNING 1
        )
        SELECT count(*) FROM gone
    $$;

ALTER FUNCTION agora.read_orgs() OWNER TO agora_definer;
ALTER FUNCTION agora.write_orgs() OWNER TO agora_definer;
ALTER FUNCTION agora.admin_orgs() OWNER TO agora_definer;
ALTER FUNCTION agora.org_role(uuid) OWNER TO agora_definer;
ALTER FUNCTION agora.is_unclaimed_org(uuid) OWNER TO agora_definer;
ALTER FUNCTION agora.api_key_lookup(uuid) OWNER TO agora_definer;
ALTER FUNCTION agora.api_key_touch(uuid) OWNER TO agora_definer;
ALTER FUNCTION agora.purge_idempotency_keys() OWNER TO agora_definer;

-- What the definer functions read and write, and nothing more.
GRANT USAGE ON SCHEMA agora TO agora_definer;
GRANT SELECT ON agora.memberships, agora.organizations TO agora_definer;
GRANT SELECT ON agora.api_keys TO agora_definer;
GRANT UPDATE (last_used_at) ON agora.api_keys TO agora_definer;
GRANT SELECT, DELETE ON agora.idempotency_keys TO agora_definer;

-- Functions run only for our roles (PUBLIC gets EXECUTE by default).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA agora FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA agora TO agora_app, agora_definer, agora_owner;

-- Row-level security on every table. FORCE makes it apply to the owner too.

ALTER TABLE agora.organizations ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.memberships ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.projects ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.api_keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.idempotency_keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- organizations: members see theirs, an API key its own; any user may create
-- one in their own name; only owners change or delete it. org_role(id)
-- depends on the row, so it runs per row, on a table read a row at a time.
CREATE POLICY organizations_select ON agora.organizations FOR SELECT
    USING (id = ANY ((SELECT agora.read_orgs())::uuid[]) OR id = (SELECT agora.key_org()));
CREATE POLICY organizations_insert ON agora.organizations FOR INSERT
    WITH CHECK (created_by = (SELECT agora.uid()));
CREATE POLICY organizations_update ON agora.organizations FOR UPDATE
    USING (agora.org_role(id) = 'owner')
    WITH CHECK (agora.org_role(id) = 'owner');
CREATE POLICY organizations_delete ON agora.organizations FOR DELETE
    USING (agora.org_role(id) = 'owner');

-- memberships: members see their organization's list. Owners and admins
-- manage it, but only an owner may create, change or remove an owner. The
-- second INSERT branch is the bootstrap: the creator of a member-less
-- organization makes themself its owner.
CREATE POLICY memberships_select ON agora.memberships FOR SELECT
    USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[]));
CREATE POLICY memberships_insert ON agora.memberships FOR INSERT
    WITH CHECK (
        (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[])
         AND (role <> 'owner' OR agora.org_role(organization_id) = 'owner'))
        OR (user_id = (SELECT agora.uid()) AND role = 'owner'
            AND agora.is_unclaimed_org(organization_id)));
CREATE POLICY memberships_update ON agora.memberships FOR UPDATE
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[])
           AND (role <> 'owner' OR agora.org_role(organization_id) = 'owner'))
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[])
                AND (role <> 'owner' OR agora.org_role(organization_id) = 'owner'));
CREATE POLICY memberships_delete ON agora.memberships FOR DELETE
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[])
           AND (role <> 'owner' OR agora.org_role(organization_id) = 'owner'));

-- projects: members see their organizations' projects, an API key its own;
-- owners and admins manage them.
CREATE POLICY projects_select ON agora.projects FOR SELECT
    USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[]) OR id = (SELECT agora.key_project()));
CREATE POLICY projects_insert ON agora.projects FOR INSERT
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));
CREATE POLICY projects_update ON agora.projects FOR UPDATE
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));
CREATE POLICY projects_delete ON agora.projects FOR DELETE
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));

-- api_keys: owners and admins only, for every command. API keys never see
-- keys (authentication goes through api_key_lookup instead).
CREATE POLICY api_keys_admin ON agora.api_keys FOR ALL
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));

-- idempotency_keys: each caller sees only its own keys, and may record one
-- only in an organization it can see.
CREATE POLICY idempotency_keys_select ON agora.idempotency_keys FOR SELECT
    USING (caller = (SELECT agora.caller()));
CREATE POLICY idempotency_keys_insert ON agora.idempotency_keys FOR INSERT
    WITH CHECK (caller = (SELECT agora.caller())
                AND (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                     OR organization_id = (SELECT agora.key_org())));
CREATE POLICY idempotency_keys_update ON agora.idempotency_keys FOR UPDATE
    USING (caller = (SELECT agora.caller()))
    WITH CHECK (caller = (SELECT agora.caller())
                AND (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                     OR organization_id = (SELECT agora.key_org())));
CREATE POLICY idempotency_keys_delete ON agora.idempotency_keys FOR DELETE
    USING (caller = (SELECT agora.caller()));

-- Workflows and everything recorded under a project share one rule set:
-- read by any member of the organization or by the project's API key;
-- written by owners, admins and members or by the project's API key
-- (viewers read only); deleted by owners and admins. An API key is
-- trusted by project_id alone: the composite foreign keys of 002 keep
-- organization_id consistent with it.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workflows', 'workflow_nodes', 'workflow_edges', 'executions',
                             'node_executions', 'telemetry_spans', 'telemetry_events',
                             'shared_state_snapshots']
    LOOP
        EXECUTE format('ALTER TABLE agora.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR SELECT
            USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                   OR project_id = (SELECT agora.key_project()))$p$, t || '_select', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR INSERT
            WITH CHECK (organization_id = ANY ((SELECT agora.write_orgs())::uuid[])
                        OR project_id = (SELECT agora.key_project()))$p$, t || '_insert', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR UPDATE
            USING (organization_id = ANY ((SELECT agora.write_orgs())::uuid[])
                   OR project_id = (SELECT agora.key_project()))
            WITH CHECK (organization_id = ANY ((SELECT agora.write_orgs())::uuid[])
                        OR project_id = (SELECT agora.key_project()))$p$, t || '_update', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR DELETE
            USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))$p$, t || '_delete', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON agora.%I TO agora_app', t);
    END LOOP;
END
$$;

-- agora_app: the schema, and the tenancy tables with UPDATE only on what
-- may change (an organization's creator, a key's hash, a row's tenant are
-- fixed). No TRUNCATE, REFERENCES or TRIGGER anywhere: TRUNCATE ignores RLS.
GRANT USAGE ON SCHEMA agora TO agora_app;
GRANT SELECT, INSERT, DELETE ON agora.organizations TO agora_app;
GRANT UPDATE (name) ON agora.organizations TO agora_app;
GRANT SELECT, INSERT, DELETE ON agora.memberships TO agora_app;
GRANT UPDATE (role) ON agora.memberships TO agora_app;
GRANT SELECT, INSERT, DELETE ON agora.projects TO agora_app;
GRANT UPDATE (name) ON agora.projects TO agora_app;
GRANT SELECT, INSERT, DELETE ON agora.api_keys TO agora_app;
GRANT UPDATE (name, revoked_at, last_used_at) ON agora.api_keys TO agora_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON agora.idempotency_keys TO agora_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA agora TO agora_app;
