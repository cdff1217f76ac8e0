"""The connector against both emulators: in process (EngineServices + Connector) and as `qbsf run` in a subprocess."""

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from qbsf.app.logging import configure_logging, reset_logging
from qbsf.app.runtime import Connector, State
from qbsf.app.settings import Settings
from qbsf.app.wiring import EngineServices
from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sync.state import StateStore


def wait_for(predicate, timeout: float = 20.0) -> None:
    end = datetime.now(UTC) + timedelta(seconds=timeout)
    while not predicate():
        assert datetime.now(UTC) < end, "condition not reached"
        threading.Event().wait(0.02)


def _settings(emulator, **extra) -> Settings:
    return Settings.model_validate({
        "salesforce": {"instance_url": emulator.url, "client_id": emulator.client_id,
                       "client_secret": emulator.client_secret, "auth_flow": "client_credentials"},
        "quickbooks": {"transport": "simulator",
                       "default_accounts": {"income": "Sales", "cogs": "Cost of Goods Sold",
                                            "inventory_asset": "Inventory Asset"}},
        "sync": {"polling_interval": 3600},
        "mappings_dir": str(EXAMPLE_MAPPINGS),
        **extra,
    })


@pytest.fixture
def console():
    import io

    stream = io.StringIO()
    configure_logging(console=stream)
    yield stream
    reset_logging()


def test_connector_syncs_salesforce_into_quickbooks_and_stops_cleanly(sf_emulator, tmp_path: Path, console) -> None:
    seeded = seed_org(sf_emulator.state, accounts=3, contacts=1, products=2, opportunities=1, lines=2)
    sim = QuickBooksSimulator()
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(_settings(sf_emulator), None, state,
                              transport_factory=lambda: SimulatorTransport(sim))
    connector = Connector(services, _settings(sf_emulator))
    try:
        connector.start()
        wait_for(lambda: connector.status().last_cycle is not None)
        last = connector.status().last_cycle
        assert last.error is None and last.failed == 0 and last.synced >= 7, last
        assert len(sim.customers()) == 4 and len(sim.items()) == 2 and len(sim.invoices()) == 1
        account = sf_emulator.state.get("Account", seeded.accounts[0])
        assert account["QB_Customer_ID__c"]
        # what the dashboard asks of the live systems
        chart = {a.full_name: a.account_type for a in services.chart_of_accounts()}
        assert chart["Sales"] == "Income" and chart["Inventory Asset"] == "OtherCurrentAsset"
        assert services.fetch_record("Account", seeded.accounts[0])["Name"] == account["Name"]
        assert services.fetch_record("Account", "001000000000000AAA") is None
        connector.trigger_outbound()
        wait_for(lambda: connector.status().cycles >= 2 and connector.status().last_cycle.number == 2)
        assert len(sim.customers()) == 4, "a full SF → QB pass adds nothing twice"
    finally:
        connector.stop(wait=20)
        services.close()
        state.close()
    assert connector.status().state == State.STOPPED
    text = console.getvalue()
    assert f"✓ Salesforce — Connected ({sf_emulator.url})" in text
    assert "✓ QuickBooks — Connected (" in text
    assert text.rstrip().endswith("✓ Sync engine stopped")


def test_wrong_client_secret_stops_at_salesforce(sf_emulator, tmp_path: Path, console) -> None:
    settings = _settings(sf_emulator)
    settings.salesforce.client_secret = "wrong-secret-value"
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(settings, None, state)
    try:
        assert Connector(services, settings).run() == 1
    finally:
        services.close()
        state.close()
    assert "✗ Salesforce authentication failed" in console.getvalue()
    assert "wrong-secret-value" not in console.getvalue()


def test_qbsf_run_end_to_end_with_dashboard_and_sigterm(sf_emulator, tmp_path: Path) -> None:
    seed_org(sf_emulator.state, accounts=2)
    config = tmp_path / "config.toml"
    company = tmp_path / "company.qbsim"
    config.write_text(f"""
state_url = "sqlite:///{tmp_path / 'state.db'}"
mappings_dir = "{EXAMPLE_MAPPINGS}"
log_dir = "{tmp_path / 'logs'}"
[salesforce]
instance_url = "{sf_emulator.url}"
client_id = "{sf_emulator.client_id}"
auth_flow = "client_credentials"
[quickbooks]
transport = "simulator"
simulator_path = "{company}"
[quickbooks.default_accounts]
income = "Sales"
[sync]
polling_interval = 3600
[dashboard]
port = 0
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSF_")}
    env.update(QBSF_CONFIG=str(config), QBSF_SALESFORCE__CLIENT_SECRET=sf_emulator.client_secret,
               XDG_CONFIG_HOME=str(tmp_path / "xdg"), XDG_DATA_HOME=str(tmp_path / "xdg"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        try:
            wait_for(lambda: any("Dashboard: http://127.0.0.1:" in line for line in lines), timeout=90)
        except AssertionError:
            raise AssertionError("no dashboard URL; qbsf run said:\n" + "".join(lines)[-3000:]) from None
        url = next(line for line in lines if line.startswith("Dashboard: ")).split(" ", 1)[1].strip()
        token = url.split("token=", 1)[1]
        base = url.split("/?", 1)[0]
        status: dict = {}

        def cycle_done() -> bool:
            nonlocal status
            status = httpx.get(f"{base}/api/status", headers={"Authorization": f"Bearer {token}"}).json()
            return bool(status.get("last_cycle"))

        try:
            wait_for(cycle_done, timeout=90)
        except AssertionError:
            raise AssertionError("no cycle finished; qbsf run said:\n" + "".join(lines)[-3000:]) from None
        assert status["salesforce"] and status["quickbooks"] and status["connector_online"]
        assert status["last_cycle"]["synced"] >= 2 and status["last_cycle"]["failed"] == 0
        assert httpx.get(f"{base}/api/status").status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
    output = "".join(lines)
    assert "Salesforce — Connected" in output and "QuickBooks — Connected" in output
    assert "Machine ID: " in output and "License: free edition" in output
    assert output.rstrip().endswith("✓ Sync engine stopped"), output[-2000:]
    assert "Traceback" not in output
    log_file = (tmp_path / "logs" / "qbsf.jsonl").read_text(encoding="utf-8")
    assert "Sync engine stopped" in log_file
    assert token not in log_file and sf_emulator.client_secret not in log_file
    assert sf_emulator.client_secret not in output
    assert len(QuickBooksSimulator(company).customers()) == 2  # persisted by the simulator transport


def test_mappings_uploaded_while_running_apply_from_the_next_cycle(sf_emulator, tmp_path: Path, console) -> None:
    import shutil

    seed_org(sf_emulator.state, accounts=2, products=2)
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copy(EXAMPLE_MAPPINGS / "Acct_to_Customer.csv", folder)
    settings = _settings(sf_emulator, mappings_dir=str(folder))
    sim = QuickBooksSimulator()
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
    connector = Connector(services, settings)
    try:
        connector.start()
        wait_for(lambda: connector.status().last_cycle is not None)
        assert len(sim.customers()) == 2 and sim.items() == []
        shutil.copy(EXAMPLE_MAPPINGS / "Product_to_Item.csv", folder)
        connector.trigger_outbound()
        wait_for(lambda: connector.status().last_cycle.number >= 2)
        assert len(sim.items()) == 2
        (folder / "Product_to_Item.csv").write_text("not,a,mapping\n")  # a broken file keeps the last good set
        connector.trigger_outbound()
        wait_for(lambda: connector.status().last_cycle.number >= 3)
        assert connector.status().last_cycle.error is None
    finally:
        connector.stop(wait=20)
        services.close()
        state.close()
    text = console.getvalue()
    assert "✓ Mappings reloaded: Acct_to_Customer, Product_to_Item" in text
    assert "✗ mappings not reloaded, keeping the previous ones" in text


def test_config_accounts_checks_the_configured_company(config_file: Path, tmp_path: Path, memory_secrets) -> None:
    from typer.testing import CliRunner

    from qbsf.app.cli import app
    from qbsf.app.context import AppContext
    from qbsf.app.settings import load_settings, set_setting

    company = tmp_path / "company.qbsim"
    set_setting("quickbooks.simulator_path", str(company))
    set_setting("quickbooks.transport", "simulator")
    runner = CliRunner()
    refused = runner.invoke(app, ["config", "accounts", "--income", "Sale", "--inventory-asset", "Checking"],
                            obj=AppContext(secrets=memory_secrets))
    assert refused.exit_code != 0
    message = str(refused.exception)
    assert "no account named 'Sale'" in message and "'Sales'" in message and "is a Bank account" in message
    assert load_settings().settings.quickbooks.default_accounts.income == ""
    done = runner.invoke(app, ["config", "accounts", "--income", "sales", "--cogs", "Cost of Goods Sold",
                               "--inventory-asset", "Inventory Asset"], obj=AppContext(secrets=memory_secrets))
    assert done.exit_code == 0, done.output
    assert "✓ income: Sales" in done.stdout
    accounts = load_settings().settings.quickbooks.default_accounts
    assert (accounts.income, accounts.cogs, accounts.inventory_asset) == ("Sales", "Cost of Goods Sold",
                                                                         "Inventory Asset")
    checked = runner.invoke(app, ["config", "accounts", "--check"], obj=AppContext(secrets=memory_secrets))
    assert checked.exit_code == 0 and "✓ inventory_asset: Inventory Asset" in checked.stdout


def test_changed_salesforce_settings_mean_a_new_client_on_start(sf_emulator, tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(_settings(sf_emulator), None, state)
    try:
        services.connect_salesforce()
        first = services.sf
        services.apply_settings(_settings(sf_emulator, sync={"polling_interval": 5}))
        assert services.sf is first  # nothing Salesforce-related changed: keep the session
        changed = _settings(sf_emulator)
        changed.salesforce.api_version = "61.0"
        services.apply_settings(changed)
        assert services.sf is None
        services.connect_salesforce()
        assert services.sf is not first
    finally:
        services.close()
        state.close()


def test_open_connector_app_assembles_what_qbsf_run_serves(sf_emulator, config_file: Path, tmp_path: Path,
                                                           memory_secrets) -> None:
    import httpx

    from qbsf.app.context import AppContext
    from qbsf.app.dashboard.server import start_dashboard
    from qbsf.app.logging import reset_logging
    from qbsf.app.settings import update_settings
    from qbsf.app.wiring import open_connector_app

    seed_org(sf_emulator.state, accounts=1)
    update_settings({"salesforce.instance_url": sf_emulator.url, "salesforce.client_id": sf_emulator.client_id,
                     "salesforce.client_secret": sf_emulator.client_secret, "mappings_dir": str(EXAMPLE_MAPPINGS),
                     "state_url": f"sqlite:///{tmp_path / 'state.db'}", "log_dir": str(tmp_path / "logs"),
                     "quickbooks.simulator_path": str(tmp_path / "company.qbsim"), "quickbooks.transport": "simulator",
                     "quickbooks.default_accounts.income": "Sales"}, secrets=memory_secrets)
    bundle = open_connector_app(AppContext(secrets=memory_secrets), console=False)
    try:
        assert bundle.heartbeat.path == tmp_path / "heartbeat.json"
        with start_dashboard(bundle.dashboard) as running:
            bundle.connector.start()
            wait_for(lambda: bundle.connector.status().last_cycle is not None)
            status = httpx.get(f"{running.base_url}/api/status",
                               headers={"Authorization": f"Bearer {bundle.dashboard.token}"}).json()
            assert status["quickbooks"] and status["last_cycle"]["synced"] >= 1 and status["last_cycle"]["failed"] == 0
            assert status["machine_id"] == bundle.machine_id
    finally:
        bundle.close()
        reset_logging()
    assert "Sync engine stopped" in (tmp_path / "logs" / "qbsf.jsonl").read_text(encoding="utf-8")
    assert sf_emulator.client_secret not in (tmp_path / "logs" / "qbsf.jsonl").read_text(encoding="utf-8")


def test_heartbeat_and_sync_requests_ride_one_composite_call_per_cycle(sf_emulator, tmp_path: Path, console) -> None:
    seed_org(sf_emulator.state, accounts=1)
    sim = QuickBooksSimulator()
    state = StateStore(tmp_path / "state.db")
    settings = _settings(sf_emulator)
    services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim),
                              machine_id="ABCD-1234-EF56-7890")
    connector = Connector(services, settings)
    try:
        connector.start()
        wait_for(lambda: connector.status().last_cycle is not None)
        (beat,) = sf_emulator.state.records("QBSF_Heartbeat__c")
        assert beat["Machine_Id__c"] == "ABCD-1234-EF56-7890" and beat["QB_Connected__c"] is True
        assert beat["Connector_Id__c"].startswith("ABCD-1234-EF56-7890-")
        first_seen = beat["Last_Seen__c"]
        request = sf_emulator.state.insert("QBSF_Sync_Request__c", {"Direction__c": "QB_TO_SF", "Status__c": "Pending"})
        request_id = request if isinstance(request, str) else request["Id"]
        connector.run_now()
        wait_for(lambda: connector.status().last_cycle.number >= 2)
        assert services.presence is not None
        connector.run_now()  # the request is closed with the next heartbeat
        wait_for(lambda: sf_emulator.state.get("QBSF_Sync_Request__c", request_id)["Status__c"] != "Pending")
        assert sf_emulator.state.get("QBSF_Sync_Request__c", request_id)["Status__c"] == "Done"
        (beat,) = sf_emulator.state.records("QBSF_Heartbeat__c")
        assert beat["Last_Seen__c"] >= first_seen
    finally:
        connector.stop(wait=20)
        services.close()
        state.close()
    assert "1 sync request(s) from Salesforce" in console.getvalue()


def test_without_the_salesforce_package_the_heartbeat_stays_local(tmp_path: Path, console) -> None:
    from qbsf.sim.salesforce import SalesforceState, start_emulator
    from qbsf.sim.salesforce.schema import build_schema

    (tmp_path / "no-package").mkdir()
    org = SalesforceState(build_schema(tmp_path / "no-package"))  # standard objects only
    with start_emulator(org) as emulator:
        state = StateStore(tmp_path / "state.db")
        settings = _settings(emulator)
        services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(
            QuickBooksSimulator()))
        connector = Connector(services, settings)
        try:
            connector.start()
            wait_for(lambda: connector.status().last_cycle is not None)
            assert services.presence is not None and not services.presence.enabled
            calls, heavy = org.api_calls, org.composite_heavy
            assert services.begin_cycle(quickbooks_connected=True).ids == []
            # once switched off, presence adds nothing: what is left is the change polls, 5 queries a composite call
            polls = org.composite_heavy - heavy
            assert polls >= 1 and org.api_calls == calls + -(-polls // 5)
        finally:
            connector.stop(wait=20)
            services.close()
            state.close()
    assert "Salesforce package not installed: heartbeat kept locally" in console.getvalue()


def test_qbsf_status_reads_the_heartbeat_and_failures(config_file: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from qbsf.app.cli import app
    from qbsf.app.runtime import Heartbeat
    from qbsf.app.settings import set_setting
    from qbsf.sync.state import Direction, FailureInput

    set_setting("state_url", f"sqlite:///{tmp_path / 'state.db'}")
    runner = CliRunner()
    offline = runner.invoke(app, ["status"])
    assert offline.exit_code == 1 and "Connector — Offline: no heartbeat" in offline.stdout
    assert not (tmp_path / "state.db").exists(), "status never creates a database"
    state = StateStore(tmp_path / "state.db")
    state.fail_many("Account", Direction.SF_TO_QB, [FailureInput("001A", "NeedsUser", "name in use")])
    state.close()
    Heartbeat(tmp_path / "heartbeat.json").beat(cycle=12, quickbooks=True)
    online = runner.invoke(app, ["status"])
    assert online.exit_code == 0, online.output
    assert "✓ Connector — Online" in online.stdout and "cycle 12" in online.stdout
    assert "✓ QuickBooks — Connected" in online.stdout and "1 record(s) failing" in online.stdout
    as_json = runner.invoke(app, ["status", "--json"])
    assert '"online": true' in as_json.stdout and '"failures": 1' in as_json.stdout


def test_webconnector_transport_points_to_the_web_connector_service(sf_emulator, tmp_path: Path, console) -> None:
    settings = _settings(sf_emulator, quickbooks={"transport": "webconnector"})
    state = StateStore(tmp_path / "state.db")
    services = EngineServices(settings, None, state)
    try:
        assert Connector(services, settings, retry_delay=0).run() == 1
    finally:
        services.close()
        state.close()
    assert "✗ QuickBooks connection refused: quickbooks.transport = webconnector" in console.getvalue()
    assert "`qbsf run` (it serves the /qbwc endpoint)" in console.getvalue()
    assert "qbsf qbwc serve --sync COMPANY" in console.getvalue()


def test_a_second_connector_on_the_same_state_is_refused(config_file: Path, tmp_path: Path) -> None:
    import json

    from qbsf.app.context import AppContext
    from qbsf.app.runtime import Heartbeat
    from qbsf.app.settings import set_setting
    from qbsf.app.wiring import open_connector_app
    from qbsf.errors import ConfigError

    set_setting("state_url", f"sqlite:///{tmp_path / 'state.db'}")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        heartbeat = Heartbeat(tmp_path / "heartbeat.json")
        heartbeat.beat(cycle=3)
        data = json.loads(heartbeat.path.read_text())
        heartbeat.path.write_text(json.dumps({**data, "pid": other.pid}))
        with pytest.raises(ConfigError, match=f"process {other.pid}"):
            open_connector_app(AppContext(), console=False)
    finally:
        other.kill()
        other.wait()
    bundle = open_connector_app(AppContext(), console=False)  # that process is gone: a stale heartbeat is ignored
    bundle.close()
    reset_logging()


def test_resetting_a_qb_timestamp_resends_that_entity_next_cycle(sf_emulator, tmp_path: Path, console) -> None:
    seed_org(sf_emulator.state, accounts=2)
    sim = QuickBooksSimulator()
    state = StateStore(tmp_path / "state.db")
    settings = _settings(sf_emulator)
    services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
    connector = Connector(services, settings)
    try:
        connector.start()
        wait_for(lambda: connector.status().last_cycle is not None)
        assert state.get_watermark("qb:Customer") is not None
        connector.run_now()
        wait_for(lambda: connector.status().last_cycle.number >= 2)
        quiet = connector.status().last_cycle.detail["qb_to_sf"].entities["Customer"]
        assert quiet.queried == 0  # nothing changed in QuickBooks since the watermark
        assert services.reset_qb_to_sf(["Customer"]) == ["Customer"]
        assert state.get_watermark("qb:Customer") is None
        connector.run_now()
        wait_for(lambda: connector.status().last_cycle.number >= 3)
        again = connector.status().last_cycle.detail["qb_to_sf"].entities["Customer"]
        assert again.queried == 2, "every Customer is read again after the reset"
        assert (again.updated, again.echoes) == (2, 0), "and written again, as `qbsf sync qb-to-sf --reset` does"
    finally:
        connector.stop(wait=20)
        services.close()
        state.close()
