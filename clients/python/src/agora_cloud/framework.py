"""The workflow framework's shape, without telemetry: nodes with three
phases, successors chosen by action, retries, and a flow that runs them.

A node runs ``prep(shared)``, ``exec(prep_res)`` and
``post(shared, prep_res, exec_res)``; what post returns is the *action*
that picks the next node (None means "default"). ``exec`` is attempted up
to ``max_retries`` times, ``wait`` seconds apart; after the last failure
``exec_fallback(prep_res, exc)`` decides (by default it raises). A flow
starts at ``flow.start(node)`` and follows ``node.next(other, action)``
(also written ``node >> other`` and ``node - "action" >> other``) until a
node's action has no successor.

audited.py builds AuditedNode and AuditedFlow on these classes; the
``_observer`` hook is how a node's retries reach the telemetry without
this module knowing about it.
"""

import time
import warnings


class BaseNode:
    """A node: its name, params, successors and the three phases."""

    def __init__(self, name=None):
        self.name = name if name is not None else type(self).__name__
        self.params = {}
        self.successors = {}

    def set_params(self, params):
        self.params = params

    def next(self, node, action="default"):
        """node follows self when self's post returns action; returns node,
        so chains read left to right."""
        if action in self.successors:
            warnings.warn(f"overwriting the successor of {self.name!r} for action {action!r}", stacklevel=2)
        self.successors[action] = node
        return node

    def prep(self, shared):
        return None

    def exec(self, prep_res):
        return None

    def post(self, shared, prep_res, exec_res):
        return None

    def _exec(self, prep_res):
        return self.exec(prep_res)

    def _run(self, shared):
        prep_res = self.prep(shared)
        exec_res = self._exec(prep_res)
        return self.post(shared, prep_res, exec_res)

    def run(self, shared):
        """Runs this node alone (its successors are a flow's business)."""
        if self.successors:
            warnings.warn(f"{self.name!r} has successors, which only a Flow runs", stacklevel=2)
        return self._run(shared)

    def __rshift__(self, other):
        return self.next(other)

    def __sub__(self, action):
        if isinstance(action, str):
            return _Transition(self, action)
        raise TypeError("node - action needs the action as a str")

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


class _Transition:
    """The ``node - "action"`` half of ``node - "action" >> other``."""

    def __init__(self, src, action):
        self.src, self.action = src, action

    def __rshift__(self, other):
        return self.src.next(other, self.action)


class Node(BaseNode):
    """A node whose exec is retried: max_retries attempts in all (1: no
    retry), wait seconds between them."""

    # Set while a telemetry recorder runs this node: told of every failed
    # attempt (see audited.py). None otherwise.
    _observer = None

    def __init__(self, name=None, max_retries=1, wait=0):
        super().__init__(name)
        if int(max_retries) < 1:
            raise ValueError("max_retries counts attempts: at least 1")
        self.max_retries = int(max_retries)
        self.wait = wait
        self.cur_retry = 0

    def exec_fallback(self, prep_res, exc):
        """Called with the last attempt's exception; its return value is
        exec's result. By default the exception propagates."""
        raise exc

    def _exec(self, prep_res):
        for self.cur_retry in range(self.max_retries):
            try:
                return self.exec(prep_res)
            except Exception as exc:
                last = self.cur_retry == self.max_retries - 1
                observer = self._observer
                if observer is not None:
                    observer.attempt_failed(exc, self.cur_retry, last, 0 if last else self.wait)
                if last:
                    result = self.exec_fallback(prep_res, exc)
                    if observer is not None:
                        observer.fell_back(exc)
                    return result
                if self.wait > 0:
                    time.sleep(self.wait)
        return None  # not reached: max_retries >= 1


class Flow(BaseNode):
    """Runs nodes from its start node, following actions. A flow is a node
    too, so flows nest."""

    def __init__(self, name=None, start=None):
        super().__init__(name)
        self.start_node = start

    def start(self, node):
        """Sets the first node; returns it, for chaining."""
        self.start_node = node
        return node

    def get_next_node(self, curr, action):
        action = action or "default"
        nxt = curr.successors.get(action)
        if nxt is None and curr.successors:
            warnings.warn(f"flow ends: action {action!r} of {curr.name!r} not among {list(curr.successors)}",
                          stacklevel=3)
        return nxt

    def _run_node(self, node, shared, prev):
        """Runs one node of the flow; returns its action. prev: the node
        this flow ran just before (None for the first)."""
        return node._run(shared)

    def _orch(self, shared, params=None):
        if self.start_node is None:
            raise ValueError(f"flow {self.name!r} has no start node: call flow.start(node)")
        curr = self.start_node
        params = params if params is not None else dict(self.params)
        action = None
        prev = None
        while curr is not None:
            curr.set_params(params)
            action = self._run_node(curr, shared, prev)
            prev, curr = curr, self.get_next_node(curr, action)
        return action

    def _run(self, shared):
        prep_res = self.prep(shared)
        action = self._orch(shared)
        return self.post(shared, prep_res, action)

    def post(self, shared, prep_res, exec_res):
        """By default a flow's result is its last node's action."""
        return exec_res
