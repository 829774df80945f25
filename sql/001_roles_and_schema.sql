-- 001: the three database roles and the schema `agora` (see docs/DESIGN.md,
-- "Database roles"). Roles belong to the whole cluster, not to one
-- database, so they are created only when missing (a cluster may hold
-- several Agora databases, e.g. for tests), and their attributes are then
-- forced to what isolation needs, whatever an older definition said.
-- Runs as the cluster superuser, inside migrate.c's transaction.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'agora_owner') THEN
        CREATE ROLE agora_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'agora_definer') THEN
        CREATE ROLE agora_definer NOLOGIN BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'agora_app') THEN
        CREATE ROLE agora_app LOGIN;
    END IF;
END
$$;

-- The owner of the tables: RLS is FORCEd on them, so owning grants no view
-- of other tenants' rows. Nobody logs in as it.
ALTER ROLE agora_owner NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
-- Owns only the SECURITY DEFINER helpers the policies call: it bypasses RLS
-- so membership lookups inside policies never recurse through policies.
ALTER ROLE agora_definer NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
-- What the workers connect as: every row it touches goes through a policy.
-- Its password is set by run.sh after migrating, never here.
ALTER ROLE agora_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT;

CREATE SCHEMA IF NOT EXISTS agora AUTHORIZATION agora_owner;
ALTER SCHEMA agora OWNER TO agora_owner;
REVOKE ALL ON SCHEMA agora FROM PUBLIC;
