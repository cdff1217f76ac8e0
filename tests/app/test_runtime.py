import io
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qbsf.app.license import license_status
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.app.runtime import Connector, Heartbeat, State, count_report
from qbsf.app.settings import Settings
from qbsf.errors import ConfigError, Retriable
from qbsf.sync.outbound import EntityReport


@pytest.fixture
def console():
    stream = io.StringIO()
    configure_logging(console=stream)
    yield stream
    reset_logging()


def settings(**sync) -> Settings:
    return Settings.model_validate({"sync": {"polling_interval": 3600, **sync}})


def wait_for(predicate, timeout: float = 5.0) -> None:
    end = datetime.now(UTC) + timedelta(seconds=timeout)
    while not predicate():
        assert datetime.now(UTC) < end, "condition not reached"
        threading.Event().wait(0.005)


def test_startup_lines_then_cycles_then_clean_stop(console, tmp_path: Path, make_systems) -> None:
    systems = make_systems()
    hb = Heartbeat(tmp_path / "heartbeat.json")
    connector = Connector(systems, settings(), machine_id="ABCD-1234-EF56-7890",
                          license=license_status("", machine="ABCD-1234-EF56-7890"), heartbeat=hb)
    assert connector.start()
    assert not connector.start()  # already running
    wait_for(lambda: hb.read() is not None)  # the heartbeat is the last step of a cycle
    status = connector.status()
    assert status.state == State.RUNNING and status.salesforce and status.quickbooks
    assert status.last_cycle.synced == 3 and status.last_cycle.failed == 0
    assert hb.online() and hb.read()["cycle"] == 1
    connector.stop(wait=5)
    assert connector.status().state == State.STOPPED
    assert not systems.qb_open
    assert not hb.online() and hb.read()["state"] == "stopped"  # offline at once after a clean stop
    lines = console.getvalue().splitlines()
    text = "\n".join(lines)
    assert "qbsf " in lines[0] and "Machine ID: ABCD-1234-EF56-7890" in text
    assert "✓ License: free edition (no key)" in text
    assert "✓ Salesforce — Connected (ann@example.com)" in text
    assert "✓ QuickBooks — Connected (Demo Company)" in text
    assert "✓ 3 synced, ✗ 0 failed" in text
    assert lines[-1].endswith("✓ Sync engine stopped")


def test_quickbooks_three_attempts_then_the_manuals_message_and_a_clean_stop(console, make_systems) -> None:
    systems = make_systems(qb_failures=5)
    connector = Connector(systems, settings(), retry_delay=0)
    assert connector.run() == 1
    assert systems.qb_connects == 3 and systems.requests == []
    text = console.getvalue()
    assert text.count("QuickBooks connection attempt") == 3
    assert "✗ Could not connect to QuickBooks after 3 attempts" in text
    assert text.rstrip().endswith("✓ Sync engine stopped")
    assert connector.status().error.startswith("Could not connect to QuickBooks after 3 attempts")
    assert connector.status().state == State.STOPPED


def test_quickbooks_second_attempt_succeeds(console, make_systems) -> None:
    systems = make_systems(qb_failures=1)
    connector = Connector(systems, settings(), retry_delay=0)
    connector.start()
    wait_for(lambda: connector.status().cycles == 1)
    connector.stop(wait=5)
    assert systems.qb_connects == 2
    assert "✓ QuickBooks — Connected" in console.getvalue()


def test_a_non_retriable_quickbooks_error_is_not_retried(console, make_systems) -> None:
    systems = make_systems(qb_failures=5, qb_error=ConfigError)
    assert Connector(systems, settings(), retry_delay=0).run() == 1
    assert systems.qb_connects == 1
    assert "✗ QuickBooks connection refused: QuickBooks is not running" in console.getvalue()


def test_salesforce_failure_stops_before_quickbooks(console, make_systems) -> None:
    class NoSalesforce(make_systems):
        def connect_salesforce(self) -> str:
            raise ConfigError("invalid_client_id")

    systems = NoSalesforce()
    assert Connector(systems, settings()).run() == 1
    assert systems.qb_connects == 0
    assert "✗ Salesforce authentication failed: invalid_client_id" in console.getvalue()


def test_stop_finishes_the_record_in_hand_and_closes_the_session(console, make_systems) -> None:
    systems = make_systems(records=1000, record_seconds=0.002)
    connector = Connector(systems, settings())
    connector.start()
    systems.cycle_started.wait(5)
    wait_for(lambda: systems.processed >= 3)
    connector.stop(wait=5)
    assert 3 <= systems.processed < 1000  # stopped mid-batch, between records
    assert not systems.qb_open
    assert console.getvalue().rstrip().endswith("✓ Sync engine stopped")


def test_triggers_wake_the_loop_and_ask_for_full_syncs(console, make_systems) -> None:
    systems = make_systems()
    connector = Connector(systems, settings(inbound_every=10))
    connector.start()
    wait_for(lambda: len(systems.requests) == 1)
    assert systems.requests[0].inbound  # the first cycle runs both ways
    connector.trigger_outbound()
    wait_for(lambda: len(systems.requests) == 2)
    second = systems.requests[1]
    assert second.full_outbound and not second.full_inbound and not second.inbound  # cycle 2 of 10: no inbound
    connector.trigger_inbound()
    wait_for(lambda: len(systems.requests) == 3)
    assert systems.requests[2].full_inbound and systems.requests[2].inbound
    connector.stop(wait=5)
    assert "Manual SF → QB sync requested" in console.getvalue()


def test_inbound_runs_every_n_cycles_and_interval_reloads(console, make_systems) -> None:
    systems = make_systems()
    on_disk = [settings(inbound_every=2, polling_interval=3600)]  # what the settings file says, changed below
    connector = Connector(systems, on_disk[0], reload_settings=lambda: on_disk[0])
    connector.start()
    wait_for(lambda: len(systems.requests) >= 1)
    on_disk[0] = settings(inbound_every=2, polling_interval=0.01)
    connector.run_now()  # the long interval would otherwise hold the loop; the change applies at this cycle
    wait_for(lambda: len(systems.requests) >= 4)
    connector.stop(wait=5)
    assert [r.inbound for r in systems.requests[:4]] == [True, False, True, False]
    assert "Polling interval now 0.01 s" in console.getvalue()


def test_a_failing_cycle_is_logged_and_the_loop_goes_on(console, make_systems) -> None:
    systems = make_systems()
    systems.raise_in_cycle = RuntimeError("bug in a mapping")
    connector = Connector(systems, settings(polling_interval=0.01))
    connector.start()
    wait_for(lambda: len(systems.requests) >= 2)
    connector.stop(wait=5)
    assert connector.history[0].error == "RuntimeError: bug in a mapping"
    assert connector.history[1].error is None
    assert "✗ Cycle 1 crashed: RuntimeError" in console.getvalue()


def test_a_cycle_whose_begin_or_end_fails_unexpectedly_does_not_stop_the_loop(console, make_systems) -> None:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    class Failing(make_systems):
        """The package's begin and end steps fail once each with what a starved state database's pool raises."""

        begins = ends = 0

        def begin_cycle(self, *, quickbooks_connected: bool):
            self.begins += 1
            if self.begins == 1:
                raise PoolTimeout("QueuePool limit of size 10 overflow 40 reached, connection timed out")
            return None

        def end_cycle(self, summary) -> None:
            self.ends += 1
            if self.ends == 2:
                raise PoolTimeout("QueuePool limit of size 10 overflow 40 reached, connection timed out")

    systems = Failing()
    connector = Connector(systems, settings(polling_interval=0.01))
    connector.start()
    # Before, the begin step's error ended the connector's thread: no cycle ran and nothing said so in the status.
    wait_for(lambda: len(connector.history) >= 3)
    connector.stop(wait=5)
    assert systems.processed >= 9 and [c.error for c in connector.history[:3]] == [None, None, None]
    log = console.getvalue()
    assert "✗ Heartbeat not sent and sync requests not read: TimeoutError" in log
    assert "✗ Cycle 2: its end not written to Salesforce: TimeoutError" in log


def test_losing_quickbooks_mid_run_reconnects_next_cycle(console, make_systems) -> None:
    systems = make_systems()
    systems.raise_in_cycle = Retriable("QuickBooks session lost (0x8004041A)")
    connector = Connector(systems, settings(polling_interval=0.01), retry_delay=0)
    connector.start()
    wait_for(lambda: len(systems.requests) >= 2)
    connector.stop(wait=5)
    assert systems.qb_connects == 2


def test_heartbeat_online_window(tmp_path: Path) -> None:
    hb = Heartbeat(tmp_path / "hb.json")
    assert not hb.online()
    hb.beat(cycle=1)
    assert hb.online()
    assert not hb.online(now=datetime.now(UTC) + timedelta(minutes=3))
    (tmp_path / "hb.json").write_text("garbage")
    assert hb.read() is None and not hb.online()


def test_count_report_understands_the_shapes_engines_return() -> None:
    assert count_report(None) == (0, 0)
    assert count_report({"synced": 4, "failed": 1}) == (4, 1)
    assert count_report(EntityReport(created=2, updated=3, linked=1, failed=2, unchanged=9)) == (6, 2)
    assert count_report({"Account": EntityReport(created=1), "Item": {"synced": 2, "failed": 1}}) == (3, 1)


def test_every_setting_applies_on_start(console, make_systems) -> None:
    applied = []

    class Recording(make_systems):
        def apply_settings(self, settings) -> None:
            applied.append(settings)

    systems = Recording()
    fresh = settings(polling_interval=120, conflict_policy="salesforce")
    connector = Connector(systems, settings(), reload_settings=lambda: fresh)
    connector.start()
    wait_for(lambda: connector.status().cycles == 1)
    connector.stop(wait=5)
    assert connector.settings.sync.conflict_policy == "salesforce"
    assert connector.status().polling_interval == 120
    assert applied == [fresh]
