"""The Web Connector's login throttle behind several workers: counted in the shared database per company and
client address — a caller cannot dodge its delay by reaching another worker, and wrong passwords for one company
never hold back another company's Web Connector from the same address."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from tests.hosted.support import web_connector_worker

from qbsf.quickbooks.webconnector.service import INVALID_USER
from qbsf.quickbooks.webconnector.shared import SharedWebConnectorService
from qbsf.quickbooks.webconnector.users import hash_password
from qbsf.sync.state import StateStore

COMPANIES = {"acme": "acme-password-1", "beta": "beta-password-1"}
HASHES = {company: hash_password(password, cost=2**10) for company, password in COMPANIES.items()}
OFFICE, ELSEWHERE = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def two_workers(hosted_url) -> Iterator[tuple[list[SharedWebConnectorService], list[float]]]:
    now = [1_000_000.0]
    # each worker its own pool and its own users, as separate processes have
    services = [web_connector_worker(hosted_url, HASHES, lambda: now[0]) for _number in range(2)]
    yield services, now
    for service in services:
        service.shared.close()
        service.store.close()


def _login(service: SharedWebConnectorService, company: str, address: str, *, right: bool = True) -> str:
    password = COMPANIES[company] if right else "guess"
    return service.authenticate(f"{company}-qbwc", password, client=address)[1]


def test_a_delay_earned_on_one_worker_holds_on_the_other_for_that_company_only(two_workers, caplog) -> None:
    (one, two), now = two_workers
    for _attempt in range(4):  # three free failures, then a delay
        assert _login(one, "acme", OFFICE, right=False) == INVALID_USER
    with caplog.at_level(logging.WARNING):
        assert _login(two, "acme", OFFICE) == INVALID_USER, "the right password waits out the delay elsewhere too"
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused and "failed attempts for company acme from this address; next attempt allowed in 2 s" in \
        refused[0] and OFFICE in refused[0]
    assert _login(two, "beta", OFFICE) != INVALID_USER, "another company from the same office is not held back"
    assert _login(one, "acme", ELSEWHERE) != INVALID_USER, "acme from another address is not held back"

    rows = {(row["company"], row["client"]): row for row in two.login_throttles()}
    assert rows[("acme", OFFICE)]["failures"] == 4 and rows[("acme", OFFICE)]["refused"] == 1
    assert ("beta", OFFICE) not in rows

    now[0] += 3  # the delay has passed: the right password gets in, and the failures are forgotten
    assert _login(one, "acme", OFFICE) != INVALID_USER
    assert ("acme", OFFICE) not in {(row["company"], row["client"]) for row in two.login_throttles()}


def test_guessed_user_names_hold_back_only_the_guessing(two_workers, caplog) -> None:
    (one, two), _now = two_workers
    for number in range(30):
        assert one.authenticate(f"guess-{number}", "x", client=OFFICE)[1] == INVALID_USER
    with caplog.at_level(logging.WARNING):
        assert two.authenticate("guess-99", "x", client=OFFICE)[1] == INVALID_USER
    assert "failed attempts with user names no company has, from this address" in caplog.text
    assert _login(two, "acme", OFFICE) != INVALID_USER and _login(one, "beta", OFFICE) != INVALID_USER
    rows = two.login_throttles()
    assert [(row["company"], row["client"]) for row in rows] == [("", OFFICE)]
    assert (rows[0]["failures"], rows[0]["refused"]) == (4, 27), "refused guesses are turned away unchecked"


def test_a_database_of_the_previous_revision_gets_the_throttle_table(tmp_path) -> None:
    """Revision 0008 adds wc_login_throttle to a database made at 0007 (the first hosted build); rows kept."""
    from sqlalchemy import create_engine, insert, inspect, select

    from qbsf.quickbooks.webconnector.shared import SharedLoginThrottle, wc_company
    from qbsf.sync import migrations

    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrations.upgrade(connection, "0007_hosted_workers")
        assert not inspect(connection).has_table("wc_login_throttle")
        connection.execute(insert(wc_company).values(
            company="acme", engine_epoch=3, wanted=False, announced=False, finished=False, engine_activity=0.0,
            percent_shown=0, sessions_opened=9, iterators="", country="US", company_file="", cycles=5,
            records_synced=12, records_failed=0))
    engine.dispose()
    with StateStore(path) as store:
        with store.engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head()
            assert connection.execute(select(wc_company.c.sessions_opened)).scalars().all() == [9]
        throttle = SharedLoginThrottle(store.engine, lambda _name: "acme")
        throttle.failed("acme-qbwc", OFFICE)
        assert [(s.username, s.client, s.failures) for s in throttle.statuses()] == [("acme", OFFICE, 1)]
