-- managed/001: what 001_roles_and_schema.sql does, for a migrating role
-- that is not a superuser (a managed PostgreSQL's admin role: LOGIN
-- CREATEROLE, owner of the database). agora-admin migrate runs this file in
-- place of sql/001 when the role it connects as is not a superuser, and
-- records it under this name (README "Managed PostgreSQL").
--
-- 001 pins the roles' attributes with ALTER ROLE ... NOSUPERUSER ..., which
-- only a superuser may run, and creates agora_definer BYPASSRLS, which only
-- a superuser may grant (PostgreSQL 15). Here the roles are created when
-- missing, without BYPASSRLS (sql/020 gives agora_definer its rows by
-- policy instead), and roles that exist already (made by the provider's
-- console, or by a superuser) are checked, not changed: an attribute that
-- would break isolation stops the run with what to ask for.

DO $$
DECLARE
    r record;
    can_create boolean := (SELECT rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user);
    hint text := format('Give role %I CREATEROLE, or have the roles made for it: CREATE ROLE agora_owner NOLOGIN; '
                        'CREATE ROLE agora_definer NOLOGIN; CREATE ROLE agora_app LOGIN; '
                        'GRANT agora_owner, agora_definer TO %I (README "Managed PostgreSQL").',
                        current_user, current_user);
BEGIN
    -- Nested: pg_has_role() fails on a role that does not exist.
    IF NOT can_create THEN
        IF (SELECT count(*) FROM pg_catalog.pg_roles
            WHERE rolname IN ('agora_owner', 'agora_definer', 'agora_app')) < 3 THEN
            RAISE EXCEPTION 'role % may not create roles (it has no CREATEROLE), and agora_owner, agora_definer '
                'and agora_app are not all there', current_user USING ERRCODE = 'insufficient_privilege', HINT = hint;
        END IF;
        IF NOT pg_catalog.pg_has_role(current_user, 'agora_owner', 'MEMBER')
           OR NOT pg_catalog.pg_has_role(current_user, 'agora_definer', 'MEMBER') THEN
            RAISE EXCEPTION 'role % is not a member of agora_owner and agora_definer, and may not grant them to '
                'itself (it has no CREATEROLE)', current_user USING ERRCODE = 'insufficient_privilege', HINT = hint;
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'agora_owner') THEN
        CREATE ROLE agora_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'agora_definer') THEN
        CREATE ROLE agora_definer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'agora_app') THEN
        CREATE ROLE agora_app LOGIN;
    END IF;
    -- agora_definer may have BYPASSRLS (a superuser made it so); the others
    -- must not, and none may be a superuser or a replication role.
    FOR r IN SELECT rolname, rolsuper, rolreplication, rolbypassrls FROM pg_catalog.pg_roles
             WHERE rolname IN ('agora_owner', 'agora_definer', 'agora_app') LOOP
        IF r.rolsuper OR r.rolreplication OR (r.rolbypassrls AND r.rolname <> 'agora_definer') THEN
            RAISE EXCEPTION 'role % is a superuser, a replication role or BYPASSRLS', r.rolname
                USING HINT = format('Ask whoever administers the server for ALTER ROLE %I NOSUPERUSER '
                                    'NOREPLICATION%s (README "Managed PostgreSQL").', r.rolname,
                                    CASE WHEN r.rolname <> 'agora_definer' THEN ' NOBYPASSRLS' ELSE '' END);
        END IF;
    END LOOP;
    -- Through a membership agora_app would act as the table owner or the
    -- definer, and so see every tenant's rows.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
               WHERE m.member = 'agora_app'::regrole
                 AND m.roleid IN ('agora_owner'::regrole, 'agora_definer'::regrole)) THEN
        RAISE EXCEPTION 'role agora_app is a member of agora_owner or agora_definer'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'REVOKE agora_owner, agora_definer FROM agora_app (README "Managed PostgreSQL").';
    END IF;
    -- The migrations create objects as agora_owner (SET ROLE) and hand
    -- functions to agora_definer (ALTER ... OWNER TO), which a non-superuser
    -- may do only as a member of the role. A CREATEROLE role grants it to
    -- itself; without CREATEROLE the grant must have been made before.
    IF NOT pg_catalog.pg_has_role(current_user, 'agora_owner', 'MEMBER') THEN
        EXECUTE format('GRANT agora_owner TO %I', current_user);
    END IF;
    IF NOT pg_catalog.pg_has_role(current_user, 'agora_definer', 'MEMBER') THEN
        EXECUTE format('GRANT agora_definer TO %I', current_user);
    END IF;
    -- The attributes a CREATEROLE role may set on a role that is not a
    -- superuser, forced as 001 forces them; without CREATEROLE, checked.
    IF can_create THEN
        ALTER ROLE agora_owner NOLOGIN NOCREATEDB NOCREATEROLE;
        ALTER ROLE agora_definer NOLOGIN NOCREATEDB NOCREATEROLE;
        ALTER ROLE agora_app LOGIN NOCREATEDB NOCREATEROLE INHERIT;
    END IF;
    FOR r IN SELECT rolname FROM pg_catalog.pg_roles
             WHERE rolname IN ('agora_owner', 'agora_definer', 'agora_app')
               AND (rolcreatedb OR rolcreaterole OR rolcanlogin <> (rolname = 'agora_app')) LOOP
        RAISE EXCEPTION 'role % has CREATEDB or CREATEROLE, or % log in', r.rolname,
            CASE WHEN r.rolname = 'agora_app' THEN 'cannot' ELSE 'can' END
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('Ask for ALTER ROLE %I %s NOCREATEDB NOCREATEROLE.', r.rolname,
                                CASE WHEN r.rolname = 'agora_app' THEN 'LOGIN' ELSE 'NOLOGIN' END);
    END LOOP;
END
$$;

CREATE SCHEMA IF NOT EXISTS agora AUTHORIZATION agora_owner;
ALTER SCHEMA agora OWNER TO agora_owner;
REVOKE ALL ON SCHEMA agora FROM PUBLIC;
-- A non-superuser may hand an object to a role only when that role may
-- create in the object's schema: the migrations give functions to
-- agora_definer.
GRANT CREATE ON SCHEMA agora TO agora_definer;
