import pytest

from qbsf.app.bench_idle import measure_idle
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.errors import QbsfError


@pytest.fixture(autouse=True)
def quiet_logs():
    configure_logging(console=False)
    yield
    reset_logging()


def test_idle_cycle_sends_quickbooks_nothing_and_salesforce_a_heartbeat_and_one_poll_per_object(sf_state) -> None:
    result = measure_idle(3, accounts=2, polling_interval=30, sf_state=sf_state)
    assert result.idle_cycles == 3
    assert result.qb_messages == 0, "nothing changed: QuickBooks must not be asked anything"
    # one composite call (heartbeat + sync requests) and, for the example mappings' Account, Contact, Product2 and
    # Opportunity, at most one poll each
    assert 1 <= result.sf_calls_per_cycle <= 5
    assert result.sf_calls_per_hour == pytest.approx(result.sf_calls_per_cycle * 120)
    assert "calls per idle hour at a 30 s polling interval" in result.line()


def test_cycles_must_be_positive() -> None:
    with pytest.raises(QbsfError, match="--cycles"):
        measure_idle(0)
