"""Unit tests of framework.py: the node's three phases, retries and
fallback, successors by action, and flows (also nested), without
telemetry."""

import unittest
import warnings

import support  # noqa: F401  (puts the package on sys.path)
from agora_cloud import Flow, Node


class Step(Node):
    """Appends its name to shared["path"]; post returns shared["go"].pop(0)
    when there is one (the action)."""

    def prep(self, shared):
        return shared.setdefault("path", [])

    def exec(self, path):
        return self.name

    def post(self, shared, path, name):
        path.append(name)
        go = shared.get("go")
        return go.pop(0) if go else None


class Flaky(Node):
    def __init__(self, failures, **kw):
        super().__init__("flaky", **kw)
        self.failures = failures
        self.calls = 0

    def exec(self, prep_res):
        self.calls += 1
        if self.calls <= self.failures:
            raise ValueError(f"attempt {self.calls}")
        return "ok"

    def post(self, shared, prep_res, exec_res):
        shared["result"] = exec_res


class FrameworkTest(unittest.TestCase):
    def test_phases_pass_their_results_along_and_post_gives_the_action(self):
        class N(Node):
            def prep(self, shared):
                return shared["x"]

            def exec(self, x):
                return x * 2

            def post(self, shared, x, doubled):
                shared["y"] = doubled
                return "done"

        shared = {"x": 21}
        self.assertEqual(N().run(shared), "done")
        self.assertEqual(shared["y"], 42)

    def test_a_node_is_named_after_its_class_by_default(self):
        self.assertEqual(Step().name, "Step")
        self.assertEqual(Step("s").name, "s")

    def test_exec_is_retried_up_to_max_retries_attempts(self):
        node = Flaky(2, max_retries=3)
        shared = {}
        node.run(shared)
        self.assertEqual((node.calls, shared["result"]), (3, "ok"))

    def test_the_last_failure_propagates_unchanged_by_default(self):
        node = Flaky(5, max_retries=2)
        with self.assertRaises(ValueError) as cm:
            node.run({})
        self.assertEqual((str(cm.exception), node.calls), ("attempt 2", 2))

    def test_exec_fallback_decides_after_the_last_failure(self):
        class Soft(Flaky):
            def exec_fallback(self, prep_res, exc):
                return f"fallback after {exc}"

        shared = {}
        Soft(9, max_retries=2).run(shared)
        self.assertEqual(shared["result"], "fallback after attempt 2")

    def test_max_retries_counts_attempts(self):
        with self.assertRaises(ValueError):
            Node(max_retries=0)

    def test_a_flow_follows_actions_and_returns_the_last_one(self):
        a, b, c, d = Step("a"), Step("b"), Step("c"), Step("d")
        a >> b
        b - "left" >> c
        b - "right" >> d
        flow = Flow("f")
        self.assertIs(flow.start(a), a)
        shared = {"go": [None, "right", "end"]}
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            self.assertEqual(flow.run(shared), "end")
        self.assertEqual(shared["path"], ["a", "b", "d"])

    def test_an_action_without_successor_ends_the_flow_with_a_warning(self):
        a, b = Step("a"), Step("b")
        a - "yes" >> b
        shared = {"go": ["no"]}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Flow(start=a).run(shared)
        self.assertEqual(shared["path"], ["a"])
        self.assertIn("'no'", str(caught[0].message))

    def test_loops_run_a_node_again(self):
        a = Step("a")
        a - "again" >> a
        shared = {"go": ["again", "again"]}
        with warnings.catch_warnings(record=True):  # the last action, default, has no successor
            warnings.simplefilter("always")
            Flow(start=a).run(shared)
        self.assertEqual(shared["path"], ["a", "a", "a"])

    def test_flows_nest(self):
        inner = Flow("inner", start=Step("i"))
        outer = Flow("outer")
        outer.start(Step("o1")) >> inner >> Step("o2")
        shared = {}
        outer.run(shared)
        self.assertEqual(shared["path"], ["o1", "i", "o2"])

    def test_a_flow_without_start_says_so(self):
        with self.assertRaises(ValueError):
            Flow("empty").run({})


if __name__ == "__main__":
    unittest.main()
