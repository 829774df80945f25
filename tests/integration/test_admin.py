"""agora-admin against the real cluster: migrations are recorded and
idempotent, tenancy commands go through row-level security, the demo is
created once."""
import json


def test_migrate_twice_changes_nothing(stack):
    before = stack.psql_admin("SELECT version, checksum FROM agora_meta.schema_migrations ORDER BY version")
    assert before.strip(), "no migration recorded"
    r = stack.admin("migrate", "--dir", stack.root + "/sql")
    assert r.returncode == 0, r.stderr
    assert "0 migration(s) applied" in r.stderr
    after = stack.psql_admin("SELECT version, checksum FROM agora_meta.schema_migrations ORDER BY version")
    assert after == before


def test_an_edited_applied_migration_stops_the_run(stack, tmp_path):
    import shutil
    d = tmp_path / "sql"
    shutil.copytree(stack.root + "/sql", d)
    first = sorted(d.iterdir())[0]
    first.write_text(first.read_text() + "\n-- edited after it was applied\n")
    r = stack.admin("migrate", "--dir", str(d))
    assert r.returncode != 0
    assert first.name in r.stderr


def test_admin_creates_org_project_and_key_that_work_through_the_api(stack):
    user = stack.new_user()
    r = stack.admin("create-org", "--name", "From the shell", "--owner", user)
    assert r.returncode == 0, r.stderr
    org = json.loads(r.stdout)
    r = stack.admin("create-project", "--org", org["id"], "--name", "cli", "--as", user)
    assert r.returncode == 0, r.stderr
    proj = json.loads(r.stdout)
    r = stack.admin("create-api-key", "--project", proj["id"], "--as", user)
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["key"]
    resp = stack.request("GET", "/api/projects", token=key)
    assert resp.status == 200 and [p["id"] for p in resp.json()["items"]] == [proj["id"]]
    # Acting as someone who is not a member is refused by RLS, not by luck.
    r = stack.admin("create-project", "--org", org["id"], "--name", "x", "--as", stack.new_user())
    assert r.returncode != 0


def test_admin_names_follow_the_apis_rule(stack):
    """A name with a bidi override, a zero-width space or a C1 control is
    refused before anything is written, as the API refuses it."""
    user = stack.new_user()
    org = json.loads(stack.admin("create-org", "--name", "Mine", "--owner", user, check=True).stdout)
    for name in ("\u202egnp.exe", "run\u200b1", "a\u0085b", ""):
        for args in (("create-org", "--name", name, "--owner", user),
                     ("create-project", "--org", org["id"], "--name", name, "--as", user),
                     ("create-api-key", "--project", org["id"], "--as", user, "--name", name)):
            r = stack.admin(*args)
            assert r.returncode == 2, (args, r.stdout, r.stderr)
            assert "--name must not" in r.stderr, r.stderr
    assert stack.psql_admin(
        f"SELECT count(*) FROM agora.organizations WHERE created_by = '{user}'").strip() == "1"


def test_demo_is_idempotent(stack):
    user = stack.new_user()
    first = stack.admin("demo", "--user", user)
    second = stack.admin("demo", "--user", user)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a == b
    nodes = stack.psql_admin(
        f"SELECT count(*) FROM agora.workflow_nodes WHERE workflow_id = '{a['workflow_id']}'").strip()
    assert nodes == "4"


def test_token_command_refuses_a_bad_user(stack):
    r = stack.admin("token", "--user", "nobody")
    assert r.returncode != 0
