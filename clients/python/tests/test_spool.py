"""Unit tests of spool.py: the file format agora-upload reads, atomic
writes, the sending order, and what a drain does with each kind of
answer."""

import json
import os
import stat
import unittest
from unittest import mock

import support
from agora_cloud.spool import Spool, default_dir, write_atomic
from agora_cloud.transport import Outcome

OK = Outcome("ok", 201, "stored")
DOWN = Outcome("fail", None, "ConnectionRefusedError", transient=True)
DENIED = Outcome("fail", 401, "401 unauthorized")
REFUSED = Outcome("reject", 422, "422 validation_failed at status: bad")


def body(execution, n, status="running"):
    return json.dumps({"execution_id": execution, "status": status, "n": n}).encode()


class SpoolTest(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(support.tempdir(self), "spool")
        self.spool = Spool(self.dir)

    def files(self, sub=""):
        d = os.path.join(self.dir, sub)
        return sorted(f for f in os.listdir(d) if not f.startswith(".")) if os.path.isdir(d) else []

    def test_a_spooled_file_is_exactly_the_body_private_and_named_json(self):
        data = body("e1", 0)
        path = self.spool.put(data, "e1")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertTrue(path.endswith(".json"))
        self.assertIn("-e1-", os.path.basename(path))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.dir).st_mode), 0o700)
        self.assertEqual(os.listdir(self.dir), [os.path.basename(path)])

    def test_names_sort_in_writing_order_even_when_the_clock_steps_back(self):
        paths = [self.spool.put(body("e1", 0), "e1")]
        with mock.patch("time.time_ns", return_value=0):
            paths += [self.spool.put(body("e1", i), "e1") for i in (1, 2)]
        self.assertEqual(self.spool.pending(), paths)

    def test_a_failed_write_leaves_no_file(self):
        with mock.patch("os.fsync", side_effect=OSError("disk full")):
            with self.assertRaises(OSError):
                self.spool.put(body("e1", 0), "e1")
        self.assertEqual(os.listdir(self.dir), [])

    def test_write_atomic_replaces_a_file_whole(self):
        path = os.path.join(self.dir + "-x.json")
        write_atomic(path, b"old")
        write_atomic(path, b"new", mode=0o644)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"new")
        self.addCleanup(os.unlink, path)

    def test_pending_lists_only_finished_json_files_and_drops_stale_temporaries(self):
        self.spool.put(body("e1", 0), "e1")
        for name in (".tmp-1-0-x.json.part", "notes.txt", ".hidden.json"):
            with open(os.path.join(self.dir, name), "w") as f:
                f.write("x")
        os.utime(os.path.join(self.dir, ".tmp-1-0-x.json.part"), (0, 0))
        self.spool.put_rejected(body("e2", 0), "e2")
        self.assertEqual(len(self.spool.pending()), 1)
        self.assertNotIn(".tmp-1-0-x.json.part", os.listdir(self.dir))

    def test_drain_sends_in_order_and_removes_what_was_stored(self):
        for i in range(3):
            self.spool.put(body("e1", i), "e1")
        sent = []
        n = self.spool.drain(lambda b, final: sent.append(json.loads(b)["n"]) or OK)
        self.assertEqual((n, sent), (3, [0, 1, 2]))
        self.assertEqual(self.files(), [])

    def test_drain_tells_send_which_body_is_final(self):
        self.spool.put(body("e1", 0), "e1")
        self.spool.put(body("e1", 1, "success"), "e1")
        finals = []
        self.spool.drain(lambda b, final: finals.append(final) or OK)
        self.assertEqual(finals, [False, True])

    def test_drain_stops_at_the_first_transient_failure(self):
        for i in range(3):
            self.spool.put(body(f"e{i}", i), f"e{i}")
        calls = []
        self.assertEqual(self.spool.drain(lambda b, final: calls.append(b) or DOWN), 0)
        self.assertEqual(len(calls), 1)
        self.assertEqual(len(self.files()), 3)

    def test_a_refused_credential_holds_back_that_execution_only(self):
        self.spool.put(body("e1", 0), "e1")
        self.spool.put(body("e2", 0), "e2")
        self.spool.put(body("e1", 1), "e1")
        sent = []

        def send(b, final):
            doc = json.loads(b)
            sent.append((doc["execution_id"], doc["n"]))
            return DENIED if doc["execution_id"] == "e1" else OK

        with self.assertLogs("agora_cloud", "ERROR") as logs:
            self.assertEqual(self.spool.drain(send), 1)
        self.assertEqual(sent, [("e1", 0), ("e2", 0)])
        self.assertEqual(len(self.files()), 2)
        self.assertIn("401 unauthorized", logs.output[0])

    def test_a_body_refused_for_good_moves_to_rejected_and_the_drain_goes_on(self):
        self.spool.put(body("e1", 0), "e1")
        self.spool.put(body("e2", 0), "e2")
        answers = [REFUSED, OK]
        with self.assertLogs("agora_cloud", "ERROR") as logs:
            self.assertEqual(self.spool.drain(lambda b, final: answers.pop(0)), 1)
        self.assertEqual(self.files(), ["rejected"])
        self.assertEqual(len(self.files("rejected")), 1)
        self.assertIn("422 validation_failed at status: bad", logs.output[0])

    def test_a_second_drainer_leaves_the_files_to_the_first(self):
        self.spool.put(body("e1", 0), "e1")
        other = Spool(self.dir)
        inner = []

        def send(b, final):
            inner.append(other.drain(lambda b2, f2: OK))
            return OK

        self.assertEqual(self.spool.drain(send), 1)
        self.assertEqual(inner, [None])

    def test_the_default_directory_follows_the_environment(self):
        with mock.patch.dict(os.environ, {"AGORA_SPOOL_DIR": "/x/spool"}):
            self.assertEqual(default_dir(), "/x/spool")
        with mock.patch.dict(os.environ, {"AGORA_SPOOL_DIR": "", "XDG_STATE_HOME": "/state"}):
            self.assertEqual(default_dir(), "/state/agora-cloud/spool")


if __name__ == "__main__":
    unittest.main()
