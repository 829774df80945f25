-- managed/009: 009_genai_usage.sql for a migrating role that is not a
-- superuser (see managed/001, README "Managed PostgreSQL"): the same
-- statements, but the default prices are inserted with the table's FORCE
-- ROW LEVEL SECURITY lifted for that one statement, inside this file's
-- transaction. 009 inserts them as the superuser, whom RLS does not stop;
-- the policies let nobody else write a default, and a non-superuser that
-- owns the table (through agora_owner) is exempt from RLS only while it is
-- not forced. Nobody else sees the table meanwhile: it was created by this
-- transaction.
--
-- 009: GenAI token usage and its cost (README "Tokens and cost").
--
-- A node execution may report the tokens of the model calls it made
-- (input_tokens, which include cache reads and writes, output_tokens, and
-- the cache figures on their own), the model and its provider. Its cost in
-- US dollars is computed by the ingest when the node execution is stored,
-- from the price valid at its started_at: the organization's own price of
-- that model first, else the default below. Stored, not computed when read,
-- so a later change of a price never rewrites the cost of runs already
-- recorded. No price (an unknown model, or none valid then): cost_usd is
-- NULL, never a guess.
--
-- The execution row carries the sums (input and output tokens, the cost
-- of the node executions whose cost is known) and unpriced_count, how many
-- of its node executions report tokens but have no cost, so the read
-- routes show `cost_complete` without counting node executions. The ingest
-- maintains them in the statements it already runs: the execution's insert
-- for a new one, the append's update otherwise (adding the difference when
-- a node execution is updated by its client id).

-- NOT VALID: every existing row holds NULL in these new columns, so there is
-- nothing to check, and validating would scan the largest table under an
-- exclusive lock. New rows are checked all the same.
ALTER TABLE agora.node_executions
    ADD COLUMN input_tokens bigint,
    ADD COLUMN output_tokens bigint,
    ADD COLUMN cache_read_tokens bigint,
    ADD COLUMN cache_creation_tokens bigint,
    ADD COLUMN model text,
    ADD COLUMN provider text,
    ADD COLUMN cost_usd numeric,
    ADD CONSTRAINT node_executions_tokens_check CHECK (input_tokens >= 0 AND output_tokens >= 0
        AND cache_read_tokens >= 0 AND cache_creation_tokens >= 0) NOT VALID;

-- Constant defaults: PostgreSQL records them in the catalog and rewrites
-- no row.
ALTER TABLE agora.executions
    ADD COLUMN input_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN cost_usd numeric NOT NULL DEFAULT 0,
    ADD COLUMN unpriced_count integer NOT NULL DEFAULT 0;

SET LOCAL ROLE agora_owner;

-- Prices in US dollars per million tokens. A row with organization_id NULL
-- is a default, which every caller reads; an organization's own rows
-- override the defaults for its runs. A model's prices form a series of
-- validity periods [valid_from, valid_to) per organization (or of the
-- defaults); valid_to NULL is the open, current one. Setting a price
-- through the API closes the open period where the new one starts, so the
-- periods of a series never overlap. provider, when set, restricts the
-- price to node executions that name that provider or none.
CREATE TABLE agora.model_prices (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id     uuid REFERENCES agora.organizations (id) ON DELETE CASCADE,
    model               text NOT NULL CHECK (octet_length(model) BETWEEN 1 AND 200),
    provider            text CHECK (octet_length(provider) BETWEEN 1 AND 200),
    -- BETWEEN also keeps out NaN and Infinity, which numeric holds; a
    -- cost then has at most 9 + 6 decimals (tokens x price / 10^6).
    input_usd_per_mtok  numeric NOT NULL
        CHECK (input_usd_per_mtok BETWEEN 0 AND 1000000 AND scale(input_usd_per_mtok) <= 9),
    output_usd_per_mtok numeric NOT NULL
        CHECK (output_usd_per_mtok BETWEEN 0 AND 1000000 AND scale(output_usd_per_mtok) <= 9),
    valid_from          timestamptz NOT NULL,
    valid_to            timestamptz CHECK (valid_to > valid_from),
    created_at          timestamptz NOT NULL DEFAULT now()
);
-- The ingest's lookup: the latest period of (organization, model) that
-- started at or before a node execution's start, one backward index step;
-- defaults are the organization_id IS NULL range of the same index.
CREATE INDEX model_prices_lookup_idx ON agora.model_prices (organization_id, model, valid_from);
-- One open period per series (defaults included: NULL would not collide in
-- a plain unique index).
CREATE UNIQUE INDEX model_prices_open_key ON agora.model_prices
    (COALESCE(organization_id, '00000000-0000-0000-0000-000000000000'::uuid), model)
    WHERE valid_to IS NULL;

ALTER TABLE agora.model_prices ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
-- Members read their organization's prices, an API key its organization's
-- (an ingest prices its node executions as the caller); the defaults are
-- read by any caller with an identity. Only owners and admins write, and
-- only their organization's rows: NULL is in no list, so nobody writes a
-- default through agora_app.
CREATE POLICY model_prices_select ON agora.model_prices FOR SELECT
    USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
           OR organization_id = (SELECT agora.key_org())
           OR (organization_id IS NULL AND (SELECT agora.caller()) IS NOT NULL));
-- Every command, as for api_keys; for SELECT it adds nothing to the policy
-- above, which is permissive too.
CREATE POLICY model_prices_admin ON agora.model_prices FOR ALL
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));

RESET ROLE;

-- The defaults, inserted as the table's owner with RLS not forced (the
-- policies let nobody else write them): list prices in US dollars per million tokens as the
-- providers published them on 2025-01-15, the date this list was compiled,
-- and valid from then. They are not kept up to date by the program:
-- providers change prices, so an organization's admins set their own
-- (PUT /api/organizations/{id}/model-prices/{model}), which win over these,
-- and a later migration may add newer default periods. Runs that started
-- before 2025-01-15 find no default price (cost null) rather than one that
-- may not have applied then. Names are matched exactly, so the dated
-- snapshot names that providers answer with are listed beside the aliases.
-- Cache reads and writes count as input tokens at the input price (the
-- table has no cache rates), and Gemini's prices are those for prompts of
-- up to 128k tokens (it charges more beyond).
ALTER TABLE agora.model_prices NO FORCE ROW LEVEL SECURITY;
INSERT INTO agora.model_prices (organization_id, model, provider, input_usd_per_mtok, output_usd_per_mtok,
                                valid_from)
SELECT NULL, m.model, m.provider, m.input, m.output, '2025-01-15T00:00:00Z'
FROM (VALUES
    ('gpt-4o', 'openai', 2.50, 10.00),
    ('gpt-4o-2024-08-06', 'openai', 2.50, 10.00),
    ('gpt-4o-2024-11-20', 'openai', 2.50, 10.00),
    ('gpt-4o-mini', 'openai', 0.15, 0.60),
    ('gpt-4o-mini-2024-07-18', 'openai', 0.15, 0.60),
    ('o1', 'openai', 15.00, 60.00),
    ('o1-2024-12-17', 'openai', 15.00, 60.00),
    ('claude-3-5-sonnet', 'anthropic', 3.00, 15.00),
    ('claude-3-5-sonnet-latest', 'anthropic', 3.00, 15.00),
    ('claude-3-5-sonnet-20241022', 'anthropic', 3.00, 15.00),
    ('claude-3-5-sonnet-20240620', 'anthropic', 3.00, 15.00),
    ('claude-3-5-haiku', 'anthropic', 0.80, 4.00),
    ('claude-3-5-haiku-latest', 'anthropic', 0.80, 4.00),
    ('claude-3-5-haiku-20241022', 'anthropic', 0.80, 4.00),
    ('claude-3-opus-20240229', 'anthropic', 15.00, 75.00),
    ('gemini-1.5-pro', 'google', 1.25, 5.00),
    ('gemini-1.5-flash', 'google', 0.075, 0.30)
) AS m(model, provider, input, output);
ALTER TABLE agora.model_prices FORCE ROW LEVEL SECURITY;

-- The open period is closed by setting valid_to; nothing else of a price
-- changes after it is written.
GRANT SELECT, INSERT, DELETE ON agora.model_prices TO agora_app;
GRANT UPDATE (valid_to) ON agora.model_prices TO agora_app;
GRANT USAGE ON SEQUENCE agora.model_prices_id_seq TO agora_app;
