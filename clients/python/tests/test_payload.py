"""Unit tests of payload.py: timestamps, the encoding the server accepts
(no NUL, valid UTF-8) and the split of items into bounded bodies."""

import json
import unittest

import support  # noqa: F401  (puts the package on sys.path)
from agora_cloud import payload

HEAD = {"workflow_id": support.WORKFLOW_ID, "execution_id": "e", "session_id": "s",
        "status": "running", "started_at": "2024-11-26T12:00:00.000000Z"}


def items(n, size, section="telemetry_events"):
    return {section: [{"event_type": "x", "pad": "p" * size, "i": i} for i in range(n)]}


class PayloadTest(unittest.TestCase):
    def test_timestamps_are_utc_with_microseconds(self):
        self.assertEqual(payload.iso(1732622400_123456789), "2024-11-26T12:00:00.123456Z")
        self.assertEqual(payload.iso(0), "1970-01-01T00:00:00.000000Z")

    def test_encoding_is_compact_utf8(self):
        self.assertEqual(payload.encode({"a": ["é", 1]}), '{"a":["é",1]}'.encode())

    def test_nul_becomes_the_replacement_character_but_the_text_backslash_u0000_stays(self):
        out = payload.encode({"nul": "a\x00b", "text": "\\u0000", "both": "\\\x00"})
        doc = json.loads(out)
        self.assertEqual(doc, {"nul": "a\ufffdb", "text": "\\u0000", "both": "\\\ufffd"})
        self.assertNotIn(b"\\u0000\"", out.replace(b"\\\\u0000", b""))

    def test_unpaired_surrogates_become_the_replacement_character(self):
        out = payload.encode({"name": "file\udcff.txt", "pair": "\U0001F600"})
        self.assertEqual(json.loads(out.decode("utf-8")), {"name": "file\ufffd.txt", "pair": "\U0001F600"})

    def test_nan_is_refused_rather_than_sent(self):
        with self.assertRaises(ValueError):
            payload.encode({"x": float("nan")})

    def test_nothing_to_send_gives_no_body(self):
        self.assertEqual(payload.bodies(HEAD, {}, {}, 1000), [])

    def test_final_fields_alone_give_one_body(self):
        (body,) = payload.bodies(HEAD, {"status": "success"}, {}, 1000)
        self.assertEqual(json.loads(body), {**HEAD, "status": "success"})

    def test_items_fit_one_body_in_section_order(self):
        its = {"telemetry_events": [{"e": 1}], "node_executions": [{"n": 1}, {"n": 2}],
               "shared_state_snapshots": [{"s": 1}], "telemetry_spans": [{"p": 1}]}
        (body,) = payload.bodies(HEAD, {}, its, 100000)
        doc = json.loads(body)
        self.assertEqual(list(doc)[len(HEAD):], list(payload.SECTIONS))
        self.assertEqual(doc["node_executions"], [{"n": 1}, {"n": 2}])
        self.assertEqual(doc["status"], "running")

    def test_a_large_delivery_is_split_under_the_limit_and_only_the_last_is_final(self):
        its = items(100, 500)
        bodies = payload.bodies(HEAD, {"status": "success", "duration_ms": 5}, its, 8000)
        self.assertGreater(len(bodies), 5)
        seen = []
        for i, body in enumerate(bodies):
            self.assertLessEqual(len(body), 8000)
            doc = json.loads(body)
            seen += [e["i"] for e in doc["telemetry_events"]]
            last = i == len(bodies) - 1
            self.assertEqual(doc["status"], "success" if last else "running")
            self.assertEqual("duration_ms" in doc, last)
        self.assertEqual(seen, list(range(100)))

    def test_an_item_larger_than_the_limit_goes_alone(self):
        its = {"telemetry_events": [{"a": 1}, {"big": "x" * 5000}, {"b": 2}]}
        bodies = payload.bodies(HEAD, {}, its, 1000)
        self.assertEqual([len(json.loads(b)["telemetry_events"]) for b in bodies], [1, 1, 1])

    def test_a_body_exactly_at_the_limit_stays_whole_and_one_byte_less_splits_it(self):
        its = items(30, 20)
        (whole,) = payload.bodies(HEAD, {"status": "success"}, its, 10 ** 6)
        self.assertEqual(payload.bodies(HEAD, {"status": "success"}, its, len(whole)), [whole])
        split = payload.bodies(HEAD, {"status": "success"}, its, len(whole) - 1)
        self.assertEqual(len(split), 2)
        events = [e for b in split for e in json.loads(b)["telemetry_events"]]
        self.assertEqual(events, json.loads(whole)["telemetry_events"])

    def test_each_body_holds_at_most_max_items_of_a_kind(self):
        bodies = payload.bodies(HEAD, {}, items(25, 1), 10 ** 6, max_items=10)
        self.assertEqual([len(json.loads(b)["telemetry_events"]) for b in bodies], [10, 10, 5])


if __name__ == "__main__":
    unittest.main()
