"""The full demo: both emulated systems seeded under one folder, the connector and its dashboard (`qbsf demo`).

Public API: :class:`DemoStack` (``start()``, ``run_once() -> DemoSummary``, ``close()``), :func:`seed_once`,
:func:`summarise`.
"""

from qbsf.app.demo.seed import SeedCounts, seed_once
from qbsf.app.demo.stack import DEFAULT_DIR, DemoStack
from qbsf.app.demo.summary import DemoSummary, summarise

__all__ = ["DEFAULT_DIR", "DemoStack", "DemoSummary", "SeedCounts", "seed_once", "summarise"]
