"""Unit tests of transport.py: the api_url spellings, what each answer
means, and the requests themselves (headers, the Idempotency-Key, a
kept-alive connection the server closed, redirects, an absent server)."""

import hashlib
import json
import unittest

import support
from agora_cloud.transport import Transport, classify, idempotency_key, normalize_api_url


def err(code, message, path=None):
    e = {"code": code, "message": message, "request_id": "r1"}
    if path:
        e["path"] = path
    return json.dumps({"error": e}).encode()


class UrlTest(unittest.TestCase):
    def test_the_site_url_and_the_api_base_give_the_same_api(self):
        for url in ("https://example.org", "https://example.org/", "https://example.org/api",
                    "https://example.org/api/", " https://example.org/api "):
            self.assertEqual(normalize_api_url(url), "https://example.org/api", url)
        self.assertEqual(normalize_api_url("https://localhost:8443/"), "https://localhost:8443/api")
        self.assertEqual(normalize_api_url("https://example.org/agora/"), "https://example.org/agora/api")
        self.assertEqual(normalize_api_url("http://127.0.0.1:8000"), "http://127.0.0.1:8000/api")

    def test_what_cannot_be_an_api_url_is_refused(self):
        for url in ("", "localhost:8443", "ftp://example.org", "https://u:p@example.org/api",
                    "https://example.org/api?token=x", None):
            with self.assertRaises(ValueError, msg=url):
                normalize_api_url(url)


class ClassifyTest(unittest.TestCase):
    def test_stored_and_replayed_answers_are_ok_with_the_execution_id(self):
        out = classify(201, b'{"execution_id":"e1","status":"success"}', True)
        self.assertEqual((out.kind, out.execution_id), ("ok", "e1"))
        self.assertEqual(classify(200, b"{}", False).kind, "ok")

    def test_validation_errors_are_refused_for_good_with_path_and_message(self):
        out = classify(422, err("validation_failed", "must be a UUID", "node_executions[0].node_id"), False)
        self.assertEqual(out.kind, "reject")
        self.assertEqual(out.message, "422 validation_failed at node_executions[0].node_id: must be a UUID "
                                      "(request r1)")
        for status in (400, 413, 415):
            self.assertEqual(classify(status, b"", False).kind, "reject", status)

    def test_credential_and_visibility_failures_keep_the_payload_and_say_why(self):
        for status, words in ((401, "refused"), (403, "may not ingest"), (404, "not visible")):
            out = classify(status, err("x", "no"), False)
            self.assertEqual((out.kind, out.transient), ("fail", False), status)
            self.assertIn(words, out.message)

    def test_a_404_that_is_not_the_apis_says_the_url_is_wrong(self):
        out = classify(404, b"<html><body>404 Not Found</body></html>", False)
        self.assertEqual((out.kind, out.transient), ("fail", False))
        self.assertIn("no Agora Cloud API answers at this api_url", out.message)

    def test_server_trouble_is_transient(self):
        for status in (408, 429, 500, 502, 503, 504):
            out = classify(status, b"<html>bad gateway</html>", False)
            self.assertEqual((out.kind, out.transient), ("fail", True), status)
        self.assertIn("bad gateway", classify(502, b"<html>bad gateway</html>", False).message)

    def test_409_means_already_stored_for_a_final_payload_and_too_late_for_an_append(self):
        self.assertEqual(classify(409, err("conflict", "closed"), True).kind, "ok")
        self.assertEqual(classify(409, err("conflict", "closed"), False).kind, "reject")

    def test_a_redirect_names_the_url_to_use(self):
        out = classify(301, b"", False, "https://example.org/api/executions/ingest")
        self.assertEqual(out.kind, "fail")
        self.assertIn("https://example.org/api/executions/ingest", out.message)


class TransportTest(unittest.TestCase):
    def setUp(self):
        self.server = support.fake_ingest(self)
        self.transport = Transport(self.server.url + "/", "agk_secret", timeout=5)
        self.addCleanup(self.transport.close)

    def test_a_request_carries_the_body_hash_as_idempotency_key_and_the_credential(self):
        body = b'{"execution_id":"e1","status":"success"}'
        out = self.transport.ingest(body, True)
        self.assertEqual((out.kind, out.status, out.execution_id), ("ok", 201, "e1"))
        (req,) = self.server.requests
        self.assertEqual(req["path"], "/api/executions/ingest")
        self.assertEqual(req["body"], body)
        self.assertEqual(req["headers"]["Idempotency-Key"], hashlib.sha256(body).hexdigest())
        self.assertEqual(idempotency_key(body), hashlib.sha256(body).hexdigest())
        self.assertEqual(req["headers"]["Authorization"], "Bearer agk_secret")
        self.assertEqual(req["headers"]["Content-Type"], "application/json")
        self.assertTrue(req["headers"]["User-Agent"].startswith("agora-cloud-python/"))

    def test_the_same_body_again_is_a_replay(self):
        body = b'{"execution_id":"e1","status":"running"}'
        self.assertFalse(self.transport.ingest(body, False).replayed)
        self.assertTrue(self.transport.ingest(body, False).replayed)

    def test_a_kept_alive_connection_the_server_closed_is_replaced_once(self):
        self.server.drop_connections = True
        for i in range(3):
            out = self.transport.ingest(b'{"execution_id":"e%d"}' % i, False)
            self.assertEqual(out.kind, "ok", out)
        self.assertEqual(len(self.server.requests), 3)

    def test_no_server_is_a_transient_failure(self):
        out = Transport(f"http://127.0.0.1:{support.closed_port()}", None, timeout=2).ingest(b"{}", False)
        self.assertEqual((out.kind, out.transient), ("fail", True))
        self.assertIn("Connection", out.message)

    def test_a_redirect_is_not_followed(self):
        self.server.answers.append((308, None))
        out = self.transport.ingest(b"{}", False)
        self.assertEqual((out.kind, out.status), ("fail", 308))
        self.assertEqual(len(self.server.requests), 1)


if __name__ == "__main__":
    unittest.main()
