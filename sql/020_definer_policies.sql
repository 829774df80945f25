-- 020: agora_definer reaches every row through a policy, not only through
-- BYPASSRLS, so the SECURITY DEFINER functions it owns (membership lookups,
-- API-key lookup, stats folds, alert evaluation and delivery) work on a
-- managed PostgreSQL, where no superuser exists to give it BYPASSRLS
-- (README "Managed PostgreSQL", sql/managed/001). Where it has BYPASSRLS
-- (the superuser path, 001) these policies change nothing.
--
-- One permissive policy FOR ALL TO agora_definer on each table of schema
-- agora under row-level security: what the role may do to a table is still
-- only what it was GRANTed. The policy applies to members of agora_definer
-- too: agora_app is none (test_managed_pg checks it); a managed admin role
-- is one, and it owns every table anyway. A new table gets the same policy
-- in its own migration (docs/DESIGN.md, "Where to add").
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
             WHERE c.relnamespace = 'agora'::regnamespace AND c.relkind IN ('r', 'p') AND c.relrowsecurity
             ORDER BY c.relname LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = t AND p.polname = 'definer_all') THEN
            EXECUTE format('CREATE POLICY definer_all ON %s FOR ALL TO agora_definer USING (true) WITH CHECK (true)', t);
        END IF;
    END LOOP;
END
$$;
