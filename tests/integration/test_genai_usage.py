"""GenAI token usage and cost end to end (README "Tokens and cost"): node
executions report tokens, model and provider; the ingest prices each one
when it is stored (the organization's price valid at its start, else the
default of sql/009) and keeps the execution's sums, which the read routes
show as `usage`; organization admins set their own prices through
/api/organizations/{id}/model-prices.

Costs are compared as decimals (json parsed with parse_float=Decimal), so
"exact" means exact. Every test ends by checking, as the superuser, that
each execution's sums equal the sums of its node executions."""
import json
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal

import pytest

INGEST = "/api/executions/ingest"

# sql/009's defaults used below, US dollars per million tokens.
GPT_4O = (Decimal("2.50"), Decimal("10.00"))
GPT_4O_MINI = (Decimal("0.15"), Decimal("0.60"))
SONNET = (Decimal("3.00"), Decimal("15.00"))


def cost(tokens_in, tokens_out, price):
    return (tokens_in * price[0] + tokens_out * price[1]) / Decimal(1_000_000)


def body_of(resp):
    """The answer's JSON with numbers as Decimal (so costs stay exact)."""
    return json.loads(resp.body.decode("utf-8"), parse_float=Decimal)


class Org:
    """An owner with a fresh organization, project and workflow."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        self.org = self.must("POST", "/api/organizations", {"name": "Usage org"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.org, "name": "llm"})["id"]
        self.workflow = self.must("POST", "/api/workflows", {"project_id": self.project, "name": "chat"})["id"]

    def must(self, method, path, body=None, token=None):
        r = self.stack.request(method, path, token=token or self.tok, body=body)
        assert r.status in (200, 201, 204), f"{method} {path}: {r.status} {r.body[:300]!r}"
        return body_of(r) if r.body else None

    def member(self, role):
        user = self.stack.new_user()
        self.must("POST", f"/api/organizations/{self.org}/members", {"user_id": user, "role": role})
        return self.stack.token(user)

    def key(self):
        return self.must("POST", f"/api/projects/{self.project}/api-keys")["key"]

    def ingest(self, nodes, execution_id=None, status="success", started_at="2025-06-01T12:00:00Z", token=None):
        body = {"workflow_id": self.workflow, "session_id": "s-" + uuid.uuid4().hex[:8], "status": status,
                "started_at": started_at, "node_executions": nodes}
        if execution_id:
            body["execution_id"] = execution_id
        r = self.stack.request("POST", INGEST, token=token or self.tok, body=body)
        assert r.status in (200, 201), r.body
        return r.json()["execution_id"]

    def execution(self, ex):
        return self.must("GET", f"/api/executions/{ex}")

    def timeline(self, ex):
        return self.must("GET", f"/api/executions/{ex}/timeline")

    def prices_path(self, model=None):
        path = f"/api/organizations/{self.org}/model-prices"
        return path if model is None else f"{path}/{urllib.parse.quote(model, safe='')}"

    def set_price(self, model, price_in, price_out, token=None, **extra):
        return self.stack.request("PUT", self.prices_path(model), token=token or self.tok,
                                  body={"input_usd_per_mtok": price_in, "output_usd_per_mtok": price_out, **extra})

    def node_costs(self, ex):
        """{node_name: cost_usd} from the timeline."""
        return {n["node_name"]: n["cost_usd"] for n in self.timeline(ex)["node_executions"]}


def node(name, model=None, tokens_in=None, tokens_out=None, started_at="2025-06-01T12:00:01Z", **more):
    n = {"node_name": name, "status": "success", "started_at": started_at, **more}
    if model is not None:
        n["model"] = model
    if tokens_in is not None:
        n["input_tokens"] = tokens_in
    if tokens_out is not None:
        n["output_tokens"] = tokens_out
    return n


@pytest.fixture
def org(stack):
    o = Org(stack)
    yield o
    # Every execution's sums are those of its node executions.
    out = stack.psql_admin(
        "SELECT e.id, e.input_tokens, e.output_tokens, e.cost_usd, e.unpriced_count,"
        " COALESCE(sum(n.input_tokens), 0), COALESCE(sum(n.output_tokens), 0), COALESCE(sum(n.cost_usd), 0),"
        " count(n.id) FILTER (WHERE n.cost_usd IS NULL AND (n.input_tokens IS NOT NULL"
        "  OR n.output_tokens IS NOT NULL))"
        " FROM agora.executions e LEFT JOIN agora.node_executions n ON n.execution_id = e.id"
        f" WHERE e.organization_id = '{o.org}' GROUP BY e.organization_id, e.id")
    for line in out.split():
        f = line.split("|")
        assert (int(f[1]), int(f[2]), Decimal(f[3]), int(f[4])) == \
            (int(f[5]), int(f[6]), Decimal(f[7]), int(f[8])), line


# ------------------------------------------------------------------ sums and reads

def test_usage_is_summed_across_appends_and_updates_by_id_without_double_counting(org):
    a, ex = str(uuid.uuid4()), str(uuid.uuid4())
    org.ingest([node("plan", "gpt-4o", 1000, 100, id=a, status="running"),
                node("draft", "gpt-4o-mini", 2000, 500, provider="openai")], execution_id=ex, status="running")
    first = org.execution(ex)["usage"]
    assert first == {"input_tokens": 3000, "output_tokens": 600,
                     "cost_usd": cost(1000, 100, GPT_4O) + cost(2000, 500, GPT_4O_MINI), "cost_complete": True}

    # plan ends: more output tokens, its input left out (kept); a new node.
    org.ingest([{"id": a, "node_name": "plan", "status": "success", "output_tokens": 400},
                node("review", "claude-3-5-sonnet-20241022", 100, 50, provider="anthropic")],
               execution_id=ex, status="running")
    # plan sent again unchanged (a retry): accepted, adds nothing.
    org.ingest([{"id": a, "node_name": "plan", "status": "success", "output_tokens": 400}],
               execution_id=ex, status="success")
    want_cost = cost(1000, 400, GPT_4O) + cost(2000, 500, GPT_4O_MINI) + cost(100, 50, SONNET)
    want = {"input_tokens": 3100, "output_tokens": 950, "cost_usd": want_cost, "cost_complete": True}
    assert org.execution(ex)["usage"] == want
    listed = org.must("GET", f"/api/executions?workflow_id={org.workflow}")["items"]
    assert [e["usage"] for e in listed if e["id"] == ex] == [want]
    tl = org.timeline(ex)
    assert tl["execution"]["usage"] == want
    nodes = {n["node_name"]: n for n in tl["node_executions"]}
    assert {k: nodes["plan"][k] for k in ("input_tokens", "output_tokens", "model", "provider", "cost_usd")} == \
        {"input_tokens": 1000, "output_tokens": 400, "model": "gpt-4o", "provider": None,
         "cost_usd": cost(1000, 400, GPT_4O)}
    assert nodes["review"]["provider"] == "anthropic" and nodes["review"]["cost_usd"] == cost(100, 50, SONNET)
    assert nodes["draft"]["cache_read_tokens"] is None


def test_cache_tokens_are_stored_and_counted_in_input(org):
    ex = org.ingest([node("ask", "gpt-4o", 5000, 200, cache_read_tokens=4000, cache_creation_tokens=0)])
    n = org.timeline(ex)["node_executions"][0]
    assert (n["cache_read_tokens"], n["cache_creation_tokens"]) == (4000, 0)
    # The table has no cache rates: cache reads are input tokens at the input price.
    assert n["cost_usd"] == cost(5000, 200, GPT_4O)


def test_an_execution_without_usage_shows_zeros_and_complete(org):
    ex = org.ingest([node("plain")])
    assert org.execution(ex)["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0,
                                          "cost_complete": True}
    n = org.timeline(ex)["node_executions"][0]
    assert [n[k] for k in ("input_tokens", "output_tokens", "model", "provider", "cost_usd")] == [None] * 5


# ------------------------------------------------------------------ prices

def test_cost_uses_the_org_price_valid_at_the_node_start_else_the_default(org):
    assert org.set_price("gpt-4o", 5, 20, valid_from="2025-06-01T00:00:00Z").status == 200
    assert org.set_price("gpt-4o", 1, 2, valid_from="2025-08-01T00:00:00Z").status == 200
    runs = {
        "before the override": ("2025-05-01T00:00:00Z", GPT_4O),
        "in the first period": ("2025-07-15T00:00:00Z", (Decimal(5), Decimal(20))),
        "in the second period": ("2025-09-01T00:00:00Z", (Decimal(1), Decimal(2))),
        "at the second's start": ("2025-08-01T00:00:00Z", (Decimal(1), Decimal(2))),
    }
    nodes = [node(label, "gpt-4o", 1_000_000, 100_000, started_at=at) for label, (at, _) in runs.items()]
    ex = org.ingest(nodes)
    got = org.node_costs(ex)
    assert got == {label: cost(1_000_000, 100_000, price) for label, (_, price) in runs.items()}
    assert org.execution(ex)["usage"]["cost_usd"] == sum(got.values())

    # An API key's ingest sees its organization's prices too.
    ex = org.ingest([node("key", "gpt-4o", 1_000_000, 0, started_at="2025-09-01T00:00:00Z")], token=org.key())
    assert org.node_costs(ex) == {"key": Decimal(1)}


def test_a_node_without_started_at_is_priced_at_the_execution_start(org):
    org.set_price("gpt-4o", 7, 7, valid_from="2025-06-01T00:00:00Z")
    early = org.ingest([node("n", "gpt-4o", 1_000_000, 0, started_at=None)], started_at="2025-05-01T00:00:00Z")
    late = org.ingest([node("n", "gpt-4o", 1_000_000, 0, started_at=None)], started_at="2025-07-01T00:00:00Z")
    assert org.node_costs(early) == {"n": Decimal("2.5")}
    assert org.node_costs(late) == {"n": Decimal(7)}


def test_a_price_change_later_does_not_rewrite_stored_costs(org):
    ex = org.ingest([node("n", "gpt-4o", 1_000_000, 0, started_at="2025-09-01T00:00:00Z")])
    assert org.node_costs(ex) == {"n": Decimal("2.5")}
    org.set_price("gpt-4o", 100, 100, valid_from="2025-01-01T00:00:00Z")
    assert org.node_costs(ex) == {"n": Decimal("2.5")}
    assert org.execution(ex)["usage"]["cost_usd"] == Decimal("2.5")
    # A new run is priced with it; forgetting the override goes back to the default.
    assert org.node_costs(org.ingest([node("n", "gpt-4o", 1_000_000, 0)])) == {"n": Decimal(100)}
    assert org.stack.request("DELETE", org.prices_path("gpt-4o"), token=org.tok).status == 204
    assert org.node_costs(org.ingest([node("n", "gpt-4o", 1_000_000, 0)])) == {"n": Decimal("2.5")}
    assert org.node_costs(ex) == {"n": Decimal("2.5")}


def test_an_update_that_changes_no_usage_keeps_the_cost_and_one_that_does_reprices(org):
    a, ex = str(uuid.uuid4()), str(uuid.uuid4())
    org.ingest([node("n", "gpt-4o", 1_000_000, 0, id=a, status="running")], execution_id=ex, status="running")
    org.set_price("gpt-4o", 4, 4, valid_from="2025-01-01T00:00:00Z")
    org.ingest([{"id": a, "node_name": "n", "status": "running", "exec_duration_ms": 5}], execution_id=ex,
               status="running")
    assert org.node_costs(ex) == {"n": Decimal("2.5")}
    org.ingest([{"id": a, "node_name": "n", "status": "success", "input_tokens": 2_000_000}], execution_id=ex,
               status="success")
    assert org.node_costs(ex) == {"n": Decimal(8)}
    assert org.execution(ex)["usage"] == {"input_tokens": 2_000_000, "output_tokens": 0, "cost_usd": Decimal(8),
                                          "cost_complete": True}


def test_unknown_model_or_no_price_then_is_a_null_cost_and_an_incomplete_total(org):
    a, ex = str(uuid.uuid4()), str(uuid.uuid4())
    org.ingest([node("local", "my-local-llama", 500, 50, id=a, status="running"),
                node("known", "gpt-4o", 1_000_000, 0),
                node("old", "gpt-4o", 10, 10, started_at="2024-06-01T00:00:00Z"),
                node("untold", None, 10, 10),
                node("no tokens", "my-local-llama")], execution_id=ex, status="running")
    costs = org.node_costs(ex)
    assert costs == {"local": None, "known": Decimal("2.5"), "old": None, "untold": None, "no tokens": None}
    assert org.execution(ex)["usage"] == {"input_tokens": 1_000_520, "output_tokens": 70,
                                          "cost_usd": Decimal("2.5"), "cost_complete": False}
    # The local node turns out to be a priced model: it counts from then on.
    org.ingest([{"id": a, "node_name": "local", "status": "success", "model": "gpt-4o-mini"}],
               execution_id=ex, status="running")
    assert org.node_costs(ex)["local"] == cost(500, 50, GPT_4O_MINI)
    usage = org.execution(ex)["usage"]
    assert usage["cost_usd"] == Decimal("2.5") + cost(500, 50, GPT_4O_MINI) and not usage["cost_complete"]


def test_a_provider_must_match_when_the_price_and_the_node_both_name_one(org):
    ex = org.ingest([node("same", "gpt-4o", 1_000_000, 0, provider="openai"),
                     node("other", "gpt-4o", 1_000_000, 0, provider="azure"),
                     node("unsaid", "gpt-4o", 1_000_000, 0)])
    assert org.node_costs(ex) == {"same": Decimal("2.5"), "other": None, "unsaid": Decimal("2.5")}
    # An organization's price for azure applies to azure; openai keeps the default.
    org.set_price("gpt-4o", 3, 3, provider="azure", valid_from="2025-01-01T00:00:00Z")
    ex = org.ingest([node("same", "gpt-4o", 1_000_000, 0, provider="openai"),
                     node("other", "gpt-4o", 1_000_000, 0, provider="azure")])
    assert org.node_costs(ex) == {"same": Decimal("2.5"), "other": Decimal(3)}


def test_a_model_name_with_a_slash_is_set_through_its_escaped_path(org):
    r = org.set_price("openrouter/some-model", "0.5", 1, valid_from="2025-01-01T00:00:00Z")
    assert r.status == 422 and r.json()["error"]["path"] == "input_usd_per_mtok"  # a string is no price
    r = org.set_price("openrouter/some-model", 0.5, 1, valid_from="2025-01-01T00:00:00Z")
    assert r.status == 200, r.body
    assert body_of(r) == {"model": "openrouter/some-model", "provider": None, "input_usd_per_mtok": Decimal("0.5"),
                          "output_usd_per_mtok": 1, "valid_from": "2025-01-01T00:00:00.000000Z", "valid_to": None,
                          "source": "organization"}
    ex = org.ingest([node("n", "openrouter/some-model", 2_000_000, 1_000_000)])
    assert org.node_costs(ex) == {"n": Decimal(2)}


# ------------------------------------------------------------------ the price routes

def test_the_table_in_effect_puts_the_org_price_over_the_default(org):
    path = org.prices_path()
    items = {p["model"]: p for p in org.must("GET", path)["items"]}
    assert items["gpt-4o"] == {"model": "gpt-4o", "provider": "openai", "input_usd_per_mtok": Decimal("2.5"),
                               "output_usd_per_mtok": 10, "valid_from": "2025-01-15T00:00:00.000000Z",
                               "valid_to": None, "source": "default"}
    assert {"gpt-4o-mini", "claude-3-5-sonnet-20241022", "claude-3-5-haiku", "gemini-1.5-pro"} <= set(items)
    assert org.set_price("gpt-4o", 2, 8, valid_from="2025-06-01T00:00:00Z").status == 200
    now = {p["model"]: p for p in org.must("GET", path)["items"]}
    assert (now["gpt-4o"]["source"], now["gpt-4o"]["input_usd_per_mtok"]) == ("organization", 2)
    assert now["gpt-4o-mini"]["source"] == "default"
    then = {p["model"]: p for p in org.must("GET", path + "?at=2025-05-01T00:00:00Z")["items"]}
    assert then["gpt-4o"]["source"] == "default"
    # A new period closes the open one where it starts.
    assert org.set_price("gpt-4o", 3, 9, valid_from="2025-07-01T00:00:00Z").status == 200
    june = {p["model"]: p for p in org.must("GET", path + "?at=2025-06-15T00:00:00Z")["items"]}
    assert june["gpt-4o"]["valid_to"] == "2025-07-01T00:00:00.000000Z"
    # Before the defaults' date nothing is in effect.
    assert org.must("GET", path + "?at=2024-01-01T00:00:00Z")["items"] == []
    # Deleting the override (twice: still 204) brings the default back.
    for _ in range(2):
        assert org.stack.request("DELETE", org.prices_path("gpt-4o"), token=org.tok).status == 204
    back = {p["model"]: p for p in org.must("GET", path)["items"]}
    assert back["gpt-4o"]["source"] == "default"


def test_a_price_without_valid_from_starts_now(org):
    r = org.set_price("my-model", 1, 2)
    assert r.status == 200, r.body
    item = {p["model"]: p for p in org.must("GET", org.prices_path())["items"]}["my-model"]
    assert item["valid_to"] is None and item["source"] == "organization"


def test_only_owners_and_admins_edit_prices_and_other_orgs_see_nothing(stack, org):
    admin, member, viewer = org.member("admin"), org.member("member"), org.member("viewer")
    assert org.set_price("m1", 1, 1, token=admin).status == 200
    for tok in (member, viewer):
        r = org.set_price("m2", 1, 1, token=tok)
        assert r.status == 403 and r.json()["error"]["code"] == "forbidden"
        assert stack.request("DELETE", org.prices_path("m1"), token=tok).status == 403
        # Any member reads the table.
        assert "m1" in {p["model"] for p in org.must("GET", org.prices_path(), token=tok)["items"]}
    outsider = Org(stack)
    for method, path, body in (("GET", org.prices_path(), None),
                               ("PUT", org.prices_path("m1"), {"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}),
                               ("DELETE", org.prices_path("m1"), None)):
        r = stack.request(method, path, token=outsider.tok, body=body)
        assert r.status == 404 and r.json()["error"]["code"] == "not_found", (method, r)
    key = org.key()
    assert stack.request("GET", org.prices_path(), token=key).status == 403
    assert org.set_price("m1", 1, 1, token=key).status == 403
    # The outsider's organization still prices with the defaults only.
    ex = outsider.ingest([node("n", "m1", 1_000_000, 0)])
    assert outsider.node_costs(ex) == {"n": None}


@pytest.mark.parametrize("body,path", [
    ({"input_usd_per_mtok": -1, "output_usd_per_mtok": 1}, "input_usd_per_mtok"),
    ({"input_usd_per_mtok": 1, "output_usd_per_mtok": "2"}, "output_usd_per_mtok"),
    ({"input_usd_per_mtok": 1, "output_usd_per_mtok": 1e7}, "output_usd_per_mtok"),
    ({"input_usd_per_mtok": 0.0000000001, "output_usd_per_mtok": 1}, "input_usd_per_mtok"),
    ({"output_usd_per_mtok": 1}, "input_usd_per_mtok"),
    ({"input_usd_per_mtok": 1, "output_usd_per_mtok": 1, "valid_from": "soon"}, "valid_from"),
    ({"input_usd_per_mtok": 1, "output_usd_per_mtok": 1, "provider": ""}, "provider"),
    ({"input_usd_per_mtok": 1, "output_usd_per_mtok": 1, "provider": "a\u202eb"}, "provider"),
    ({"input_usd_per_mtok": 1, "output_usd_per_mtok": 1, "currency": "EUR"}, "currency"),
])
def test_bad_price_values_answer_422_with_their_path(org, body, path):
    r = org.stack.request("PUT", org.prices_path("gpt-4o"), token=org.tok, body=body)
    assert r.status == 422, r.body
    assert (r.json()["error"]["code"], r.json()["error"]["path"]) == ("validation_failed", path)


def test_bad_model_names_and_dates_answer_422(org):
    ok = {"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}
    for model in ("x" * 201, "a%0Ab", "a%E2%80%AEb"):
        r = org.stack.request("PUT", f"{org.prices_path()}/{model}", token=org.tok, body=ok)
        assert r.status == 422 and r.json()["error"]["path"] == "model", (model, r)
    # A broken escape never reaches a worker: nginx refuses the request line.
    assert org.stack.request("PUT", f"{org.prices_path()}/a%ZZ", token=org.tok, body=ok).status == 400
    assert org.set_price("x" * 200, 1, 1).status == 200
    # A period starts after the current one: never before or at its start.
    assert org.set_price("dated", 1, 1, valid_from="2025-06-01T00:00:00Z").status == 200
    for at in ("2025-06-01T00:00:00Z", "2025-05-01T00:00:00Z"):
        r = org.set_price("dated", 2, 2, valid_from=at)
        assert r.status == 422 and r.json()["error"]["path"] == "valid_from", r.body
    items = {p["model"]: p for p in org.must("GET", org.prices_path() + "?at=2025-07-01T00:00:00Z")["items"]}
    assert items["dated"]["input_usd_per_mtok"] == 1
    r = org.stack.request("GET", org.prices_path() + "?at=yesterday", token=org.tok)
    assert r.status == 422 and r.json()["error"]["path"] == "at"


@pytest.mark.parametrize("field,value,message", [
    ("input_tokens", -1, "must not be negative"),
    ("output_tokens", 1.5, "must be an integer, not a fraction"),
    ("cache_read_tokens", "10", "must be an integer, not a string"),
    ("model", "", "must not be empty"),
    ("provider", 5, "must be a string, not a number"),
])
def test_bad_usage_in_an_ingest_answers_422_with_its_path(org, field, value, message):
    body = {"workflow_id": org.workflow, "session_id": "s", "status": "success",
            "started_at": "2025-06-01T12:00:00Z",
            "node_executions": [{"node_name": "ok"}, {"node_name": "n", field: value}]}
    r = org.stack.request("POST", INGEST, token=org.tok, body=body)
    assert r.status == 422, r.body
    err = r.json()["error"]
    assert err["path"] == f"node_executions[1].{field}" and err["message"].endswith(message), err


def test_a_price_committed_between_the_insert_and_the_items_leaves_the_sums_right(stack, org):
    """Steps 3 (the execution's insert, with its sums) and 5 (the node
    executions, each priced) are two statements: a price committed between
    them makes them disagree, and the ingest then corrects the execution's
    sums. A transaction holding an uncommitted node of the same name keeps
    the ingest waiting in step 4 while the price changes."""
    marker = f"hold-{uuid.uuid4().hex}"
    script = (f"INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name)"
              f" VALUES ('{org.org}', '{org.project}', '{org.workflow}', 'late');\n"
              f"SELECT pg_sleep(3) /* {marker} */;\nROLLBACK;\nBEGIN")
    holder = threading.Thread(target=stack.psql_app, args=(script,), kwargs={"user_id": org.owner})
    holder.start()
    waiting = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
               " AND query LIKE '%workflow_nodes%' AND query NOT LIKE '%pg_stat_activity%'")
    deadline = time.monotonic() + 10
    while stack.psql_admin("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                           f" AND query LIKE '%{marker}%' AND query NOT LIKE '%pg_stat_activity%'").strip() != "1":
        assert time.monotonic() < deadline, "the holding transaction never started"
        time.sleep(0.02)
    done = {}
    ingest = threading.Thread(target=lambda: done.update(ex=org.ingest([node("late", "gpt-4o", 1_000_000, 0)])))
    ingest.start()
    while stack.psql_admin(waiting).strip() != "1":
        assert time.monotonic() < deadline, "the ingest never waited in step 4"
        time.sleep(0.02)
    assert org.set_price("gpt-4o", 9, 9, valid_from="2025-01-01T00:00:00Z").status == 200
    holder.join()
    ingest.join()
    assert org.node_costs(done["ex"]) == {"late": Decimal(9)}
    assert org.execution(done["ex"])["usage"]["cost_usd"] == Decimal(9)
