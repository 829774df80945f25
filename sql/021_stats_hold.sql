-- A project's fold lock, for the writes that delete what a fold writes to.
-- A project or workflow delete cascades to rollup rows that a concurrent
-- fold (agora-live's, or a stats read's, sql/013 stats_fold) may be
-- updating, in another order, and inserts rows whose foreign keys point at
-- what the delete removes: two transactions each waiting for the other, a
-- deadlock the caller would see as 409. The delete takes the fold's own
-- lock first (the same key as stats_fold), so the two run one after the
-- other; a fold then finds the project's rows gone.
CREATE FUNCTION agora.stats_hold(p uuid) RETURNS void
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$ SELECT pg_advisory_xact_lock(1718578276, hashtext(p::text)) $$;

ALTER FUNCTION agora.stats_hold(uuid) OWNER TO agora_owner;
REVOKE ALL ON FUNCTION agora.stats_hold(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.stats_hold(uuid) TO agora_app;
