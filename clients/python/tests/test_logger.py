"""Unit tests of CloudAuditLogger with AuditedNode and AuditedFlow: what a
run records (node executions, spans, events, snapshots, errors, retries),
and how it is delivered to a stand-in ingest route (one upload, appends,
the spool when the server is away, refusals, bodies split by size, live
runs, delivery at exit)."""

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import unittest
import uuid

import support
from agora_cloud import AuditedFlow, AuditedNode, CloudAuditLogger, Flow, Node
from agora_cloud.transport import Transport

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


class MyNode(AuditedNode):
    """The seed example's node."""

    def exec(self, prep_res):
        return "processed"


class Put(AuditedNode):
    """Sets shared[key] = value; returns action."""

    def __init__(self, name, logger=None, key=None, value=None, action=None, **kw):
        super().__init__(name, logger, **kw)
        self.key, self.value, self.action = key or name, value, action

    def post(self, shared, prep_res, exec_res):
        shared[self.key] = self.value
        return self.action


class Boom(AuditedNode):
    def __init__(self, name, logger=None, exc=None, **kw):
        super().__init__(name, logger, **kw)
        self.exc = exc or ValueError("boom")
        self.calls = 0

    def exec(self, prep_res):
        self.calls += 1
        raise self.exc


class LoggerCase(unittest.TestCase):
    def setUp(self):
        self.server = support.fake_ingest(self)
        self.spool_dir = os.path.join(support.tempdir(self), "spool")

    def logger(self, url=None, **kw):
        kw.setdefault("auto_upload", False)
        lg = CloudAuditLogger(session_id="test-123", api_url=url or self.server.url, access_token="tok",
                              workflow_id=support.WORKFLOW_ID, spool_dir=self.spool_dir, **kw)
        self.addCleanup(lg._stop_live)
        self.addCleanup(lg._transport.close)
        return lg

    def spooled(self, sub=""):
        d = os.path.join(self.spool_dir, sub)
        return sorted(f for f in os.listdir(d) if f.endswith(".json")) if os.path.isdir(d) else []

    def seed_flow(self, logger):
        node = MyNode("processor", logger)
        flow = AuditedFlow("MyFlow", logger)
        flow.start(node)
        flow.run({})


class RecordingTest(LoggerCase):
    def test_the_seed_example_records_phases_spans_events_and_snapshots(self):
        lg = self.logger()
        self.seed_flow(lg)
        lg.mark_complete(status="success")
        doc = lg.to_payload()
        self.assertEqual((doc["workflow_id"], doc["session_id"], doc["status"]),
                         (support.WORKFLOW_ID, "test-123", "success"))
        self.assertEqual(doc["execution_id"], lg.execution_id)
        (ne,) = doc["node_executions"]
        self.assertEqual((ne["node_name"], ne["node_type"], ne["status"], ne["action"], ne["retry_count"]),
                         ("processor", "MyNode", "success", "default", 0))
        self.assertEqual(uuid.UUID(ne["id"]).version, 4)
        self.assertEqual(uuid.UUID(doc["execution_id"]).version, 4)
        for phase in ("prep", "exec", "post"):
            self.assertGreaterEqual(ne[f"{phase}_duration_ms"], 0)
        self.assertNotIn("node_id", ne)
        spans = {s["name"]: s for s in doc["telemetry_spans"]}
        self.assertEqual(set(spans), {"MyFlow", "processor", "processor.prep", "processor.exec", "processor.post"})
        for s in spans.values():
            self.assertRegex(s["trace_id"], HEX32)
            self.assertRegex(s["span_id"], HEX16)
            self.assertEqual(s["trace_id"], lg.trace_id)
        self.assertIsNone(spans["MyFlow"]["parent_span_id"])
        self.assertEqual(spans["processor"]["parent_span_id"], spans["MyFlow"]["span_id"])
        self.assertEqual(spans["processor.exec"]["parent_span_id"], spans["processor"]["span_id"])
        self.assertEqual(spans["processor.exec"]["attributes"], {"retries": 0, "attempts": 1})
        self.assertEqual([e["event_type"] for e in doc["telemetry_events"]],
                         ["flow_start", "node_start", "node_success", "flow_end"])
        self.assertEqual([(s["sequence"], s["phase"], s["node_name"], s["state"])
                          for s in doc["shared_state_snapshots"]],
                         [(0, "before", "processor", {}), (1, "after", "processor", {})])
        self.assertTrue(doc["completed_at"].endswith("Z"))
        self.assertGreaterEqual(doc["duration_ms"], 0)
        self.assertEqual(doc["metadata"]["agora_client"]["name"], "agora-cloud-python")

    def test_snapshots_are_copies_before_and_after_each_node(self):
        lg = self.logger()
        a = Put("a", lg, value=[1])
        b = Put("b", lg, value=2)
        a >> b
        shared = {}
        AuditedFlow("f", lg, start=a).run(shared)
        shared["a"].append("later")
        states = [(s["node_name"], s["phase"], s["state"]) for s in lg.to_payload()["shared_state_snapshots"]]
        self.assertEqual(states, [("a", "before", {}), ("a", "after", {"a": [1]}),
                                  ("b", "before", {"a": [1]}), ("b", "after", {"a": [1], "b": 2})])

    def test_retries_and_a_fallback_are_recorded(self):
        class Soft(Boom):
            def exec_fallback(self, prep_res, exc):
                return "fallback"

        lg = self.logger()
        node = Soft("soft", lg, max_retries=3)
        node.run({})
        doc = lg.to_payload()
        (ne,) = doc["node_executions"]
        self.assertEqual((ne["status"], ne["retry_count"], node.calls), ("success", 2, 3))
        retries = [e["data"] for e in doc["telemetry_events"] if e["event_type"] == "node_retry"]
        self.assertEqual([r["attempt"] for r in retries], [1, 2])
        self.assertEqual(retries[0]["error"], {"type": "ValueError", "message": "boom"})
        self.assertIn("node_fallback", [e["event_type"] for e in doc["telemetry_events"]])

    def test_a_node_that_raises_is_recorded_and_its_exception_propagates_unchanged(self):
        lg = self.logger()
        exc = KeyError("missing")
        good = Put("good", lg, value=1)
        bad = Boom("bad", lg, exc=exc, max_retries=2)
        good >> bad
        shared = {}
        with self.assertRaises(KeyError) as cm:
            AuditedFlow("f", lg, start=good).run(shared)
        self.assertIs(cm.exception, exc)
        doc = lg.to_payload()
        ne = doc["node_executions"][1]
        self.assertEqual((ne["node_name"], ne["status"], ne["retry_count"]), ("bad", "error", 1))
        self.assertEqual(ne["error"], {"type": "KeyError", "message": "'missing'", "phase": "exec"})
        self.assertIn("exec_duration_ms", ne)
        self.assertNotIn("post_duration_ms", ne)
        (err_event,) = [e for e in doc["telemetry_events"] if e["event_type"] == "node_error"]
        self.assertIn("Traceback", err_event["data"]["error"]["traceback"])
        self.assertEqual(err_event["node_name"], "bad")
        spans = {s["name"]: s for s in doc["telemetry_spans"]}
        self.assertEqual((spans["bad"]["status"], spans["bad.exec"]["status"], spans["bad.prep"]["status"]),
                         ("error", "error", "ok"))
        self.assertNotIn("bad.post", spans)
        self.assertEqual(spans["f"]["status"], "error")
        self.assertIn("flow_error", [e["event_type"] for e in doc["telemetry_events"]])
        self.assertEqual(doc["shared_state_snapshots"][-1]["phase"], "after")
        lg.mark_complete("error")
        self.assertEqual(lg.to_payload()["error"], ne["error"])

    def test_plain_nodes_in_an_audited_flow_are_recorded_and_nested_flows_nest_spans(self):
        lg = self.logger()

        class Plain(Node):
            def post(self, shared, p, e):
                shared["plain"] = True

        inner = AuditedFlow("inner", lg, start=Plain("p"))
        outer = AuditedFlow("outer", lg)
        outer.start(Put("first", lg, value=1)) >> inner >> Put("last", lg, value=2)
        outer.run({})
        doc = lg.to_payload()
        self.assertEqual([n["node_name"] for n in doc["node_executions"]], ["first", "p", "last"])
        spans = {s["name"]: s for s in doc["telemetry_spans"]}
        self.assertEqual(spans["inner"]["parent_span_id"], spans["outer"]["span_id"])
        self.assertEqual(spans["p"]["parent_span_id"], spans["inner"]["span_id"])
        self.assertEqual(spans["last"]["parent_span_id"], spans["outer"]["span_id"])
        transitions = [(e["data"]["from"], e["data"]["to"]) for e in doc["telemetry_events"]
                       if e["event_type"] == "flow_transition"]
        self.assertEqual(transitions, [("first", "inner"), ("inner", "last")])
        self.assertEqual(doc["shared_state_snapshots"][-1]["state"], {"first": 1, "plain": True, "last": 2})

    def test_a_node_run_alone_or_in_a_plain_flow_is_recorded_with_its_own_logger(self):
        lg = self.logger()
        Flow("plain", start=Put("x", lg, value=1)).run({})
        Put("y", lg, value=2).run({})
        self.assertEqual([n["node_name"] for n in lg.to_payload()["node_executions"]], ["x", "y"])

    def test_either_argument_order_is_accepted(self):
        lg = self.logger()
        self.assertEqual((MyNode("n", lg).name, MyNode(lg, "n").name, MyNode(lg).name), ("n", "n", "MyNode"))
        self.assertIs(AuditedFlow(lg, "f").audit_logger, lg)
        with self.assertRaises(TypeError):
            MyNode("n", "not a logger")

    def test_events_of_the_workflow_are_recorded_under_the_running_node(self):
        lg = self.logger()

        class Talk(AuditedNode):
            def exec(self, prep_res):
                self.audit_logger.log_event("llm_call", model="m", tokens=12, api_key="sk-1")

        Talk("talk", lg).run({})
        lg.log_event("custom", node_name=None, n=1)
        events = [e for e in lg.to_payload()["telemetry_events"] if e["event_type"] in ("llm_call", "custom")]
        self.assertEqual(events[0]["node_name"], "talk")
        self.assertEqual(events[0]["data"], {"model": "m", "tokens": 12, "api_key": "[redacted]"})
        self.assertNotIn("node_name", events[1])

    def test_names_the_server_would_refuse_are_cleaned(self):
        lg = self.logger()

        class Act(AuditedNode):
            def post(self, shared, p, e):
                return "go\u200b"

        Act("exe.\u202egnp\x01").run({})
        # recorded through a flow with the logger
        node = Act("exe.\u202egnp\x01", lg)
        node.run({})
        (ne,) = lg.to_payload()["node_executions"]
        self.assertEqual(ne["node_name"], "exe.\ufffdgnp\ufffd")
        self.assertEqual(ne["action"], "go\ufffd")

    def test_node_id_mappings_are_sent_and_checked(self):
        lg = self.logger()
        node_id = str(uuid.uuid4())
        lg.set_node_id_mapping("processor", node_id)
        self.seed_flow(lg)
        self.assertEqual(lg.to_payload()["node_executions"][0]["node_id"], node_id)
        with self.assertRaises(ValueError):
            lg.set_node_id_mapping("x", "node-uuid")

    def test_wrong_arguments_are_refused_before_the_workflow_runs(self):
        base = dict(session_id="s", api_url="https://example.org", workflow_id=support.WORKFLOW_ID)
        for bad in (dict(workflow_id="workflow-uuid"), dict(workflow_id=None), dict(api_url="example.org"),
                    dict(access_token="a", api_key="b"), dict(session_id="")):
            with self.assertRaises(ValueError, msg=bad):
                CloudAuditLogger(**{**base, **bad})
        lg = self.logger()
        with self.assertRaises(ValueError):
            lg.mark_complete("failed")

    def test_state_capture_can_be_turned_off(self):
        lg = self.logger(capture_state=False)
        self.seed_flow(lg)
        self.assertEqual(lg.to_payload()["shared_state_snapshots"], [])

    def test_save_json_writes_the_whole_execution_as_one_ingest_payload(self):
        lg = self.logger()
        self.seed_flow(lg)
        lg.mark_complete("success")
        path = os.path.join(support.tempdir(self), "audit.json")
        self.assertTrue(lg.save_json(path))
        with open(path, encoding="utf-8") as f:
            self.assertEqual(json.load(f), lg.to_payload())
        with self.assertLogs("agora_cloud", "ERROR") as logs:
            self.assertFalse(lg.save_json(os.path.join(path, "not-a-dir", "x.json")))
        self.assertIn("could not save the audit log", logs.output[0])


class DeliveryTest(LoggerCase):
    def test_mark_complete_uploads_once_and_upload_again_sends_nothing(self):
        lg = self.logger(auto_upload=True)
        self.seed_flow(lg)
        lg.mark_complete(status="success")
        self.assertEqual(lg.upload(), lg.execution_id)
        (body,) = self.server.bodies()
        self.assertEqual(body, lg.to_payload())
        self.assertEqual(self.spooled(), [])

    def test_an_upload_before_mark_complete_is_followed_by_an_append_of_the_rest(self):
        lg = self.logger()
        self.seed_flow(lg)
        self.assertEqual(lg.upload(), lg.execution_id)
        lg.log_event("after_first_upload")
        lg.mark_complete("success")
        self.assertEqual(lg.upload(), lg.execution_id)
        first, second = self.server.bodies()
        self.assertEqual((first["status"], second["status"]), ("running", "success"))
        self.assertEqual(len(first["node_executions"]), 1)
        self.assertNotIn("node_executions", second)
        self.assertEqual([e["event_type"] for e in second["telemetry_events"]], ["after_first_upload"])
        self.assertIn("metadata", first)
        self.assertNotIn("metadata", second)

    def test_with_the_server_away_the_payload_is_spooled_and_the_next_upload_delivers_it_once(self):
        down = self.logger(url=f"http://127.0.0.1:{support.closed_port()}")
        self.seed_flow(down)
        with self.assertLogs("agora_cloud", "WARNING") as logs:
            down.mark_complete("success")
            self.assertIsNone(down.upload())
        self.assertIn("not delivered", logs.output[0])
        (name,) = self.spooled()
        with open(os.path.join(self.spool_dir, name), "rb") as f:
            spooled = f.read()
        self.assertEqual(json.loads(spooled), down.to_payload())

        other = self.logger()  # the same spool, a server that answers
        self.seed_flow(other)
        other.mark_complete("success")
        self.assertEqual(other.upload(), other.execution_id)
        self.assertEqual([b["execution_id"] for b in self.server.bodies()],
                         [down.execution_id, other.execution_id])
        self.assertEqual(self.server.requests[0]["body"], spooled)
        self.assertEqual(self.spooled(), [])
        other.upload()
        self.assertEqual(len(self.server.requests), 2)

    def upload_answered(self, status, error, level):
        """The seed flow, completed and uploaded to a server that answers
        status with error: returns the logger and the lines it logged at
        level or above."""
        lg = self.logger()
        self.server.answers.append((status, {"error": error}))
        self.seed_flow(lg)
        lg.mark_complete("success")
        with self.assertLogs("agora_cloud", level) as logs:
            self.assertIsNone(lg.upload())
        return lg, logs.output

    def test_a_transient_error_is_retried_by_the_next_upload_of_the_same_logger(self):
        lg, logs = self.upload_answered(503, {"code": "unavailable", "message": "database down"}, "WARNING")
        self.assertIn("503 unavailable: database down", logs[0])
        self.assertEqual(len(self.spooled()), 1)
        self.assertEqual(lg.upload(), lg.execution_id)
        self.assertEqual(self.spooled(), [])
        self.assertEqual(len(self.server.stored), 1)

    def test_a_payload_whose_answer_was_lost_is_replayed_not_stored_twice(self):
        lg = self.logger()
        self.seed_flow(lg)
        lg.mark_complete("success")
        body = json.dumps(lg.to_payload()).encode()
        transport = Transport(self.server.url)
        self.addCleanup(transport.close)
        self.assertEqual(transport.ingest(body, True).kind, "ok")  # and then the answer is "lost"
        lg._spool.put(body, lg.execution_id)
        self.assertEqual(lg._spool.drain(transport.ingest), 1)
        self.assertEqual(self.server.requests[1]["body"], body)
        self.assertEqual(len(self.server.stored), 1)

    def test_a_refused_credential_is_logged_clearly_and_the_data_kept(self):
        _, logs = self.upload_answered(401, {"code": "unauthorized", "message": "token expired"}, "ERROR")
        self.assertIn("401 unauthorized: token expired", logs[0])
        self.assertIn("refused", logs[0])
        self.assertEqual(len(self.spooled()), 1)

    def test_a_validation_error_is_logged_with_path_and_message_and_kept_aside(self):
        lg, logs = self.upload_answered(422, {"code": "validation_failed", "path": "node_executions[0].node_id",
                                              "message": "not a node of this workflow"}, "ERROR")
        self.assertIn("422 validation_failed at node_executions[0].node_id: not a node of this workflow", logs[0])
        self.assertEqual(self.spooled(), [])
        self.assertEqual(len(self.spooled("rejected")), 1)
        self.assertIsNone(lg.upload())

    def test_a_long_run_is_split_into_appends_under_max_payload_bytes(self):
        lg = self.logger(max_payload_bytes=6000)
        nodes = [Put(f"n{i}", lg, value="v" * 100) for i in range(40)]
        for a, b in zip(nodes, nodes[1:]):
            a >> b
        AuditedFlow("long", lg, start=nodes[0]).run({})
        lg.mark_complete("success")
        self.assertEqual(lg.upload(), lg.execution_id)
        bodies = self.server.bodies()
        self.assertGreater(len(bodies), 3)
        self.assertTrue(all(len(r["body"]) <= 6000 for r in self.server.requests))
        self.assertEqual([b["status"] for b in bodies], ["running"] * (len(bodies) - 1) + ["success"])
        ids = [n["id"] for b in bodies for n in b.get("node_executions", [])]
        self.assertEqual(len(ids), 40)
        self.assertEqual(len(set(ids)), 40)
        snaps = [s["sequence"] for b in bodies for s in b.get("shared_state_snapshots", [])]
        self.assertEqual(snaps, list(range(80)))

    def test_the_context_manager_completes_the_run(self):
        with self.logger(auto_upload=True) as lg:
            self.seed_flow(lg)
        self.assertEqual(self.server.bodies()[-1]["status"], "success")
        with self.assertRaises(KeyboardInterrupt):
            with self.logger(auto_upload=True) as lg2:
                Boom("slow", lg2, exc=KeyboardInterrupt()).run({})
        last = self.server.bodies()[-1]
        self.assertEqual((last["status"], last["error"]["type"]), ("cancelled", "KeyboardInterrupt"))


class LiveTest(LoggerCase):
    def wait_for(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(0.01)
        return False

    def test_a_live_run_is_created_at_once_and_each_node_sent_as_it_starts_and_ends(self):
        lg = self.logger(live=True, live_interval=0.01)
        self.assertTrue(self.wait_for(lambda: self.server.requests))
        first = self.server.bodies()[0]
        self.assertEqual(first["status"], "running")
        self.assertFalse(any(k in first for k in ("node_executions", "telemetry_events")))
        release, runner = support.waiting_flow(lg)

        def running_sent():
            return any(n["status"] == "running" for b in self.server.bodies()
                       for n in b.get("node_executions", []))

        self.assertTrue(self.wait_for(running_sent))
        release.set()
        runner.join(10)
        lg.mark_complete("success")
        self.assertEqual(lg.upload(), lg.execution_id)
        bodies = self.server.bodies()
        self.assertEqual({b["execution_id"] for b in bodies}, {lg.execution_id})
        self.assertEqual(bodies[-1]["status"], "success")
        self.assertTrue(all(b["status"] == "running" for b in bodies[:-1]))
        states = [(n["id"], n["status"]) for b in bodies for n in b.get("node_executions", [])]
        self.assertEqual([s for _, s in states], ["running", "success"])
        self.assertEqual(states[0][0], states[1][0])

    def test_a_live_run_with_the_server_away_is_spooled_in_order_and_drained_in_order(self):
        lg = self.logger(url=f"http://127.0.0.1:{support.closed_port()}", live=True, live_interval=0.01)
        with self.assertLogs("agora_cloud", "WARNING"):
            a = Put("a", lg, value=1)
            a >> Put("b", lg, value=2)
            for _ in range(3):
                AuditedFlow("f", lg, start=a).run({})
                time.sleep(0.05)
            lg.mark_complete("success")
            self.assertIsNone(lg.upload())
        names = self.spooled()
        self.assertGreater(len(names), 2)
        later = self.logger()
        later.upload()
        bodies = self.server.bodies()
        self.assertEqual(len(bodies), len(names))
        self.assertEqual([b["status"] for b in bodies], ["running"] * (len(bodies) - 1) + ["success"])
        self.assertEqual(len({n["id"] for b in bodies for n in b.get("node_executions", [])}), 6)


class ExitTest(LoggerCase):
    def test_a_workflow_that_dies_of_its_exception_is_delivered_with_the_error_at_exit(self):
        script = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {os.path.join(os.path.dirname(support.HERE), "src")!r})
            from agora_cloud import CloudAuditLogger, AuditedNode, AuditedFlow

            class Bad(AuditedNode):
                def exec(self, prep_res):
                    raise RuntimeError("the workflow's own error")

            logger = CloudAuditLogger("exit", {self.server.url!r}, access_token="t",
                                      workflow_id={support.WORKFLOW_ID!r}, spool_dir={self.spool_dir!r})
            flow = AuditedFlow("dies", logger)
            flow.start(Bad("bad", logger))
            flow.run({{}})
        """)
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("RuntimeError: the workflow's own error", r.stderr)
        (body,) = self.server.bodies()
        self.assertEqual(body["status"], "error")
        self.assertEqual(body["error"], {"type": "RuntimeError", "message": "the workflow's own error"})
        self.assertEqual(body["node_executions"][0]["status"], "error")


if __name__ == "__main__":
    unittest.main()
