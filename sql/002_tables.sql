-- 002: the tenant tables and their indexes.
--
-- Every row carries organization_id, and every row below a project also
-- carries project_id, so a policy decides visibility from the row alone
-- (no join): members by organization, API keys by project.
--
-- Those copied columns must never disagree with the parent, or a row could
-- be planted under another tenant's project (visible to that project's API
-- key). So each child references its parent by (id, organization_id,
-- project_id) together: one composite foreign key costs the same one index
-- probe per row as a plain one, and makes an inconsistent row impossible.
--
-- The telemetry tables take the bulk of the writes (an ingest may carry
-- 100,000 items of each kind). They have no triggers beyond the one foreign
-- key to executions, a bigint identity key (appends at the right edge of
-- its index) and only the indexes that reads need, so multi-row INSERT and
-- COPY stay fast.
--
-- Created as agora_owner so it owns tables, indexes and identity sequences.

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    -- The user (JWT sub) who made it; the bootstrap membership policy
    -- lets only this user claim ownership of a member-less organization.
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agora.memberships (
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    -- No users table: users live in the identity provider, and a user may be
    -- added before ever signing in (CONTRACT.md section 8).
    user_id         uuid NOT NULL,
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
-- read_orgs() and friends run on every request: an index-only scan by user.
CREATE INDEX memberships_user_idx ON agora.memberships (user_id, organization_id) INCLUDE (role);

CREATE TABLE agora.projects (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name),
    -- Target of the children's composite foreign keys.
    UNIQUE (id, organization_id)
);

CREATE TABLE agora.api_keys (
    -- Chosen by apikey_generate(): the key text names its row.
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    name            text CHECK (char_length(name) <= 200),
    -- SHA-256 of the secret half; the key itself is never stored.
    secret_hash     bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    last_used_at    timestamptz,
    FOREIGN KEY (project_id, organization_id)
        REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX api_keys_project_idx ON agora.api_keys (project_id, organization_id);

CREATE TABLE agora.workflows (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    name            text NOT NULL,
    description     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, organization_id, project_id),
    FOREIGN KEY (project_id, organization_id)
        REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);
-- Newest first within a project (an API key's list) and within an
-- organization (a user's list); the first also serves the foreign key.
CREATE INDEX workflows_project_idx ON agora.workflows (project_id, created_at DESC, id DESC);
CREATE INDEX workflows_org_idx ON agora.workflows (organization_id, created_at DESC, id DESC);

CREATE TABLE agora.workflow_nodes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    workflow_id     uuid NOT NULL,
    name            text NOT NULL,
    type            text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Ingest finds a node by name, and creates a missing one with
    -- INSERT ... ON CONFLICT (workflow_id, name) DO NOTHING.
    UNIQUE (workflow_id, name),
    -- Lets edges require that both ends belong to their own workflow.
    UNIQUE (workflow_id, id),
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE
);

CREATE TABLE agora.workflow_edges (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    workflow_id     uuid NOT NULL,
    from_node_id    uuid NOT NULL,
    to_node_id      uuid NOT NULL,
    -- NULL when the client named no action (the framework's "default").
    action          text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE,
    FOREIGN KEY (workflow_id, from_node_id)
        REFERENCES agora.workflow_nodes (workflow_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workflow_id, to_node_id)
        REFERENCES agora.workflow_nodes (workflow_id, id) ON DELETE CASCADE
);
CREATE INDEX workflow_edges_from_idx ON agora.workflow_edges (workflow_id, from_node_id);
CREATE INDEX workflow_edges_to_idx ON agora.workflow_edges (workflow_id, to_node_id);

CREATE TABLE agora.executions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    workflow_id     uuid NOT NULL,
    session_id      text NOT NULL,
    status          text NOT NULL CHECK (status IN ('running', 'success', 'error', 'cancelled')),
    started_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    duration_ms     double precision,
    error           jsonb,
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, organization_id, project_id),
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE
);
-- Keyset paging, newest first (started_at DESC, id DESC), for each filter
-- of GET /api/executions: a page costs the same at any depth.
CREATE INDEX executions_org_idx ON agora.executions (organization_id, started_at DESC, id DESC);
CREATE INDEX executions_project_idx ON agora.executions (project_id, started_at DESC, id DESC);
CREATE INDEX executions_workflow_idx ON agora.executions (workflow_id, started_at DESC, id DESC);
CREATE INDEX executions_session_idx
    ON agora.executions (organization_id, session_id, started_at DESC, id DESC);
CREATE INDEX executions_status_idx
    ON agora.executions (organization_id, status, started_at DESC, id DESC);

-- Items of an execution. Most fields are optional in the payload and are
-- stored as sent (NULL when absent), so the timeline can echo them.
-- node_id has no foreign key on purpose: ingest checks it against the
-- workflow (422 otherwise), and a key would add a per-row check plus an
-- index on the largest tables, and would rewrite history when a node goes.
CREATE TABLE agora.node_executions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  uuid NOT NULL,
    project_id       uuid NOT NULL,
    execution_id     uuid NOT NULL,
    node_id          uuid,
    node_name        text NOT NULL,
    node_type        text,
    status           text CHECK (status IN ('success', 'error', 'skipped', 'running')),
    started_at       timestamptz,
    completed_at     timestamptz,
    prep_duration_ms double precision,
    exec_duration_ms double precision,
    post_duration_ms double precision,
    retry_count      integer CHECK (retry_count >= 0),
    action           text,
    error            jsonb,
    FOREIGN KEY (execution_id, organization_id, project_id)
        REFERENCES agora.executions (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX node_executions_execution_idx ON agora.node_executions (execution_id, started_at, id);

CREATE TABLE agora.telemetry_spans (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    execution_id    uuid NOT NULL,
    trace_id        text,
    span_id         text NOT NULL,
    parent_span_id  text,
    name            text NOT NULL,
    kind            text,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz,
    duration_ms     double precision,
    status          text CHECK (status IN ('ok', 'error', 'unset')),
    attributes      jsonb,
    node_name       text,
    FOREIGN KEY (execution_id, organization_id, project_id)
        REFERENCES agora.executions (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX telemetry_spans_execution_idx ON agora.telemetry_spans (execution_id, start_time, id);

CREATE TABLE agora.telemetry_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    execution_id    uuid NOT NULL,
    event_type      text NOT NULL,
    "timestamp"     timestamptz NOT NULL,
    node_name       text,
    data            jsonb,
    FOREIGN KEY (execution_id, organization_id, project_id)
        REFERENCES agora.executions (id, organization_id, project_id) ON DELETE CASCADE
);
-- Ordered by timestamp, unfiltered or filtered by event_type / node_name.
CREATE INDEX telemetry_events_execution_idx
    ON agora.telemetry_events (execution_id, "timestamp", id);
CREATE INDEX telemetry_events_type_idx
    ON agora.telemetry_events (execution_id, event_type, "timestamp", id);
CREATE INDEX telemetry_events_node_idx
    ON agora.telemetry_events (execution_id, node_name, "timestamp", id);

CREATE TABLE agora.shared_state_snapshots (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    execution_id    uuid NOT NULL,
    sequence        integer,
    "timestamp"     timestamptz,
    node_name       text,
    phase           text,
    state           jsonb NOT NULL,
    FOREIGN KEY (execution_id, organization_id, project_id)
        REFERENCES agora.executions (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX shared_state_snapshots_execution_idx
    ON agora.shared_state_snapshots (execution_id, sequence, id);

-- Idempotency-Key replays (CONTRACT.md section 8): scoped to the caller,
-- kept 24 hours (agora.purge_idempotency_keys()). status_code and response
-- stay NULL while the first request is in flight.
CREATE TABLE agora.idempotency_keys (
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    -- agora.caller(): the user's uuid as text, or 'key:' || the API key's id.
    caller          text NOT NULL,
    key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    status_code     integer,
    response        jsonb,
    execution_id    uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_idx ON agora.idempotency_keys (created_at);
CREATE INDEX idempotency_keys_org_idx ON agora.idempotency_keys (organization_id);

RESET ROLE;
