"""Fixtures for the three-way merge: both systems on one clock the test moves, and the two passes of a cycle."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.sync.merge.support import state_config

from qbsf.sync.conflicts import ConflictPolicy
from qbsf.sync.inbound import InboundConfig, InboundSync


class Clock:
    """One wall clock for QuickBooks and Salesforce: an edit made after ``advance`` is the newer one."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def qb_sim(clock):
    """The QuickBooks simulator on the shared clock."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator(clock=clock)
    yield sim
    sim.close()


@pytest.fixture
def passes(world, clock) -> Callable[..., dict[str, Callable[[], Any]]]:
    """``passes(policy, **engine settings)`` → the cycle's two passes by name, each asserting it went well."""
    world.sf_state.clock = clock

    def make(policy: str = "newest", *, strict: bool = True, **settings: Any) -> dict[str, Callable[[], Any]]:
        """``strict``: each pass asserts no record failed (False: failures are the test's to look at)."""
        def sf_to_qb() -> Any:
            clock.advance(1)
            report = world.engine(conflict_policy=policy, **settings).sync_sf_to_qb()
            assert report.ok or not strict, report.failures
            return report

        def qb_to_sf() -> Any:
            clock.advance(1)
            report = InboundSync(InboundConfig(conflict_policy=ConflictPolicy.parse(policy)), world.sf, world.qb,
                                 world.state, world.mappings, clock=clock).run()
            assert report.ok or not strict, report.failures
            return report

        return {"sf_to_qb": sf_to_qb, "qb_to_sf": qb_to_sf}

    return make


@pytest.fixture
def shown_everywhere(world, tmp_path: Path) -> Callable[..., None]:
    """``shown_everywhere(*texts)``: see :func:`_shown_everywhere`."""
    return lambda *texts: _shown_everywhere(world, tmp_path, *texts)


def _shown_everywhere(world, tmp_path: Path, *texts: str) -> None:
    """A failure a user must act on is in the state's failures, `qbsf sync status`, `qbsf status` and the dashboard,
    each holding every one of ``texts``."""
    from fastapi.testclient import TestClient
    from markupsafe import escape
    from typer.testing import CliRunner

    from qbsf.app.cli import app
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard import create_app
    from qbsf.app.dashboard.app import Dashboard
    from qbsf.app.logging import LogBuffer

    failures = [f.message for f in world.state.failures()]
    assert any(all(text in message for text in texts) for message in failures), failures
    config = state_config(world, tmp_path)
    listed = CliRunner().invoke(app, ["sync", "--config", str(config), "status", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.dumps(row, ensure_ascii=False) for row in json.loads(listed.output)["failures"]]
    assert any(all(text in row for text in texts) for row in rows), rows
    status = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    assert json.loads(status.output.splitlines()[0])["failures"] == len(failures)
    board = Dashboard(app_context=AppContext(config=str(config), secrets=None), log_buffer=LogBuffer(),
                      state=world.state, allowed_hosts=("testserver",))
    page = TestClient(create_app(board)).get(f"/?token={board.token}").text
    assert all(str(escape(text)) in page for text in texts), "shown on the dashboard's failed records"
