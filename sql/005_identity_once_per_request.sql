-- 005: the caller's organizations, looked up once per request instead of
-- once per statement.
--
-- Every policy asks read_orgs(), write_orgs() or admin_orgs(), and handlers
-- ask org_role(). As SECURITY DEFINER SQL functions (003) they cannot be
-- inlined, so every statement of every request parsed, planned and ran the
-- membership query again and switched search_path twice: 11% of
-- PostgreSQL's CPU for an ingest of 20 node executions (perf,
-- fmgr_security_definer; BENCHMARKS.md). Now:
--
-- - agora.begin_request() sets the identity (what db_begin_as set with
--   set_config before) and, in the same call, the caller's organizations
--   by role into four transaction-local settings (agora.read_orgs,
--   agora.write_orgs, agora.admin_orgs, agora.owner_orgs; uuid[] text).
-- - read_orgs() and friends keep their names and OIDs (the policies call
--   them), but become plain SQL that PostgreSQL inlines: the setting when
--   it is there, the live lookup (the *_live() functions, the old bodies)
--   when it is not (a transaction that set the identity by hand).
-- - A statement trigger on memberships empties the settings, so a
--   membership made, changed or removed inside the transaction counts at
--   once, as it did (creating an organization, then acting as its owner).
--
-- What it does not change: who may claim to be whom. agora_app could
-- always set agora.user_id to any user (the workers are trusted to
-- authenticate callers); setting the organization lists directly grants
-- nothing that naming a member of those organizations did not. Memberships
-- changed by another transaction while a request runs now count from the
-- next request on instead of the next statement.

-- The live lookups, as 003 defined read_orgs() and friends.
CREATE FUNCTION agora.read_orgs_live() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT COALESCE(array_agg(m.organization_id), '{}')
        FROM agora.memberships m
        WHERE m.user_id = agora.uid()
    $$;

CREATE FUNCTION agora.write_orgs_live() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT COALESCE(array_agg(m.organization_id), '{}')
        FROM agora.memberships m
        WHERE m.user_id = agora.uid() AND m.role IN ('owner', 'admin', 'member')
    $$;

CREATE FUNCTION agora.admin_orgs_live() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT COALESCE(array_agg(m.organization_id), '{}')
        FROM agora.memberships m
        WHERE m.user_id = agora.uid() AND m.role IN ('owner', 'admin')
    $$;

CREATE FUNCTION agora.org_role_live(org uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT m.role
        FROM agora.memberships m
        WHERE m.organization_id = org AND m.user_id = agora.uid()
    $$;

-- The identity of a request and its organizations, in one call (db.c,
-- db_begin_as). NULL arguments leave a setting empty, as set_config does.
CREATE FUNCTION agora.begin_request(p_user text, p_project text, p_org text, p_key text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        PERFORM set_config('agora.user_id', p_user, true), set_config('agora.project_id', p_project, true),
                set_config('agora.org_id', p_org, true), set_config('agora.key_id', p_key, true);
        PERFORM set_config('agora.read_orgs', COALESCE(array_agg(m.organization_id), '{}')::text, true),
                set_config('agora.write_orgs', COALESCE(array_agg(m.organization_id)
                    FILTER (WHERE m.role IN ('owner', 'admin', 'member')), '{}')::text, true),
                set_config('agora.admin_orgs', COALESCE(array_agg(m.organization_id)
                    FILTER (WHERE m.role IN ('owner', 'admin')), '{}')::text, true),
                set_config('agora.owner_orgs', COALESCE(array_agg(m.organization_id)
                    FILTER (WHERE m.role = 'owner'), '{}')::text, true)
        FROM agora.memberships m
        WHERE m.user_id = agora.uid();
    END
    $$;

-- Empties the lists, so the functions below go back to the live lookups
-- for the rest of the transaction.
CREATE FUNCTION agora.forget_cached_orgs() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        PERFORM set_config('agora.read_orgs', '', true), set_config('agora.write_orgs', '', true),
                set_config('agora.admin_orgs', '', true), set_config('agora.owner_orgs', '', true);
        RETURN NULL;
    END
    $$;

CREATE TRIGGER memberships_forget_cached_orgs
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agora.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION agora.forget_cached_orgs();

-- The policies' functions, same names and OIDs, now inlinable: SQL-standard
-- bodies (resolved now, not through the caller's search_path), no SECURITY
-- DEFINER, no SET. An empty setting means "not looked up in this
-- transaction".
CREATE OR REPLACE FUNCTION agora.read_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE(NULLIF(pg_catalog.current_setting('agora.read_orgs', true), '')::uuid[],
                    agora.read_orgs_live());

CREATE OR REPLACE FUNCTION agora.write_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE(NULLIF(pg_catalog.current_setting('agora.write_orgs', true), '')::uuid[],
                    agora.write_orgs_live());

CREATE OR REPLACE FUNCTION agora.admin_orgs() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE(NULLIF(pg_catalog.current_setting('agora.admin_orgs', true), '')::uuid[],
                    agora.admin_orgs_live());

CREATE OR REPLACE FUNCTION agora.org_role(org uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE
        WHEN NULLIF(pg_catalog.current_setting('agora.owner_orgs', true), '') IS NULL
            THEN agora.org_role_live(org)
        WHEN org = ANY (pg_catalog.current_setting('agora.owner_orgs', true)::uuid[]) THEN 'owner'
        WHEN org = ANY (pg_catalog.current_setting('agora.admin_orgs', true)::uuid[]) THEN 'admin'
        WHEN org = ANY (pg_catalog.current_setting('agora.write_orgs', true)::uuid[]) THEN 'member'
        WHEN org = ANY (pg_catalog.current_setting('agora.read_orgs', true)::uuid[]) THEN 'viewer'
    END;

ALTER FUNCTION agora.read_orgs_live() OWNER TO agora_definer;
ALTER FUNCTION agora.write_orgs_live() OWNER TO agora_definer;
ALTER FUNCTION agora.admin_orgs_live() OWNER TO agora_definer;
ALTER FUNCTION agora.org_role_live(uuid) OWNER TO agora_definer;
ALTER FUNCTION agora.begin_request(text, text, text, text) OWNER TO agora_definer;
ALTER FUNCTION agora.forget_cached_orgs() OWNER TO agora_owner;

REVOKE ALL ON FUNCTION agora.read_orgs_live(), agora.write_orgs_live(), agora.admin_orgs_live(),
    agora.org_role_live(uuid), agora.begin_request(text, text, text, text),
    agora.forget_cached_orgs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.read_orgs_live(), agora.write_orgs_live(), agora.admin_orgs_live(),
    agora.org_role_live(uuid), agora.begin_request(text, text, text, text)
    TO agora_app, agora_definer, agora_owner;
GRANT EXECUTE ON FUNCTION agora.forget_cached_orgs() TO agora_app, agora_definer, agora_owner;
