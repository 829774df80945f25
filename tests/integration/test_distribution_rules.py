"""The schema keeps the path to Citus open (SCALING.md, "Beyond one primary").

The classification of the tables lives in SCALING.md ("Tables": the block
after the `distribution classes` comment), next to the reasons for it; this
test reads it and checks the migrated schema of the test stack against the
rules Citus sets for each class, reading pg_catalog:

- every table of schema agora is in exactly one class, and every name in a
  class is a table (a new table forces a decision; a dropped one a cleanup);
- a distributed table has `organization_id uuid NOT NULL`, the
  distribution column;
- every primary key, unique constraint and unique index of a distributed
  table has `organization_id` among its key columns, as a plain column (an
  expression over it does not count);
- a foreign key between distributed tables includes `organization_id` on
  both sides, matched column to column, and neither sets it NULL or to a
  default on delete or update;
- a distributed table has no exclusion constraint;
- foreign keys only go where Citus allows them: distributed to distributed
  or reference, reference to reference, local to local or reference.

Partitions are checked through their partitioned table (Citus distributes
the parent; a partition's constraints are clones of the parent's).

Each rule is shown able to fail: a violating scratch table is created in a
transaction that is rolled back, and the checker must name it."""
import json
import os
import re

from conftest import ROOT

CLASSES = ("distributed", "reference", "local")
MARKER = "<!-- distribution classes: read by tests/integration/test_distribution_rules.py -->"

# Foreign keys Citus accepts, as (class of the referencing table, class of
# the referenced one).
ALLOWED_FKS = {
    ("distributed", "distributed"), ("distributed", "reference"),
    ("reference", "reference"), ("local", "reference"), ("local", "local"),
}

# One JSON document: the tables of schema agora (partitions left out), the
# distribution column of each, their constraints (clones on partitions left
# out) and their unique indexes with their key columns (NULL for an
# expression).
CATALOG_SQL = r"""
WITH t AS (
    SELECT c.oid, c.relname FROM pg_catalog.pg_class c
    WHERE c.relnamespace = 'agora'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
)
SELECT json_build_object(
    'tables', (SELECT coalesce(json_agg(t.relname), '[]') FROM t),
    'org', (SELECT coalesce(json_object_agg(t.relname, json_build_object(
                'not_null', a.attnotnull, 'type', format_type(a.atttypid, a.atttypmod))), '{}')
            FROM t JOIN pg_catalog.pg_attribute a
              ON a.attrelid = t.oid AND a.attname = 'organization_id' AND NOT a.attisdropped),
    'constraints', (SELECT coalesce(json_agg(json_build_object(
                'table', t.relname, 'name', k.conname, 'type', k.contype,
                'cols', (SELECT json_agg(a.attname ORDER BY u.ord)
                         FROM unnest(k.conkey) WITH ORDINALITY u(n, ord)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n),
                'ref', (SELECT r.relname FROM pg_catalog.pg_class r WHERE r.oid = k.confrelid),
                'ref_cols', (SELECT json_agg(a.attname ORDER BY u.ord)
                             FROM unnest(k.confkey) WITH ORDINALITY u(n, ord)
                             JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n),
                'on_delete', k.confdeltype, 'on_update', k.confupdtype)), '[]')
            FROM t JOIN pg_catalog.pg_constraint k ON k.conrelid = t.oid AND k.conparentid = 0),
    'unique_indexes', (SELECT coalesce(json_agg(json_build_object(
                'table', t.relname, 'name', ic.relname,
                'cols', (SELECT json_agg(a.attname ORDER BY u.ord)
                         FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(n, ord)
                         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n
                         WHERE u.ord <= i.indnkeyatts))), '[]')
            FROM t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid AND i.indisunique
            JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid)
)
"""


def read_classes():
    """{table: class} from the block of SCALING.md; a table named twice
    fails here."""
    with open(os.path.join(ROOT, "SCALING.md"), encoding="utf-8") as f:
        text = f.read()
    assert MARKER in text, "SCALING.md lost the distribution classes block"
    block = re.search(r"```text\n(.*?)```", text[text.index(MARKER):], re.S).group(1)
    classes, current = {}, None
    for line in block.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            current, _, line = line.partition(":")
            assert current in CLASSES, f"unknown class {current!r} in SCALING.md"
        for name in line.split():
            assert name not in classes, f"{name} is classified twice in SCALING.md"
            classes[name] = current
    return classes


def catalog(stack, setup=""):
    """The catalog as the checker reads it, after `setup` ran in the same
    transaction, which is then rolled back."""
    out = stack.psql_admin(f"BEGIN;\n\\o /dev/null\n{setup}\n\\o\n{CATALOG_SQL};\nROLLBACK;\n")
    return json.loads(out.strip().splitlines()[-1])


def violations(cat, classes):
    """Every broken rule, one line each, naming the table (and constraint or
    index)."""
    bad = []
    tables = set(cat["tables"])
    for name in sorted(tables - classes.keys()):
        bad.append(f"{name}: in no class of SCALING.md")
    for name in sorted(classes.keys() - tables):
        bad.append(f"{name}: classified in SCALING.md but no table of schema agora")
    dist = {name for name in tables if classes.get(name) == "distributed"}

    for name in sorted(dist):
        org = cat["org"].get(name)
        if org is None:
            bad.append(f"{name}: distributed without an organization_id column")
        elif not org["not_null"] or org["type"] != "uuid":
            bad.append(f"{name}: organization_id must be uuid NOT NULL (is {org['type']}, "
                       f"{'NOT NULL' if org['not_null'] else 'nullable'})")

    for ix in cat["unique_indexes"]:
        if ix["table"] in dist and "organization_id" not in ix["cols"]:
            bad.append(f"{ix['table']}: unique index {ix['name']} {ix['cols']} lacks organization_id")

    for k in cat["constraints"]:
        src = classes.get(k["table"])
        if k["type"] == "x" and src == "distributed":
            bad.append(f"{k['table']}: exclusion constraint {k['name']} on a distributed table")
        if k["type"] != "f":
            continue  # primary keys and unique constraints are unique indexes, checked above
        dst = classes.get(k["ref"])
        if src is None or dst is None:
            continue  # reported as unclassified above
        if (src, dst) not in ALLOWED_FKS:
            bad.append(f"{k['table']}: foreign key {k['name']} from a {src} table to {dst} table {k['ref']}")
            continue
        if (src, dst) != ("distributed", "distributed"):
            continue
        pairs = list(zip(k["cols"], k["ref_cols"]))
        if ("organization_id", "organization_id") not in pairs:
            bad.append(f"{k['table']}: foreign key {k['name']} {k['cols']} -> {k['ref']} {k['ref_cols']} "
                       "does not match organization_id to organization_id")
        elif any(("organization_id" in p) and p[0] != p[1] for p in pairs):
            bad.append(f"{k['table']}: foreign key {k['name']} pairs organization_id with another column")
        if k["on_delete"] in ("n", "d") or k["on_update"] in ("n", "d"):
            bad.append(f"{k['table']}: foreign key {k['name']} sets its columns (organization_id among them) "
                       "NULL or DEFAULT")
    return bad


# ------------------------------------------------------------------ the schema


def test_the_schema_keeps_every_rule_of_its_classes(stack):
    found = violations(catalog(stack), read_classes())
    assert found == [], "\n".join(found)


# --------------------------------------------------- each rule is able to fail


def check(stack, setup, **extra):
    """The violations with `setup` applied (rolled back) and `extra`
    classifications added to SCALING.md's."""
    return violations(catalog(stack, setup), {**read_classes(), **extra})


def reported(found, table, words):
    return [v for v in found if v.startswith(table + ":") and words in v]


def test_a_table_in_no_class_and_a_class_naming_no_table_are_reported(stack):
    found = check(stack, "CREATE TABLE agora.zz_new (organization_id uuid NOT NULL);", zz_gone="distributed")
    assert reported(found, "zz_new", "in no class"), found
    assert reported(found, "zz_gone", "no table of schema agora"), found
    # Control: classified, the new table is fine.
    found = check(stack, "CREATE TABLE agora.zz_new (organization_id uuid NOT NULL);", zz_new="distributed")
    assert not reported(found, "zz_new", ""), found


def test_a_distributed_table_needs_organization_id_not_null(stack):
    found = check(stack, "CREATE TABLE agora.zz_nullable (organization_id uuid);"
                         "CREATE TABLE agora.zz_without (id integer);"
                         "CREATE TABLE agora.zz_text (organization_id text NOT NULL);",
                  zz_nullable="distributed", zz_without="distributed", zz_text="distributed")
    assert reported(found, "zz_nullable", "nullable"), found
    assert reported(found, "zz_without", "without an organization_id column"), found
    assert reported(found, "zz_text", "must be uuid"), found
    # A reference table may have a nullable one (model_prices does).
    found = check(stack, "CREATE TABLE agora.zz_nullable (organization_id uuid);", zz_nullable="reference")
    assert not reported(found, "zz_nullable", ""), found


def test_keys_and_unique_indexes_of_a_distributed_table_need_organization_id(stack):
    found = check(stack, """
        CREATE TABLE agora.zz_keys (id uuid PRIMARY KEY, organization_id uuid NOT NULL, name text,
                                    code text, CONSTRAINT zz_keys_code_key UNIQUE (code));
        CREATE UNIQUE INDEX zz_keys_expr_idx ON agora.zz_keys (coalesce(organization_id, id), name);
        CREATE UNIQUE INDEX zz_keys_fine_idx ON agora.zz_keys (name, organization_id);
        """, zz_keys="distributed")
    assert reported(found, "zz_keys", "zz_keys_pkey"), found
    assert reported(found, "zz_keys", "zz_keys_code_key"), found
    assert reported(found, "zz_keys", "zz_keys_expr_idx"), found  # an expression is no column
    assert not reported(found, "zz_keys", "zz_keys_fine_idx"), found  # control


def test_foreign_keys_between_distributed_tables_match_organization_id(stack):
    found = check(stack, """
        CREATE TABLE agora.zz_parent (id uuid, organization_id uuid NOT NULL, other uuid NOT NULL,
                                      UNIQUE (id, organization_id), UNIQUE (id, other, organization_id));
        CREATE TABLE agora.zz_child (organization_id uuid NOT NULL, parent_id uuid, other uuid,
            CONSTRAINT zz_fk_good FOREIGN KEY (parent_id, organization_id)
                REFERENCES agora.zz_parent (id, organization_id),
            CONSTRAINT zz_fk_swapped FOREIGN KEY (parent_id, organization_id, other)
                REFERENCES agora.zz_parent (id, other, organization_id),
            CONSTRAINT zz_fk_set_null FOREIGN KEY (parent_id, organization_id)
                REFERENCES agora.zz_parent (id, organization_id) ON DELETE SET NULL);
        """, zz_parent="distributed", zz_child="distributed")
    assert reported(found, "zz_child", "zz_fk_swapped"), found
    assert reported(found, "zz_child", "zz_fk_set_null"), found
    assert not reported(found, "zz_child", "zz_fk_good"), found  # control
    # A key on the id alone (the unique index it needs is reported too).
    found = check(stack, """
        CREATE TABLE agora.zz_parent (id uuid UNIQUE, organization_id uuid NOT NULL);
        CREATE TABLE agora.zz_child (organization_id uuid NOT NULL,
            CONSTRAINT zz_fk_id FOREIGN KEY (organization_id) REFERENCES agora.zz_parent (id));
        """, zz_parent="distributed", zz_child="distributed")
    assert reported(found, "zz_child", "zz_fk_id"), found


def test_foreign_keys_only_go_where_citus_allows(stack):
    found = check(stack, """
        CREATE TABLE agora.zz_ref (id integer PRIMARY KEY, organization_id uuid NOT NULL,
                                   project_id uuid NOT NULL,
            CONSTRAINT zz_ref_to_dist FOREIGN KEY (project_id, organization_id)
                REFERENCES agora.projects (id, organization_id));
        CREATE TABLE agora.zz_local (id integer PRIMARY KEY,
            CONSTRAINT zz_local_to_ref FOREIGN KEY (id) REFERENCES agora.zz_ref (id));
        CREATE TABLE agora.zz_dist (organization_id uuid NOT NULL, id integer,
            CONSTRAINT zz_dist_to_local FOREIGN KEY (id) REFERENCES agora.zz_local (id),
            CONSTRAINT zz_dist_to_ref FOREIGN KEY (id) REFERENCES agora.zz_ref (id));
        """, zz_ref="reference", zz_local="local", zz_dist="distributed")
    assert reported(found, "zz_ref", "zz_ref_to_dist"), found
    assert reported(found, "zz_dist", "zz_dist_to_local"), found
    assert not reported(found, "zz_local", "zz_local_to_ref"), found  # controls
    assert not reported(found, "zz_dist", "zz_dist_to_ref"), found


def test_a_distributed_table_has_no_exclusion_constraint(stack):
    setup = """CREATE TABLE agora.zz_excl (organization_id uuid NOT NULL, span int4range,
                   CONSTRAINT zz_excl_overlap EXCLUDE USING gist (span WITH &&));"""
    assert reported(check(stack, setup, zz_excl="distributed"), "zz_excl", "zz_excl_overlap")
    assert not reported(check(stack, setup, zz_excl="reference"), "zz_excl", "")  # control


def test_partitions_are_checked_through_their_parent(stack):
    found = check(stack, """
        CREATE TABLE agora.zz_parted (organization_id uuid NOT NULL, id bigint, at date NOT NULL,
                                      PRIMARY KEY (organization_id, id, at)) PARTITION BY RANGE (at);
        CREATE TABLE agora.zz_parted_1 PARTITION OF agora.zz_parted FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
        CREATE UNIQUE INDEX zz_parted_id_idx ON agora.zz_parted (id, at);
        """, zz_parted="distributed")
    assert not reported(found, "zz_parted_1", ""), found  # the partition needs no class of its own
    assert reported(found, "zz_parted", "zz_parted_id_idx"), found
    assert not reported(found, "zz_parted", "zz_parted_pkey"), found
