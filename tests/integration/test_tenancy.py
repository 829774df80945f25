"""The tenancy routes end to end: HTTPS through nginx, FastCGI workers,
PostgreSQL with row-level security. Each test acts as fresh users so tests
do not depend on one another."""
import uuid


def err_code(resp):
    body = resp.json()
    assert body is not None, resp.body
    return body["error"]["code"]


def make_org(stack, token, name="Acme"):
    r = stack.request("POST", "/api/organizations", token=token, body={"name": name})
    assert r.status == 201, r.body
    return r.json()


def make_project(stack, token, org_id, name="web"):
    r = stack.request("POST", "/api/projects", token=token,
                      body={"organization_id": org_id, "name": name})
    assert r.status == 201, r.body
    return r.json()


def test_health_needs_no_token_and_reports_the_database(stack):
    r = stack.request("GET", "/api/health")
    assert r.status == 200
    assert r.json() == {"status": "ok", "database": "ok"}
    assert r.headers.get("x-request-id")


def test_a_fresh_user_creates_an_organization_project_and_api_key(stack):
    user = stack.new_user()
    tok = stack.token(user)
    org = make_org(stack, tok, "First org")
    assert uuid.UUID(org["id"]) and org["name"] == "First org" and org["role"] == "owner"
    assert org["created_at"].endswith("Z")

    proj = make_project(stack, tok, org["id"], "api")
    assert proj["organization_id"] == org["id"] and proj["name"] == "api"

    r = stack.request("GET", "/api/projects", token=tok)
    assert r.status == 200
    assert [p["id"] for p in r.json()["items"]] == [proj["id"]]

    r = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=tok, body={"name": "ci"})
    assert r.status == 201, r.body
    key = r.json()
    assert key["key"].startswith("agk_") and key["project_id"] == proj["id"]

    # The key reads its own project, and only that.
    r = stack.request("GET", "/api/projects", token=key["key"])
    assert r.status == 200
    assert [p["id"] for p in r.json()["items"]] == [proj["id"]]

    # The secret is shown once: listing keys never returns it.
    r = stack.request("GET", f"/api/projects/{proj['id']}/api-keys", token=tok)
    assert r.status == 200
    assert key["key"] not in r.body.decode()
    assert [k["id"] for k in r.json()["items"]] == [key["id"]]


def test_another_user_gets_404_on_everything_of_a_foreign_organization(stack):
    owner, stranger = stack.new_user(), stack.new_user()
    tok, other = stack.token(owner), stack.token(stranger)
    org = make_org(stack, tok)
    proj = make_project(stack, tok, org["id"])
    key = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=tok).json()

    r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=other,
                      body={"user_id": stranger, "role": "owner"})
    assert (r.status, err_code(r)) == (404, "not_found")
    r = stack.request("GET", f"/api/organizations/{org['id']}/members", token=other)
    assert r.status == 404
    r = stack.request("POST", "/api/projects", token=other,
                      body={"organization_id": org["id"], "name": "mine now"})
    assert r.status == 404
    r = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=other)
    assert r.status == 404
    r = stack.request("GET", f"/api/projects/{proj['id']}/api-keys", token=other)
    assert r.status == 404
    r = stack.request("DELETE", f"/api/api-keys/{key['id']}", token=other)
    assert r.status == 404
    r = stack.request("GET", "/api/projects", token=other)
    assert r.status == 200 and r.json()["items"] == []
    r = stack.request("GET", f"/api/projects?organization_id={org['id']}", token=other)
    assert r.status == 200 and r.json()["items"] == []
    # And the key still works: the stranger could not revoke it.
    assert stack.request("GET", "/api/projects", token=key["key"]).status == 200


def test_roles_decide_who_manages_members_projects_and_keys(stack):
    owner, admin, member, viewer, newcomer = (stack.new_user() for _ in range(5))
    tok = stack.token(owner)
    org = make_org(stack, tok)
    for user, role in ((admin, "admin"), (member, "member"), (viewer, "viewer")):
        r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=tok,
                          body={"user_id": user, "role": role})
        assert r.status == 201, r.body
        assert r.json() == {**r.json(), "user_id": user, "role": role, "organization_id": org["id"]}

    # Adding the same user twice is a conflict.
    r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=tok,
                      body={"user_id": member, "role": "viewer"})
    assert (r.status, err_code(r)) == (409, "conflict")

    for user in (member, viewer):
        t = stack.token(user)
        r = stack.request("POST", "/api/projects", token=t, body={"organization_id": org["id"], "name": "x" + user[:4]})
        assert (r.status, err_code(r)) == (403, "forbidden")
        r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=t,
                          body={"user_id": newcomer, "role": "viewer"})
        assert (r.status, err_code(r)) == (403, "forbidden")
        # Members and viewers still read.
        r = stack.request("GET", f"/api/organizations/{org['id']}/members", token=t)
        assert r.status == 200 and len(r.json()["items"]) == 4

    at = stack.token(admin)
    proj = make_project(stack, at, org["id"], "by-admin")
    # An admin may not make owners; an owner may.
    r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=at,
                      body={"user_id": newcomer, "role": "owner"})
    assert r.status == 403
    r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=at,
                      body={"user_id": newcomer, "role": "member"})
    assert r.status == 201
    r = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=stack.token(member))
    assert r.status == 403
    r = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=at)
    assert r.status == 201
    # Viewers see the project.
    r = stack.request("GET", "/api/projects", token=stack.token(viewer))
    assert proj["id"] in [p["id"] for p in r.json()["items"]]


def test_a_member_may_be_added_before_they_ever_sign_in(stack):
    tok = stack.token(stack.new_user())
    org = make_org(stack, tok)
    future = stack.new_user()
    r = stack.request("POST", f"/api/organizations/{org['id']}/members", token=tok,
                      body={"user_id": future, "role": "member"})
    assert r.status == 201
    r = stack.request("GET", "/api/organizations", token=stack.token(future))
    assert r.status == 200
    assert [(o["id"], o["role"]) for o in r.json()["items"]] == [(org["id"], "member")]


def test_a_revoked_api_key_is_refused_from_then_on(stack):
    tok = stack.token(stack.new_user())
    org = make_org(stack, tok)
    proj = make_project(stack, tok, org["id"])
    key = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=tok).json()
    assert stack.request("GET", "/api/projects", token=key["key"]).status == 200
    r = stack.request("DELETE", f"/api/api-keys/{key['id']}", token=tok)
    assert r.status == 204 and r.body == b""
    # Every worker refuses it (the stack runs two; ask several times).
    for _ in range(6):
        r = stack.request("GET", "/api/projects", token=key["key"])
        assert (r.status, err_code(r)) == (401, "unauthorized")
    # Revoking again is harmless.
    assert stack.request("DELETE", f"/api/api-keys/{key['id']}", token=tok).status == 204


def test_an_api_key_on_an_administrative_route_gets_403(stack):
    tok = stack.token(stack.new_user())
    org = make_org(stack, tok)
    proj = make_project(stack, tok, org["id"])
    key = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=tok).json()["key"]
    for method, path, body in (
        ("POST", "/api/organizations", {"name": "k"}),
        ("POST", f"/api/organizations/{org['id']}/members", {"user_id": str(uuid.uuid4()), "role": "admin"}),
        ("POST", "/api/projects", {"organization_id": org["id"], "name": "k"}),
        ("POST", f"/api/projects/{proj['id']}/api-keys", None),
    ):
        r = stack.request(method, path, token=key, body=body)
        assert (r.status, err_code(r)) == (403, "forbidden"), (method, path, r.body)


def test_a_key_of_one_project_does_not_see_another_project(stack):
    tok = stack.token(stack.new_user())
    org = make_org(stack, tok)
    p1 = make_project(stack, tok, org["id"], "one")
    p2 = make_project(stack, tok, org["id"], "two")
    key = stack.request("POST", f"/api/projects/{p1['id']}/api-keys", token=tok).json()["key"]
    r = stack.request("GET", "/api/projects", token=key)
    ids = [p["id"] for p in r.json()["items"]]
    assert ids == [p1["id"]] and p2["id"] not in ids


def test_duplicate_project_names_in_one_organization_conflict(stack):
    tok = stack.token(stack.new_user())
    org = make_org(stack, tok)
    make_project(stack, tok, org["id"], "same")
    r = stack.request("POST", "/api/projects", token=tok, body={"organization_id": org["id"], "name": "same"})
    assert (r.status, err_code(r)) == (409, "conflict")


def test_bad_bodies_get_clear_errors_and_write_nothing(stack):
    user = stack.new_user()
    tok = stack.token(user)
    cases = [
        ("POST", "/api/organizations", b"{", "application/json", 400, "bad_json", None),
        ("POST", "/api/organizations", b"[]", "application/json", 422, "validation_failed", None),
        ("POST", "/api/organizations", b"{}", "application/json", 422, "validation_failed", "name"),
        ("POST", "/api/organizations", b'{"name": 5}', "application/json", 422, "validation_failed", "name"),
        ("POST", "/api/organizations", b'{"name": ""}', "application/json", 422, "validation_failed", "name"),
        ("POST", "/api/organizations", b'{"name": "a\\u0000b"}', "application/json", 422, "validation_failed", "name"),
        ("POST", "/api/organizations", b'{"name": "x", "extra": 1}', "application/json", 422, "validation_failed", "extra"),
        ("POST", "/api/organizations", b'{"name": "\xff"}', "application/json", 400, "bad_json", None),
        ("POST", "/api/organizations", b'{"name": "x"}', "text/plain", 415, "unsupported_media_type", None),
        ("POST", "/api/organizations", b'{"name": "x"} {}', "application/json", 400, "bad_json", None),
        ("POST", "/api/projects", b'{"organization_id": "nope", "name": "x"}', "application/json", 422, "validation_failed", "organization_id"),
    ]
    for method, path, raw, ctype, status, code, errpath in cases:
        r = stack.request(method, path, token=tok, body=raw, headers={"Content-Type": ctype})
        assert r.status == status, (raw, r.status, r.body)
        err = r.json()["error"]
        assert err["code"] == code and err["message"], (raw, r.body)
        assert err.get("path") == errpath, (raw, r.body)
    r = stack.request("GET", "/api/organizations", token=tok)
    assert r.json()["items"] == []


def test_routing_errors_are_json(stack):
    tok = stack.token(stack.new_user())
    r = stack.request("GET", "/api/nothing-here", token=tok)
    assert (r.status, err_code(r)) == (404, "not_found")
    r = stack.request("GET", "/api/api-keys/not-a-uuid", token=tok)
    assert r.status == 404
    r = stack.request("PUT", "/api/projects", token=tok, body={})
    assert (r.status, err_code(r)) == (405, "method_not_allowed")
    assert set(m.strip() for m in r.headers["allow"].split(",")) == {"GET", "POST"}
    r = stack.request("GET", "/api/projects?organization_id=zzz", token=tok)
    assert (r.status, r.json()["error"].get("path")) == (422, "organization_id")
    r = stack.request("GET", "/api/projects?colour=red", token=tok)
    assert (r.status, r.json()["error"].get("path")) == (422, "colour")


def test_an_api_key_records_when_it_was_last_used(stack):
    import datetime
    tok = stack.token(stack.new_user())
    org = make_org(stack, tok)
    proj = make_project(stack, tok, org["id"])
    key = stack.request("POST", f"/api/projects/{proj['id']}/api-keys", token=tok).json()

    def last_used():
        r = stack.request("GET", f"/api/projects/{proj['id']}/api-keys", token=tok)
        assert r.status == 200, r.body
        (item,) = [k for k in r.json()["items"] if k["id"] == key["id"]]
        return item["last_used_at"]

    assert last_used() is None
    before = datetime.datetime.now(datetime.timezone.utc)
    # Even a request that fails after authentication counts as a use.
    assert stack.request("GET", "/api/executions?status=nope", token=key["key"]).status == 422
    used = last_used()
    assert used is not None
    at = datetime.datetime.fromisoformat(used.replace("Z", "+00:00"))
    assert before - datetime.timedelta(seconds=5) <= at <= datetime.datetime.now(datetime.timezone.utc)
    # A wrong secret for the same key id is no use of the key.
    stack.psql_admin(f"UPDATE agora.api_keys SET last_used_at = NULL WHERE id = '{key['id']}'")
    forged = key["key"][:-1] + ("0" if key["key"][-1] != "0" else "1")
    assert stack.request("GET", "/api/projects", token=forged).status == 401
    assert last_used() is None
