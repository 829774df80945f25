"""Agora Cloud's Python client: record workflow executions and send them to
Agora Cloud (standard library only).

    from agora_cloud import CloudAuditLogger, AuditedNode, AuditedFlow

CloudAuditLogger records and uploads one execution (logger.py);
AuditedNode and AuditedFlow are the framework's node and flow with that
recording built in (audited.py); Node, Flow and BaseNode are the same
without it (framework.py).
"""

from ._version import __version__
from .audited import AuditedFlow, AuditedNode
from .framework import BaseNode, Flow, Node
from .logger import CloudAuditLogger

__all__ = ["CloudAuditLogger", "AuditedNode", "AuditedFlow", "BaseNode", "Node", "Flow", "__version__"]
