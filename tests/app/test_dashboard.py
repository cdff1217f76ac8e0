import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from qbsf.app import license as lic
from qbsf.app.context import AppContext
from qbsf.app.dashboard import Dashboard, create_app, dashboard_url
from qbsf.app.logging import configure_logging, get_logger, reset_logging
from qbsf.app.runtime import Connector, Heartbeat, State
from qbsf.app.settings import Settings, chart_from_records, load_settings
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sync.state import Activity, Direction, FailureInput, Outcome, StateStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
MID = "AAAA-BBBB-CCCC-DDDD"


@pytest.fixture
def state(tmp_path: Path):
    store = StateStore(tmp_path / "state.db")
    yield store
    store.close()


@pytest.fixture
def buffer():
    buf = configure_logging(console=False)
    yield buf
    reset_logging()


@pytest.fixture
def dash(config_file: Path, tmp_path: Path, memory_secrets, state, buffer, make_systems) -> Dashboard:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'mappings_dir = "{tmp_path / "mappings"}"\n[sync]\npolling_interval = 3600\n')
    systems = make_systems()
    app_context = AppContext(secrets=memory_secrets)
    settings = app_context.load().settings
    connector = Connector(systems, settings, machine_id=MID, heartbeat=Heartbeat(tmp_path / "hb.json"))
    simulator = QuickBooksSimulator()
    records = {("Account", "001000000000001AAA"): {"Id": "001000000000001AAA", "Name": "  Acme Ltd  ",
                                                   "Phone": "555-0100"}}
    board = Dashboard(app_context=app_context, log_buffer=buffer, connector=connector, state=state,
                      heartbeat=connector.heartbeat, machine_id=MID,
                      chart_of_accounts=lambda: chart_from_records(simulator.accounts()),
                      fetch_record=lambda obj, rid: records.get((obj, rid)), allowed_hosts=("testserver",))
    board.systems = systems  # type: ignore[attr-defined]  # the tests look at what the connector was asked
    yield board
    connector.stop(wait=5)


@pytest.fixture
def client(dash: Dashboard, dashboard_client) -> TestClient:
    return dashboard_client(dash)


def wait_for(predicate, timeout: float = 60.0) -> None:
    """Until ``predicate`` holds; the ceiling is generous for a loaded machine (it returns as soon as it holds)."""
    end = datetime.now(UTC) + timedelta(seconds=timeout)
    while not predicate():
        assert datetime.now(UTC) < end, "condition not reached"
        threading.Event().wait(0.005)


# ---- access ------------------------------------------------------------------------------------------------------


def test_locked_without_the_token_and_the_token_sets_a_cookie(dash: Dashboard) -> None:
    c = TestClient(create_app(dash))
    locked = c.get("/")
    assert locked.status_code == 401 and "?token=" in locked.text and dash.token not in locked.text
    assert c.get("/?token=wrong").status_code == 401
    assert c.get("/?token=%C3%A9t%C3%A9").status_code == 401  # non-ASCII guesses are mismatches, not errors
    assert c.get("/", headers={"Authorization": b"Bearer \xc3\xa9t\xc3\xa9"}).status_code == 401
    assert c.post("/actions/start").status_code == 401
    assert c.get("/events/log").status_code == 401
    opened = c.get(f"/?token={dash.token}&entity=Account", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/?entity=Account"
    assert "httponly" in opened.headers["set-cookie"].lower() and "samesite=strict" in opened.headers[
        "set-cookie"].lower()
    assert c.get("/").status_code == 200
    assert c.get("/static/app.js").status_code == 200


def test_bearer_token_works_for_scripts(dash: Dashboard) -> None:
    c = TestClient(create_app(dash))
    ok = c.get("/api/status", headers={"Authorization": f"Bearer {dash.token}"})
    assert ok.status_code == 200 and ok.json()["machine_id"] == MID
    assert c.get("/api/status", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_foreign_host_and_cross_site_posts_are_refused(client: TestClient, dash: Dashboard) -> None:
    assert client.get("/", headers={"host": "evil.example.com"}).status_code == 400
    assert client.post("/actions/start", headers={"origin": "http://evil.example.com"}).status_code == 403
    assert dash.connector.status().state == State.STOPPED


def test_dashboard_url_is_loopback_with_token() -> None:
    assert dashboard_url("127.0.0.1", 8765, "abc") == "http://127.0.0.1:8765/?token=abc"
    assert dashboard_url("::1", 8765, "abc") == "http://[::1]:8765/?token=abc"


# ---- status and actions -------------------------------------------------------------------------------------------


def test_start_trigger_and_stop_from_the_dashboard(client: TestClient, dash: Dashboard) -> None:
    page = client.get("/")
    assert "Connector — Offline" in page.text and "QuickBooks — Not connected" in page.text
    done = client.post("/actions/sf-to-qb")
    assert "Start+the+connector+first" in str(done.url) or "Start the connector first" in done.text
    started = client.post("/actions/start")
    assert started.status_code == 200 and "Connector starting" in started.text
    wait_for(lambda: dash.connector.status().last_cycle is not None)
    status = client.get("/api/status").json()
    assert status["salesforce"] and status["quickbooks"] and status["connector_online"]
    assert status["last_cycle"]["synced"] == 3
    page = client.get("/partials/status").text
    assert "Salesforce — Connected" in page and "QuickBooks — Connected" in page and "Connector — Online" in page
    client.post("/actions/sf-to-qb")
    wait_for(lambda: any(r.full_outbound for r in dash.systems.requests))
    client.post("/actions/qb-to-sf")
    wait_for(lambda: any(r.full_inbound for r in dash.systems.requests))
    stopped = client.post("/actions/stop")
    assert "Stopping after the record in hand" in stopped.text
    dash.connector.join(60)  # returns as soon as the loop has stopped
    assert dash.connector.status().state == State.STOPPED and not dash.systems.qb_open


def test_confirm_modal_markup_is_on_the_manual_triggers(client: TestClient) -> None:
    page = client.get("/").text
    assert 'action="/actions/qb-to-sf" data-confirm=' in page
    assert '<dialog id="confirm-dialog">' in page
    js = client.get("/static/app.js").text
    assert "showModal" in js and "EventSource" in js


# ---- activity, failures, timestamps ---------------------------------------------------------------------------------


def _seed_activity(state: StateStore) -> None:
    state.log_many([
        Activity("Account", Direction.SF_TO_QB, "add", Outcome.CREATED, sf_id="001A", qb_id="80000001-1",
                 message="Acme Ltd"),
        Activity("Opportunity", Direction.SF_TO_QB, "add", Outcome.FAILED, sf_id="006B",
                 message="Link: No Account found"),
        Activity("Customer", Direction.QB_TO_SF, "upsert", Outcome.UPDATED, sf_id="001A", qb_id="80000001-1"),
    ])
    state.fail_many("Opportunity", Direction.SF_TO_QB, [FailureInput("006B", "AfterDependency",
                                                                     "Link: No Account found")])


def test_recent_activity_totals_filters_and_retry(client: TestClient, state: StateStore) -> None:
    _seed_activity(state)
    page = client.get("/").text
    assert "Acme Ltd" in page and "Link: No Account found" in page and "↓ QB → SF" in page
    assert 'id="totals"' in page
    only_failed = client.get("/?failed=1").text
    table = only_failed.split('id="activity-table"')[1].split("</table>")[0]
    assert "006B" in table and "Acme Ltd" not in table
    by_entity = client.get("/?entity=Customer").text.split('id="activity-table"')[1].split("</table>")[0]
    assert "upsert" in by_entity and "006B" not in by_entity
    api = client.get("/api/activity", params={"failed": "true"}).json()
    assert [a["sf_id"] for a in api["activity"]] == ["006B"] and api["totals"]["Account"] == {"created": 1}
    before = state.failures()[0]
    retried = client.post("/failures/retry", data={"entity": "Opportunity", "key": "006B"})
    assert "1 record(s) queued for retry" in retried.text
    after = state.failures()[0]
    assert after.attempts == 0 and after.next_attempt_at <= before.next_attempt_at + timedelta(seconds=1)


def test_timestamps_reset_and_reset_all_with_confirmation(client: TestClient, state: StateStore) -> None:
    state.set_watermark("qb:Customer", "2026-11-20T10:00:00")
    state.set_watermark("qb:Invoice", "2026-11-21T10:00:00")
    state.set_watermark("qb:ItemService", "2026-11-22T10:00:00")
    state.set_watermark("qb:company_utc_offset", "-480")  # engine bookkeeping, not an entity timestamp
    page = client.get("/").text
    assert "company_utc_offset" not in page.split('id="timestamps-table"')[1].split("</table>")[0]
    assert "↓ QB → SF · Customer" in page and "2026-11-20T10:00:00" in page and "several minutes" in page
    reset = client.post("/timestamps/reset", data={"source": "qb:Customer"})
    assert "↓ QB → SF · Customer reset" in reset.text and state.get_watermark("qb:Customer") is None
    refused = client.post("/timestamps/reset-all", data={})
    assert "needs confirmation" in refused.text and state.get_watermark("qb:Invoice") is not None
    client.post("/timestamps/reset-all", data={"confirm": "yes"})
    assert state.watermarks() == {}


# ---- mappings ------------------------------------------------------------------------------------------------------


def test_upload_valid_mapping_then_download_preview_and_delete(client: TestClient, dash: Dashboard) -> None:
    data = (EXAMPLES / "Acct_to_Customer.csv").read_bytes()
    done = client.post("/mappings/upload", files={"file": ("Acct_to_Customer_v2.csv", data, "text/csv")})
    assert done.status_code == 200 and "active as Acct_to_Customer.csv" in done.text
    installed = dash.mappings_dir() / "Acct_to_Customer.csv"
    assert installed.read_bytes() == data
    assert "Account → Customer" in client.get("/").text
    assert client.get("/mappings/Acct_to_Customer.csv/download").content == data
    preview = client.post("/mappings/Acct_to_Customer.csv/preview", data={"record_id": "001000000000001AAA"})
    assert preview.status_code == 200
    result = preview.text.split('id="preview-result"')[1]
    assert "Acme Ltd" in result and "555-0100" in result
    pasted = client.post("/mappings/Acct_to_Customer.csv/preview",
                         data={"record_json": json.dumps({"Name": "Globex", "Phone": "1"})})
    assert "Globex" in pasted.text.split('id="preview-result"')[1]
    missing = client.post("/mappings/Acct_to_Customer.csv/preview", data={"record_id": "001000000000999AAA"})
    assert missing.status_code == 400 and "no Account with Id 001000000000999AAA" in missing.text
    deleted = client.post("/mappings/Acct_to_Customer.csv/delete")
    assert "Acct_to_Customer.csv deleted" in deleted.text and not installed.exists()


def test_bad_upload_shows_line_errors_and_replaces_nothing(client: TestClient, dash: Dashboard) -> None:
    good = (EXAMPLES / "Acct_to_Customer.csv").read_bytes()
    client.post("/mappings/upload", files={"file": ("Acct_to_Customer.csv", good, "text/csv")})
    bad = b"SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n" \
          b"Name,Name,Y,Simple,,\nBillingStreet,BillAddr1,N,AddressSplit:9,,\nPhone,Phone,maybe,Simple,,\n"
    refused = client.post("/mappings/upload", files={"file": ("Acct_mapping.csv", bad, "text/csv")})
    assert refused.status_code == 400
    problems = refused.text.split('id="upload-problems"')[1]
    assert "nothing was replaced" in problems
    assert "Acct_mapping.csv:3" in problems and "Acct_mapping.csv:4" in problems
    assert (dash.mappings_dir() / "Acct_to_Customer.csv").read_bytes() == good
    unnamed = client.post("/mappings/upload", files={"file": ("fields.csv", good, "text/csv")})
    assert unnamed.status_code == 400 and "fields.csv:1" in unnamed.text
    not_csv = client.post("/mappings/upload", files={"file": ("Acct.xlsx", b"PK..", "application/zip")})
    assert not_csv.status_code == 400 and "upload a .csv file" in not_csv.text


def test_mapping_names_cannot_escape_the_folder(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text("x")
    assert client.get("/mappings/..%2Fsecret.csv/download").status_code == 404
    assert client.get("/mappings/nothing.csv/download").status_code == 404


# ---- settings, accounts, license ---------------------------------------------------------------------------------


def test_settings_form_saves_values_and_secrets(client: TestClient, dash: Dashboard, config_file: Path,
                                                memory_secrets) -> None:
    form = {"salesforce.instance_url": "https://acme.my.salesforce.com", "salesforce.client_id": "3MVG9abc",
            "salesforce.client_secret": "shh-very-secret", "sync.polling_interval": "45",
            "sync.conflict_policy": "quickbooks", "quickbooks.transport": "simulator"}
    saved = client.post("/settings", data=form)
    assert saved.status_code == 200 and "Saved" in saved.text
    s = load_settings(secrets=memory_secrets).settings
    assert s.salesforce.instance_url == "https://acme.my.salesforce.com" and s.sync.polling_interval == 45
    assert memory_secrets.get("salesforce.client_secret") == "shh-very-secret"
    assert "shh-very-secret" not in config_file.read_text() and "shh-very-secret" not in saved.text
    again = client.post("/settings", data={**form, "salesforce.client_secret": ""})
    assert "No changes" in again.text and memory_secrets.get("salesforce.client_secret") == "shh-very-secret"


def test_settings_form_refuses_bad_values_naming_the_setting(client: TestClient, config_file: Path) -> None:
    before = config_file.read_text()
    bad = client.post("/settings", data={"salesforce.instance_url": "http://evil.example.com",
                                         "sync.polling_interval": "45"})
    assert bad.status_code == 400 and "salesforce.instance_url" in bad.text and "https://" in bad.text
    assert config_file.read_text() == before  # all or nothing: the good polling interval was not saved either


def test_accounts_checked_against_the_quickbooks_chart(client: TestClient, memory_secrets) -> None:
    wrong = client.post("/accounts", data={"income": "Sale", "cogs": "Cost of Goods Sold",
                                           "inventory_asset": "Checking"})
    assert wrong.status_code == 400
    text = wrong.text.split('id="accounts-error"')[1]
    assert "no account named &#39;Sale&#39;" in text and "&#39;Sales&#39;" in text
    assert "Checking&#39; is a Bank account" in text
    ok = client.post("/accounts", data={"income": "sales", "cogs": "Cost of Goods Sold",
                                        "inventory_asset": "Inventory Asset", "ar": "Accounts Receivable"})
    assert ok.status_code == 200 and "QB Default Accounts saved" in ok.text
    accounts = load_settings().settings.quickbooks.default_accounts
    assert accounts.income == "Sales" and accounts.inventory_asset == "Inventory Asset"
    missing = client.post("/accounts", data={"income": ""})
    assert missing.status_code == 400 and "required" in missing.text


def test_license_form_verifies_offline_and_saves(client: TestClient, monkeypatch) -> None:
    owner = Ed25519PrivateKey.generate()
    monkeypatch.setattr(lic, "PUBLIC_KEY_B64", lic.public_key_b64(owner))
    other_machine = lic.mint_key(owner, edition="pro", licensee="Acme", machine="0000-0000-0000-0000")
    refused = client.post("/license", data={"key": other_machine})
    assert refused.status_code == 400 and "0000-0000-0000-0000" in refused.text and MID in refused.text
    key = lic.mint_key(owner, edition="pro", licensee="Acme", machine=MID)
    saved = client.post("/license", data={"key": key})
    assert saved.status_code == 200 and "pro edition for Acme" in saved.text
    assert load_settings().settings.license_key == key
    removed = client.post("/license", data={"key": ""})
    assert "free edition" in removed.text and load_settings().settings.license_key == ""


# ---- Live Log ------------------------------------------------------------------------------------------------------


def test_live_log_streams_redacted_lines(client: TestClient, dash: Dashboard) -> None:
    log = get_logger("qbsf.test")
    log.info("Queried 13 QB Customers", mark="ok")
    log.info("auth", access_token="00D5g000004XyZ1!AQ4AQFh8.vKq_Zp2wS3")
    first = dash.log_buffer.last_seq - 2
    with client.stream("GET", f"/events/log?after={first}&limit=2") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]
    assert [e["event"] for e in events] == ["Queried 13 QB Customers", "auth"]
    assert events[0]["line"].endswith("✓ Queried 13 QB Customers")
    assert "AQ4AQFh8" not in body
    page = client.get("/").text
    assert "Queried 13 QB Customers" in page and "AQ4AQFh8" not in page


def test_dashboard_without_connector_or_state_still_serves(config_file: Path, buffer, tmp_path: Path,
                                                          dashboard_client) -> None:
    hb = Heartbeat(tmp_path / "hb.json")
    hb.beat(cycle=7, quickbooks=True)
    board = Dashboard(app_context=AppContext(secrets=None), log_buffer=buffer, heartbeat=hb,
                      allowed_hosts=("testserver",))
    c = dashboard_client(board, log_in=False)
    page = c.get(f"/?token={board.token}")
    assert page.status_code == 200 and "Connector — Online" in page.text and "No state database yet" in page.text
    assert "started without a connector" in c.post("/actions/start").text
    assert isinstance(Settings.model_validate({}), Settings)


def test_served_over_http_with_live_log_stream(dash: Dashboard) -> None:
    import httpx

    from qbsf.app.dashboard.app import LOOPBACK_HOSTS
    from qbsf.app.dashboard.server import start_dashboard

    dash.allowed_hosts = LOOPBACK_HOSTS
    with start_dashboard(dash) as running:
        assert running.url.startswith("http://127.0.0.1:") and running.url.endswith(dash.token)
        with httpx.Client(base_url=running.base_url, timeout=10, follow_redirects=True) as http:
            assert http.get("/").status_code == 401
            assert http.get(f"/?token={dash.token}").status_code == 200  # follows the redirect with the cookie
            get_logger("qbsf.test").info("Queried 2 QB Items", mark="ok")
            after = dash.log_buffer.last_seq - 1
            with http.stream("GET", f"/events/log?after={after}&limit=1") as response:
                body = "".join(response.iter_text())
            assert "✓ Queried 2 QB Items" in body
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.base_url, timeout=2)


def test_a_broken_settings_file_is_a_message_not_a_traceback(client: TestClient, config_file: Path) -> None:
    config_file.write_text("[sync]\npolling_interval = 'soon'\n")
    page = client.get("/")
    assert page.status_code == 200
    assert 'id="settings-problem"' in page.text and "sync.polling_interval" in page.text
    saved = client.post("/accounts", data={"income": "Sales"})
    assert saved.status_code == 400 and 'id="page-error"' in saved.text and "Traceback" not in saved.text
    upload = client.post("/mappings/upload",
                         files={"file": ("Acct_to_Customer.csv", (EXAMPLES / "Acct_to_Customer.csv").read_bytes())})
    assert upload.status_code == 400 and "sync.polling_interval" in upload.text


def test_with_a_connected_engine_resets_go_through_the_inbound_engine(client: TestClient, dash: Dashboard,
                                                                      state: StateStore) -> None:
    asked = []
    dash.reset_inbound = lambda entities: asked.append(entities) or (entities or ["Customer", "Item", "Invoice"])
    state.set_watermark("qb:Item", "2026-11-20T10:00:00")
    one = client.post("/timestamps/reset", data={"source": "qb:Item"})
    assert "re-sends every Item record" in one.text
    every = client.post("/timestamps/reset-all", data={"confirm": "yes"})
    assert "Customer, Item, Invoice" in every.text
    assert asked == [["Item"], None]
    state.set_watermark("sf:Account", "2026-11-20T10:00:00.000Z")
    client.post("/timestamps/reset", data={"source": "sf:Account"})
    assert state.get_watermark("sf:Account") is None and asked == [["Item"], None]  # SF → QB: the state store


def test_eligibility_conditions_from_the_settings_form(client: TestClient) -> None:
    saved = client.post("/settings", data={"sync.eligibility.Account": "Type = 'Customer'",
                                           "sync.eligibility.Opportunity": "StageName = 'Closed Won' AND Amount > 0"})
    assert saved.status_code == 200, saved.text[-500:]
    assert load_settings().settings.sync.eligibility == {"Account": "Type = 'Customer'",
                                                         "Opportunity": "StageName = 'Closed Won' AND Amount > 0"}
    assert "value=\"Type = &#39;Customer&#39;\"" in client.get("/").text
    client.post("/settings", data={"sync.eligibility.Account": ""})
    assert load_settings().settings.sync.eligibility == {"Opportunity": "StageName = 'Closed Won' AND Amount > 0"}
    bad = client.post("/settings", data={"sync.eligibility.Contact": "Email = 'x"})
    assert bad.status_code == 400 and "balanced quotes" in bad.text
