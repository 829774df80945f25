"""AuditedNode and AuditedFlow: the framework's Node and Flow, recorded by a
CloudAuditLogger.

    node = MyNode("processor", logger)      # or MyNode(logger, "processor")
    flow = AuditedFlow("MyFlow", logger)
    flow.start(node)
    flow.run(shared)

Every node a flow runs is recorded (phase times, retries, action, error,
events, spans, and the shared state before and after it), AuditedNode or
not: a plain Node in an AuditedFlow is recorded with the flow's logger. An
AuditedNode run on its own (``node.run(shared)``) or in a plain Flow is
recorded with its own logger. An exception raised by a node is recorded and
then propagates unchanged, the same object with its traceback.
"""

import time

from .framework import BaseNode, Flow, Node
from .logger import CloudAuditLogger


def _name_and_logger(name, audit_logger):
    """Accepts both argument orders: (name, logger), as the examples write
    it, and (logger, name)."""
    if isinstance(name, CloudAuditLogger) and not isinstance(audit_logger, CloudAuditLogger):
        name, audit_logger = audit_logger, name
    if audit_logger is not None and not isinstance(audit_logger, CloudAuditLogger):
        raise TypeError(f"audit_logger must be a CloudAuditLogger, not {type(audit_logger).__name__}")
    return name, audit_logger


def run_recorded(node, logger, shared, reuse_state=False):
    """Runs node's three phases, recorded by logger; returns the action.
    reuse_state: the last node recorded ran on this shared dict just
    before, so its "after" copy serves as this one's "before"."""
    run = logger._node_begin(node, shared, reuse_state)
    if run is None:
        return BaseNode._run(node, shared)
    marks = run.marks
    phase = "prep"
    node._observer = run
    try:
        marks[0] = time.perf_counter()
        prep_res = node.prep(shared)
        marks[1] = time.perf_counter()
        phase = "exec"
        exec_res = node._exec(prep_res)
        marks[2] = time.perf_counter()
        phase = "post"
        action = node.post(shared, prep_res, exec_res)
        marks[3] = time.perf_counter()
    except BaseException as exc:
        node._observer = None
        logger._node_end(run, shared, None, exc, phase)
        raise
    node._observer = None
    logger._node_end(run, shared, action, None, None)
    return action


class AuditedNode(Node):
    """A Node recorded by its logger (or, in an AuditedFlow without one of
    its own, by the flow's)."""

    def __init__(self, name=None, audit_logger=None, max_retries=1, wait=0):
        name, audit_logger = _name_and_logger(name, audit_logger)
        super().__init__(name, max_retries, wait)
        self.audit_logger = audit_logger

    def _run(self, shared):
        if self.audit_logger is None:
            return super()._run(shared)
        return run_recorded(self, self.audit_logger, shared)


class AuditedFlow(Flow):
    """A Flow recorded by its logger: its own span and events, and every
    node it runs."""

    def __init__(self, name=None, audit_logger=None, start=None):
        name, audit_logger = _name_and_logger(name, audit_logger)
        super().__init__(name, start)
        self.audit_logger = audit_logger

    def _logger_of(self, node):
        return getattr(node, "audit_logger", None) or self.audit_logger

    def _run_node(self, node, shared, prev):
        logger = self._logger_of(node)
        if logger is None or isinstance(node, Flow):
            return node._run(shared)
        # Between a node recorded by this logger and the next one only the
        # flow's own loop runs: the state is the one just copied.
        reuse = prev is not None and not isinstance(prev, Flow) and self._logger_of(prev) is logger
        return run_recorded(node, logger, shared, reuse_state=reuse)

    def get_next_node(self, curr, action):
        nxt = super().get_next_node(curr, action)
        if nxt is not None and self.audit_logger is not None:
            self.audit_logger._transition(curr, nxt, action)
        return nxt

    def _run(self, shared):
        logger = self.audit_logger
        if logger is None:
            return super()._run(shared)
        token = logger._flow_begin(self)
        try:
            result = super()._run(shared)
        except BaseException as exc:
            logger._flow_end(token, None, exc)
            raise
        logger._flow_end(token, result, None)
        return result
