"""The hosted admin page: every company with its status lights, last Web Connector session and failures; its
Connect Salesforce button obeys the dashboard's same-origin and CSRF rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from qbsf.app.context import AppContext
from qbsf.app.dashboard import Dashboard
from qbsf.app.hosted import HostedLogin, Tenancy
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.quickbooks.webconnector.bridge import CompanyStatus, SessionRecord
from qbsf.secret_box import KeyRing, new_key
from qbsf.sync.state import Direction, FailureInput
from qbsf.sync.tenants import TenantRegistry


@pytest.fixture
def board(tmp_path: Path, config_file: Path, memory_secrets, sf_emulator):
    url = str(tmp_path / "state.db")
    settings = tmp_path / "acme.toml"
    settings.write_text(f'[salesforce]\ninstance_url = "{sf_emulator.url}"\nclient_id = "{sf_emulator.client_id}"\n',
                        encoding="utf-8")
    with TenantRegistry(url) as registry:
        registry.add("acme", name="Acme Corp", config=str(settings))
        registry.add("beta", name="Beta & Sons <Ltd>")
    tenancy = Tenancy(url, ring=KeyRing.parse(new_key(), source="test"))
    tenancy.store("beta").fail_many("Account", Direction.SF_TO_QB, [
        FailureInput("001Q00000000001AAA", "NeedsUser", "The name Initech is already used by a Vendor")])
    tenancy.secrets("acme").set("salesforce.refresh_token", "5Aep861-token")
    now = datetime.now(UTC)
    statuses = [CompanyStatus("acme", False, SessionRecord(3, now - timedelta(minutes=2), now - timedelta(minutes=1),
                                                           "completed", 12), now + timedelta(minutes=3), 0),
                CompanyStatus("beta", False, SessionRecord(7, now - timedelta(minutes=9), now - timedelta(minutes=8),
                                                           "cut off: QuickBooks is closed", 2), None, 0)]
    dash = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=configure_logging(console=False),
                     allowed_hosts=("testserver",), tenancy=tenancy, webconnector_statuses=lambda: statuses,
                     hosted_login=HostedLogin(tenancy, "https://qbsf.example.com"))
    yield dash
    tenancy.close()
    reset_logging()


def _row(page: str, company: str) -> str:
    start = page.index(f'data-company="{company}"')
    return page[start:page.index("</tr>", start)]


def test_every_company_with_its_lights_session_and_failures(board, dashboard_client) -> None:
    client = dashboard_client(board)
    page = client.get("/admin").text
    acme, beta, default = _row(page, "acme"), _row(page, "beta"), _row(page, "default")
    assert 'data-light="Web Connector" data-level="ok"' in acme and "#3 completed" in acme
    assert 'data-light="Salesforce" data-level="ok"' in acme and 'data-light="Sync" data-level="ok"' in acme
    assert 'data-light="Web Connector" data-level="fail"' in beta and "QuickBooks is closed" in beta
    assert 'data-light="Salesforce" data-level="warn"' in beta and "not connected" in beta
    assert 'data-light="Sync" data-level="fail"' in beta and "1 (1 waiting for you)" in beta
    assert "Account 001Q00000000001AAA: The name Initech is already used by a Vendor" in beta
    assert "Beta &amp; Sons &lt;Ltd&gt;" in beta, "names are escaped"
    assert "not registered with this server" in default
    assert "5Aep861-token" not in page
    companies = {c["id"]: c for c in client.get("/api/admin/companies").json()["companies"]}
    assert set(companies) == {"acme", "beta", "default"} and companies["beta"]["parked"] == 1


def test_connect_salesforce_is_same_origin_only_and_goes_to_the_authorize_page(board, dashboard_client,
                                                                               sf_emulator) -> None:
    client = dashboard_client(board)
    assert client.post("/admin/companies/acme/salesforce-login", headers={"Origin": "http://evil.example"},
                       follow_redirects=False).status_code == 403
    assert client.post("/admin/companies/acme/salesforce-login", headers={"X-CSRF-Token": "wrong"},
                       follow_redirects=False).status_code == 403
    answer = client.post("/admin/companies/acme/salesforce-login", follow_redirects=False)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == sf_emulator.url and target.path == "/services/oauth2/authorize"
    assert "redirect_uri=https%3A%2F%2Fqbsf.example.com%2Fsalesforce%2Fcallback" in target.query
    unset = client.post("/admin/companies/beta/salesforce-login", follow_redirects=False)
    assert unset.status_code == 303 and "no+Salesforce" not in unset.headers["location"]
    assert "/admin?notice=" in unset.headers["location"]


def test_admin_page_is_absent_without_companies(dashboard_client, config_file, memory_secrets) -> None:
    dash = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=configure_logging(console=False),
                     allowed_hosts=("testserver",))
    try:
        assert dashboard_client(dash).get("/admin").status_code == 404
    finally:
        reset_logging()


def test_the_last_session_comes_from_the_shared_tables_whichever_worker_served_it(board, dashboard_client) -> None:
    from sqlalchemy import update

    from qbsf.quickbooks.webconnector.shared import SharedSessions, _record_json, wc_company

    # A worker of `qbsf serve` served beta's latest session: this process only saw an older one (#7, cut off).
    shared = SharedSessions(board.tenancy.registry().state.engine, listen=False)
    shared.ensure_company("beta")
    now = datetime.now(UTC)
    record = SessionRecord(42, now - timedelta(seconds=30), now - timedelta(seconds=10), "completed", 5)
    with shared.begin() as connection:
        connection.execute(update(wc_company).where(wc_company.c.company == "beta").values(
            last_session=_record_json(record)))
    shared.close()
    client = dashboard_client(board)
    beta = _row(client.get("/admin").text, "beta")
    assert 'data-light="Web Connector" data-level="ok"' in beta and "#42 completed" in beta
    assert "QuickBooks is closed" not in beta
    acme = _row(client.get("/admin").text, "acme")
    assert "#3 completed" in acme, "a company the shared tables do not know keeps this process's session"
    board.webconnector_statuses = None  # a dashboard beside no endpoint at all (the workers serve /qbwc)
    companies = {c["id"]: c for c in client.get("/api/admin/companies").json()["companies"]}
    assert companies["beta"]["session"]["number"] == 42 and companies["beta"]["session"]["outcome"] == "completed"
