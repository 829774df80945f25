"""sql/013 converts a database whose statistics rollups sql/011 filled,
and its deltas give the rollups sql/011's triggers gave for the same rows.

In a scratch database of the test cluster, migrations 001 to 012 are
applied, then set A of rows is written (inserts, updates, deletes: the
triggers of sql/011 fill the rollups, on several shards), then sql/013,
then set B, the same rows under other ids in another project (the
triggers of sql/013 append deltas), then more rows into both, and a fold.
Then:

- A's rollups (sql/011's rows, with sql/013's deltas added) equal B's
  (sql/013's alone), workflow by workflow: executions per hour, nodes and
  errors per day, histograms included;
- each project's hourly rows (made by the migration for A, by the fold
  for B) equal the sum of its workflows' rows;
- no delta is left, and the rollups equal exact SQL on the rows."""
import os
import re
from decimal import Decimal

import pytest

from conftest import scratch_database

DB = "stats_migration"
ORG = "00000000-0000-4000-8000-00000000000a"
SETS = {  # set: (project, [workflows], execution id prefix)
    "A": ("00000000-0000-4000-8000-0000000000a0", ["00000000-0000-4000-8000-0000000000a1",
                                                   "00000000-0000-4000-8000-0000000000a2"], "0000000a"),
    "B": ("00000000-0000-4000-8000-0000000000b0", ["00000000-0000-4000-8000-0000000000b1",
                                                   "00000000-0000-4000-8000-0000000000b2"], "0000000b"),
}


def tenant_sql(s):
    project, wfs, _ = SETS[s]
    values = ", ".join(f"('{w}', '{ORG}', '{project}', 'wf-{s}-{k}')" for k, w in enumerate(wfs))
    return (f"INSERT INTO agora.projects (id, organization_id, name) VALUES ('{project}', '{ORG}', 'p{s}');"
            f"INSERT INTO agora.workflows (id, organization_id, project_id, name) VALUES {values};")


def rows_sql(s, lo, hi, changes=True):
    """Executions lo..hi of set s (3 node executions each), then (changes)
    an update of some and the deletion of a few node executions: the same
    for every set but for the ids. (A deletion folds its project's deltas
    at once.)"""
    project, wfs, prefix = SETS[s]
    eid = f"('{prefix}-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid"
    return f"""
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
    completed_at, duration_ms, error, input_tokens, output_tokens, cost_usd)
SELECT {eid}, '{ORG}', '{project}', (ARRAY['{wfs[0]}', '{wfs[1]}']::uuid[])[1 + g % 2], 's',
       CASE WHEN g % 10 < 6 THEN 'success' WHEN g % 10 < 9 THEN 'error' ELSE 'cancelled' END,
       t, t + interval '20 s', CASE WHEN g % 11 <> 0 THEN (10 * power(10, (g * 37 % 100) / 25.0))::float8 END,
       CASE WHEN g % 10 BETWEEN 6 AND 8 THEN to_jsonb('failure ' || g % 3) END,
       g % 500, g % 90, (g % 500) * 0.000002
FROM generate_series({lo}, {hi}) g,
     LATERAL (SELECT timestamptz '2025-06-01 00:00Z' + (g * 7919 % 172800) * interval '1 s' AS t) x;
INSERT INTO agora.node_executions (organization_id, project_id, execution_id, node_name, status,
    prep_duration_ms, exec_duration_ms, post_duration_ms, retry_count, input_tokens, output_tokens, cost_usd)
SELECT '{ORG}', '{project}', {eid}, (ARRAY['load', 'think', 'save'])[k],
       CASE WHEN (g + k) % 13 = 0 THEN 'error' WHEN (g + k) % 17 = 0 THEN 'skipped' ELSE 'success' END,
       (g * k % 50) / 10.0, 5 * power(10, (g * k * 13 % 100) / 30.0), CASE WHEN k <> 3 THEN (g % 7) / 3.0 END,
       (g + k) % 3, CASE WHEN k = 2 THEN g % 700 END, CASE WHEN k = 2 THEN g % 80 END,
       CASE WHEN k = 2 THEN (g % 700) * 0.000001 END
FROM generate_series({lo}, {hi}) g, generate_series(1, 3) k;
""" + ("" if not changes else f"""
UPDATE agora.executions SET duration_ms = duration_ms * 3, status = 'error', error = '"late"'
WHERE project_id = '{project}' AND id IN (SELECT {eid} FROM generate_series({lo}, {hi}, 23) g);
DELETE FROM agora.node_executions
WHERE project_id = '{project}' AND node_name = 'save'
  AND execution_id IN (SELECT {eid} FROM generate_series({lo}, {hi}, 29) g);
""")


def hist(text):
    out = {}
    if text:
        m = re.fullmatch(r"(?:\[(-?\d+):(-?\d+)\]=)?\{(.*)\}", text)
        lo = int(m.group(1)) if m.group(1) else 1
        for k, v in enumerate(m.group(3).split(",")):
            if int(v):
                out[lo + k] = out.get(lo + k, 0) + int(v)
    return out


def summed(lines, nkeys, hist_cols):
    """Rows of psql output grouped by their first nkeys columns, the rest
    summed (histograms as dicts), zero groups dropped."""
    out = {}
    for line in lines:
        cols = line.split("|")
        key = tuple(cols[:nkeys])
        acc = out.setdefault(key, [None] * (len(cols) - nkeys))
        for k, v in enumerate(cols[nkeys:]):
            if k in hist_cols:
                h = acc[k] or {}
                for b, n in hist(v).items():
                    h[b] = h.get(b, 0) + n
                acc[k] = {b: n for b, n in h.items() if n}
            else:
                acc[k] = (acc[k] or 0) + Decimal(v or 0)  # exact: costs are numeric
    return {k: v for k, v in out.items() if any(x for x in v)}


@pytest.fixture(scope="module")
def db(stack):
    run, files = scratch_database(stack, DB, "013", timeout=120)
    assert any(f.endswith("011_stats_rollups.sql") for f in files)
    run(f"INSERT INTO agora.organizations (id, name, created_by) VALUES ('{ORG}', 'o', '{ORG}');"
        + tenant_sql("A"))
    run("BEGIN;" + rows_sql("A", 1, 300) + "COMMIT;")
    run("BEGIN;" + rows_sql("A", 301, 600) + "COMMIT;")
    # Concurrent ingests spread sql/011's rows over shards; one session
    # writes shard 0 only, so some rows are moved as such ingests would
    # have left them.
    run("UPDATE agora.stats_executions_hourly SET shard = 5 WHERE extract(hour FROM hour)::int % 2 = 0;"
        "UPDATE agora.stats_nodes_daily SET shard = 3 WHERE node_name = 'think';"
        "UPDATE agora.stats_errors_daily SET shard = 2 WHERE message = 'failure 1';")
    migration = [f for f in files if os.path.basename(f).startswith("013")]
    assert len(migration) == 1
    run("BEGIN;\n" + open(migration[0]).read() + "\nCOMMIT;\n")
    run(tenant_sql("B"))
    run("BEGIN;" + rows_sql("B", 1, 300) + "COMMIT;")
    run("BEGIN;" + rows_sql("B", 301, 600) + "COMMIT;")
    for s in ("A", "B"):
        run("BEGIN;" + rows_sql(s, 601, 800) + "COMMIT;")
        run("BEGIN;" + rows_sql(s, 801, 850, changes=False) + "COMMIT;")
    assert int(run("SELECT count(*) FROM agora.stats_deltas").strip()) > 0
    run("SELECT agora.stats_fold(NULL)")
    yield run
    stack.psql_admin(f"DROP DATABASE IF EXISTS {DB}")


def by_set(run, table, cols, nkeys, hist_cols):
    """{set: {(workflow index, *keys): sums}} of a rollup table."""
    out = {}
    for s, (_, wfs, _) in SETS.items():
        lines = []
        for k, w in enumerate(wfs):
            lines += [f"{k}|{line}" for line in run(
                f"SELECT {cols} FROM agora.{table} WHERE workflow_id = '{w}'").splitlines() if line]
        out[s] = summed(lines, nkeys + 1, hist_cols)
    return out


def test_the_migration_keeps_sql_011_rollups_and_deltas_add_to_them_as_sql_011_would(db):
    run = db
    assert run("SELECT count(*) FROM agora.stats_deltas").strip() == "0"
    ex = by_set(run, "stats_executions_hourly",
                "hour, success, error, cancelled, duration_count, duration_hist, input_tokens, output_tokens,"
                " cost_usd", 1, {4})
    assert ex["A"] == ex["B"] and len(ex["A"]) > 40
    shards = run(f"SELECT DISTINCT shard FROM agora.stats_executions_hourly WHERE project_id = '{SETS['A'][0]}'")
    assert sorted(shards.split()) == ["0", "5"]
    nodes = by_set(run, "stats_nodes_daily",
                   "node_name, day, runs, errors, skipped, retries, prep_hist, exec_hist, post_hist,"
                   " input_tokens, output_tokens, cost_usd", 2, {4, 5, 6})
    assert nodes["A"] == nodes["B"] and len(nodes["A"]) == 2 * 3 * 2  # workflows, nodes, days
    errors = by_set(run, "stats_errors_daily", "day, message, count", 2, set())
    assert errors["A"] == errors["B"] and {k[2] for k in errors["A"]} == {
        "failure 0", "failure 1", "failure 2", "late"}
    # The latest example of each message: the same execution number.
    examples = {}
    for s, (_, wfs, _) in SETS.items():
        examples[s] = run(f"""
            SELECT w.name, e.day, e.message, right(e.example_id::text, 12), max(e.last_seen) OVER w2
            FROM (SELECT workflow_id, day, message, (array_agg(example_id ORDER BY last_seen DESC))[1] AS example_id,
                         max(last_seen) AS last_seen
                  FROM agora.stats_errors_daily GROUP BY 1, 2, 3) e
            JOIN agora.workflows w ON w.id = e.workflow_id
            WHERE w.project_id = '{SETS[s][0]}'
            WINDOW w2 AS (PARTITION BY e.workflow_id, e.day, e.message)
            ORDER BY 2, 3, 1""").replace(f"wf-{s}-", "wf-")
    assert examples["A"] == examples["B"] and examples["A"].strip()


def test_project_rows_equal_the_sum_of_the_workflows_rows(db):
    run = db
    cols = "hour, success, error, cancelled, duration_count, duration_hist, input_tokens, output_tokens, cost_usd"
    for s, (project, _, _) in SETS.items():
        workflows = summed([line for line in run(
            f"SELECT {cols} FROM agora.stats_executions_hourly WHERE project_id = '{project}'").splitlines()
            if line], 1, {4})
        own = summed([line for line in run(
            f"SELECT {cols} FROM agora.stats_projects_hourly WHERE project_id = '{project}'").splitlines()
            if line], 1, {4})
        assert own == workflows and len(own) > 40, s


def test_the_rollups_equal_exact_sql_on_the_rows(db):
    run = db
    project = SETS["B"][0]
    exact = summed([line for line in run(f"""
        SELECT date_trunc('hour', started_at, 'UTC'), count(*) FILTER (WHERE status = 'success'),
               count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status = 'cancelled'),
               count(duration_ms), sum(input_tokens)
        FROM agora.executions WHERE project_id = '{project}' GROUP BY 1""").splitlines() if line], 1, set())
    rolled = summed([line for line in run(f"""
        SELECT hour, success, error, cancelled, duration_count, input_tokens
        FROM agora.stats_projects_hourly WHERE project_id = '{project}'""").splitlines() if line], 1, set())
    assert rolled == exact and sum(v[0] for v in exact.values()) > 400
