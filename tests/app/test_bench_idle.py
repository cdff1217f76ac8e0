import pytest

from qbsf.app.bench_idle import measure_idle
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.errors import QbsfError


@pytest.fixture(autouse=True)
def quiet_logs():
    configure_logging(console=False)
    yield
    reset_logging()


def test_an_idle_cycle_sends_quickbooks_nothing_and_salesforce_one_query_per_mapped_object(sf_state) -> None:
    result = measure_idle(3, accounts=2, polling_interval=30, sf_state=sf_state)
    assert result.idle_cycles == 3
    assert result.qb_messages == 0, "nothing changed: QuickBooks must not be asked anything"
    # the example mappings cover Account, Contact, Product2 and Opportunity: at most one poll each per cycle
    assert 0 < result.sf_calls_per_cycle <= 4
    assert result.sf_calls_per_hour == pytest.approx(result.sf_calls_per_cycle * 120)
    assert "calls per idle hour at a 30 s polling interval" in result.line()


def test_cycles_must_be_positive() -> None:
    with pytest.raises(QbsfError, match="--cycles"):
        measure_idle(0)
