import pytest

from qbsf.app.logging import configure_logging, reset_logging
from qbsf.bench.idle import measure_idle
from qbsf.errors import QbsfError


@pytest.fixture(autouse=True)
def quiet_logs():
    configure_logging(console=False)
    yield
    reset_logging()


def test_idle_cycle_costs_one_salesforce_call_and_only_delta_queries_in_quickbooks(sf_state) -> None:
    result = measure_idle(3, accounts=2, polling_interval=30, sf_state=sf_state)
    assert result.idle_cycles == 3
    # QB → SF runs every cycle by default: the modified-since reads of every inbound entity and the deletions reads
    # start in one message; a read with nothing new costs nothing more
    assert result.qb_messages_per_cycle <= 2
    assert len(result.qb_by_cycle) == 3 and max(result.qb_by_cycle) <= 2
    # the heartbeat and 15 reads — a SystemModstamp poll per synced Salesforce object, the Account read window's
    # COUNT() and digest (not settled yet), the sync requests and the in-org app's 6 reads — in one call to the
    # package's cycle resource
    assert result.sf_queries_by_cycle == (15, 15, 15), result
    assert result.sf_by_cycle == (1, 1, 1), result.line()
    assert result.first_idle_calls == ("POST apexrest/qbsf/cycle",), result.first_idle_calls
    assert result.sf_calls_per_hour == pytest.approx(120)
    assert "calls per idle hour at a 30 s polling interval" in result.line()


def test_with_an_older_package_the_reads_go_5_a_composite_call(sf_state) -> None:
    result = measure_idle(2, accounts=2, polling_interval=30, sf_state=sf_state, older_package=True)
    assert result.sf_queries_by_cycle == (14, 14), result
    assert result.sf_by_cycle == (3, 3), result.line()  # ⌈14 ÷ 5⌉, as Salesforce's composite limit allows


def test_cycles_must_be_positive() -> None:
    with pytest.raises(QbsfError, match="--cycles"):
        measure_idle(0)
