"""The workflow routes end to end (POST /api/workflows, GET /api/workflows,
GET /api/workflows/{id}): HTTPS through nginx, FastCGI workers, PostgreSQL
with row-level security. Creating a graph and reading it back, validation
with exact paths, who may create and read (roles, other organizations, API
keys), name conflicts, and keyset paging. Each test acts as fresh users in a
fresh organization, so tests do not depend on one another."""
import uuid

import pytest


def err(resp):
    body = resp.json()
    assert body is not None, resp.body
    return body["error"]


class Tenant:
    """An owner with a fresh organization and project."""

    def __init__(self, stack, project_name="web"):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        r = stack.request("POST", "/api/organizations", token=self.tok, body={"name": "Org"})
        assert r.status == 201, r.body
        self.org = r.json()["id"]
        self.project = self.new_project(project_name)

    def new_project(self, name):
        r = self.stack.request("POST", "/api/projects", token=self.tok,
                               body={"organization_id": self.org, "name": name})
        assert r.status == 201, r.body
        return r.json()["id"]

    def add(self, role):
        """A new user with role in the organization; returns their token."""
        user = self.stack.new_user()
        r = self.stack.request("POST", f"/api/organizations/{self.org}/members", token=self.tok,
                               body={"user_id": user, "role": role})
        assert r.status == 201, r.body
        return self.stack.token(user)

    def key(self, project=None):
        r = self.stack.request("POST", f"/api/projects/{project or self.project}/api-keys", token=self.tok)
        assert r.status == 201, r.body
        return r.json()["key"]

    def create(self, name, token=None, project=None, **fields):
        body = {"project_id": project or self.project, "name": name, **fields}
        return self.stack.request("POST", "/api/workflows", token=token or self.tok, body=body)


@pytest.fixture
def tenant(stack):
    return Tenant(stack)


GRAPH = {
    "description": "Load, process, save.\nWith a retry loop.",
    "nodes": [
        {"name": "load", "type": "LoadNode"},
        {"name": "process/ü", "type": "AuditedNode"},
        {"name": "save"},
        {"name": "validate", "type": None},
    ],
    "edges": [
        {"from": "load", "to": "process/ü"},
        {"from": "process/ü", "to": "validate", "action": "default"},
        {"from": "validate", "to": "process/ü", "action": "retry"},
        {"from": "validate", "to": "save", "action": "ok"},
    ],
}


def test_create_with_nodes_and_edges_answers_201_and_get_returns_the_same_graph(stack, tenant):
    r = tenant.create("pipeline", **GRAPH)
    assert r.status == 201, r.body
    wf = r.json()
    assert uuid.UUID(wf["id"])
    assert wf["organization_id"] == tenant.org and wf["project_id"] == tenant.project
    assert wf["name"] == "pipeline" and wf["description"] == GRAPH["description"]
    assert wf["created_at"].endswith("Z")

    # Nodes made together come back by name, each with its id.
    assert [(n["name"], n["type"]) for n in wf["nodes"]] == [
        ("load", "LoadNode"), ("process/ü", "AuditedNode"), ("save", None), ("validate", None)]
    ids = {n["name"]: n["id"] for n in wf["nodes"]}
    assert all(uuid.UUID(i) for i in ids.values()) and len(set(ids.values())) == 4

    # Edges name their ends and carry their ids.
    got = sorted((e["from"], e["to"], e["action"]) for e in wf["edges"])
    want = sorted((e["from"], e["to"], e.get("action")) for e in GRAPH["edges"])
    assert got == want
    for e in wf["edges"]:
        assert uuid.UUID(e["id"])
        assert e["from_node_id"] == ids[e["from"]] and e["to_node_id"] == ids[e["to"]]

    r = stack.request("GET", f"/api/workflows/{wf['id']}", token=tenant.tok)
    assert r.status == 200, r.body
    assert r.json() == wf
    # Upper-case ids name the same workflow.
    r = stack.request("GET", f"/api/workflows/{wf['id'].upper()}", token=tenant.tok)
    assert r.status == 200 and r.json()["id"] == wf["id"]


def test_nodes_edges_and_description_are_optional(stack, tenant):
    r = tenant.create("bare")
    assert r.status == 201, r.body
    wf = r.json()
    assert wf["description"] is None and wf["nodes"] == [] and wf["edges"] == []
    r = tenant.create("empty lists", nodes=[], edges=[], description="")
    assert r.status == 201, r.body
    assert r.json()["nodes"] == [] and r.json()["description"] == ""


def test_the_largest_graph_allowed_goes_in_whole(stack, tenant):
    nodes = [{"name": f"n{i}", "type": "T"} for i in range(1000)]
    edges = [{"from": f"n{i % 1000}", "to": f"n{(i * 7) % 1000}", "action": f"a{i}"} for i in range(10000)]
    r = tenant.create("big", nodes=nodes, edges=edges, description="d" * 10000)
    assert r.status == 201, r.body
    wf = r.json()
    assert len(wf["nodes"]) == 1000 and len(wf["edges"]) == 10000
    r = stack.request("GET", "/api/workflows?project_id=" + tenant.project, token=tenant.tok)
    assert [(w["name"], w["node_count"]) for w in r.json()["items"]] == [("big", 1000)]


NODES = [{"name": "a"}, {"name": "b"}]


def long(n):
    return "x" * n


BAD_BODIES = [
    # (what to change in a good body, the expected path)
    ({"project_id": None}, "project_id"),
    ({"project_id": "not-a-uuid"}, "project_id"),
    ({"project_id": 7}, "project_id"),
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": long(201)}, "name"),
    ({"name": 5}, "name"),
    ({"name": "tab\there"}, "name"),
    ({"description": long(10001)}, "description"),
    ({"description": ["x"]}, "description"),
    ({"description": "nul\u0000"}, "description"),
    ({"nmae": "typo"}, "nmae"),
    ({"nodes": {"name": "a"}}, "nodes"),
    ({"nodes": ["a"]}, "nodes[0]"),
    ({"nodes": [{"name": "a"}, {"type": "T"}]}, "nodes[1].name"),
    ({"nodes": [{"name": "a"}, {"name": ""}]}, "nodes[1].name"),
    ({"nodes": [{"name": "a"}, {"name": long(201)}]}, "nodes[1].name"),
    ({"nodes": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}, "nodes[2].name"),
    ({"nodes": [{"name": "a\u0000"}]}, "nodes[0].name"),
    ({"nodes": [{"name": "a"}, {"name": "b", "type": long(201)}]}, "nodes[1].type"),
    ({"nodes": [{"name": "a", "type": 3}]}, "nodes[0].type"),
    ({"nodes": [{"name": "a", "params": {}}]}, "nodes[0].params"),
    ({"nodes": [{"name": f"n{i}"} for i in range(1001)]}, "nodes"),
    ({"edges": {"from": "a", "to": "b"}}, "edges"),
    ({"edges": [7]}, "edges[0]"),
    ({"edges": [{"from": "a", "to": "b"}, {"to": "b"}]}, "edges[1].from"),
    ({"edges": [{"from": "a", "to": "zz"}]}, "edges[0].to"),
    ({"edges": [{"from": "a", "to": "b"}, {"from": "A", "to": "b"}]}, "edges[1].from"),
    ({"edges": [{"from": "a", "to": "b", "action": 1}]}, "edges[0].action"),
    ({"edges": [{"from": "a", "to": "b", "action": long(201)}]}, "edges[0].action"),
    ({"edges": [{"from": "a", "to": "b", "actoin": "x"}]}, "edges[0].actoin"),
    ({"edges": [{"from": "a", "to": "a"}] * 10001}, "edges"),
    ({"nodes": None, "edges": [{"from": "a", "to": "b"}]}, "edges[0].from"),
]


@pytest.mark.parametrize("change,path", BAD_BODIES, ids=[p for _, p in BAD_BODIES])
def test_a_bad_body_answers_422_with_the_path_and_writes_nothing(stack, tenant, change, path):
    body = {"project_id": tenant.project, "name": "wf", "nodes": NODES, "edges": []}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None or k not in ("project_id", "name", "nodes")}
    r = stack.request("POST", "/api/workflows", token=tenant.tok, body=body)
    assert r.status == 422, r.body
    assert err(r)["code"] == "validation_failed"
    assert err(r)["path"] == path
    r = stack.request("GET", "/api/workflows?project_id=" + tenant.project, token=tenant.tok)
    assert r.json()["items"] == []


def test_a_body_that_is_not_json_or_not_an_object_is_refused(stack, tenant):
    r = stack.request("POST", "/api/workflows", token=tenant.tok, body="{",
                      headers={"Content-Type": "application/json"})
    assert (r.status, err(r)["code"]) == (400, "bad_json")
    r = stack.request("POST", "/api/workflows", token=tenant.tok, body=[1])
    assert (r.status, err(r)["code"]) == (422, "validation_failed")


def test_members_create_and_viewers_read_but_get_403_on_create(stack, tenant):
    member, viewer = tenant.add("member"), tenant.add("viewer")
    r = tenant.create("by member", token=member, nodes=NODES)
    assert r.status == 201, r.body
    wf = r.json()

    r = tenant.create("by viewer", token=viewer)
    assert (r.status, err(r)["code"]) == (403, "forbidden")
    r = stack.request("GET", f"/api/workflows/{wf['id']}", token=viewer)
    assert r.status == 200 and r.json() == wf
    r = stack.request("GET", "/api/workflows", token=viewer)
    assert [w["name"] for w in r.json()["items"]] == ["by member"]


def test_another_organization_sees_nothing_and_gets_404(stack, tenant):
    r = tenant.create("secret", **GRAPH)
    assert r.status == 201, r.body
    wf = r.json()
    other = Tenant(stack)
    r = other.create("mine", nodes=NODES)
    assert r.status == 201

    r = tenant.create("planted", token=other.tok)  # other's owner, our project
    assert (r.status, err(r)["code"]) == (404, "not_found")
    r = stack.request("GET", f"/api/workflows/{wf['id']}", token=other.tok)
    assert (r.status, err(r)["code"]) == (404, "not_found")
    r = stack.request("GET", "/api/workflows", token=other.tok)
    assert [w["name"] for w in r.json()["items"]] == ["mine"]
    r = stack.request("GET", "/api/workflows?project_id=" + tenant.project, token=other.tok)
    assert r.status == 200 and r.json() == {"items": [], "next_cursor": None}

    # A signed-in user of no organization at all sees nothing either.
    loner = stack.token(stack.new_user())
    r = stack.request("GET", "/api/workflows", token=loner)
    assert r.json()["items"] == []
    assert tenant.create("x", token=loner).status == 404


def test_an_api_key_creates_and_reads_its_own_project_only(stack, tenant):
    sibling = tenant.new_project("sibling")
    key = tenant.key()
    r = tenant.create("from owner", project=sibling)
    assert r.status == 201
    hidden = r.json()

    r = tenant.create("from key", token=key, **GRAPH)
    assert r.status == 201, r.body
    wf = r.json()
    assert wf["project_id"] == tenant.project and len(wf["nodes"]) == 4

    r = stack.request("GET", "/api/workflows", token=key)
    assert r.status == 200
    assert [w["id"] for w in r.json()["items"]] == [wf["id"]]
    assert r.json()["items"][0]["node_count"] == 4
    r = stack.request("GET", f"/api/workflows/{wf['id']}", token=key)
    assert r.status == 200 and r.json() == wf

    # The other project of the same organization is out of its reach.
    r = tenant.create("planted", token=key, project=sibling)
    assert (r.status, err(r)["code"]) == (404, "not_found")
    r = stack.request("GET", f"/api/workflows/{hidden['id']}", token=key)
    assert r.status == 404
    r = stack.request("GET", "/api/workflows?project_id=" + sibling, token=key)
    assert r.json()["items"] == []

    # And so is another organization's project.
    other = Tenant(stack)
    other_key = other.key()
    r = tenant.create("planted", token=other_key)
    assert (r.status, err(r)["code"]) == (404, "not_found")
    r = stack.request("GET", f"/api/workflows/{wf['id']}", token=other_key)
    assert r.status == 404
    r = stack.request("GET", "/api/workflows", token=other_key)
    assert r.json()["items"] == []


def test_a_duplicate_name_in_a_project_conflicts(stack, tenant):
    assert tenant.create("etl", nodes=NODES).status == 201
    r = tenant.create("etl")
    assert (r.status, err(r)["code"]) == (409, "conflict")
    # The same name in another project is another workflow.
    assert tenant.create("etl", project=tenant.new_project("other")).status == 201
    r = stack.request("GET", "/api/workflows?project_id=" + tenant.project, token=tenant.tok)
    assert [w["name"] for w in r.json()["items"]] == ["etl"]


def test_unknown_or_malformed_ids_answer_404(stack, tenant):
    r = stack.request("GET", f"/api/workflows/{uuid.uuid4()}", token=tenant.tok)
    assert (r.status, err(r)["code"]) == (404, "not_found")
    r = stack.request("GET", "/api/workflows/not-a-uuid", token=tenant.tok)
    assert r.status == 404


def test_the_list_pages_newest_first_without_duplicates_or_gaps(stack, tenant):
    made = []
    for i in range(5):
        r = tenant.create(f"wf{i}")
        assert r.status == 201, r.body
        made.append(r.json()["id"])
    # Another project's workflow must not appear in the filtered pages.
    assert tenant.create("elsewhere", project=tenant.new_project("p2")).status == 201

    seen, pages, cursor = [], [], None
    while True:
        path = f"/api/workflows?project_id={tenant.project}&limit=2"
        if cursor:
            path += "&cursor=" + cursor
        r = stack.request("GET", path, token=tenant.tok)
        assert r.status == 200, r.body
        page = r.json()
        pages.append(len(page["items"]))
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10
    assert pages == [2, 2, 1]
    assert seen == list(reversed(made))

    r = stack.request("GET", "/api/workflows", token=tenant.tok)
    items = r.json()["items"]
    assert [w["name"] for w in items][:1] == ["elsewhere"] and len(items) == 6
    assert set(items[0]) == {"id", "organization_id", "project_id", "name", "description",
                             "created_at", "node_count"}
    stamps = [(w["created_at"], w["id"]) for w in items]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("query,path", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
    ("limit=", "limit"), ("limit=1.5", "limit"), ("cursor=garbage", "cursor"), ("cursor=", "cursor"),
    ("project_id=nope", "project_id"), ("projectid=" + str(uuid.uuid4()), "projectid"),
])
def test_bad_list_parameters_answer_422_naming_them(stack, tenant, query, path):
    r = stack.request("GET", "/api/workflows?" + query, token=tenant.tok)
    assert r.status == 422, r.body
    assert (err(r)["code"], err(r)["path"]) == ("validation_failed", path)


def test_limit_bounds_are_accepted(stack, tenant):
    for q in ("limit=1", "limit=200"):
        r = stack.request("GET", "/api/workflows?" + q, token=tenant.tok)
        assert r.status == 200 and r.json() == {"items": [], "next_cursor": None}
