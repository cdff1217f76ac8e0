"""`qbsf run` with ``quickbooks.transport = webconnector``: the /qbwc endpoint with the engine behind it, the dashboard
with its Web Connector panel, TLS from --cert/--key, and no plain http to the network."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.webconnector import WebConnectorStandIn


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def write_config(tmp_path: Path, emulator, *, host: str = "127.0.0.1") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"""
state_url = "sqlite:///{tmp_path / 'state.db'}"
mappings_dir = "{EXAMPLE_MAPPINGS}"
log_dir = "{tmp_path / 'logs'}"
[salesforce]
instance_url = "{emulator.url}"
client_id = "{emulator.client_id}"
auth_flow = "client_credentials"
[quickbooks]
transport = "webconnector"
webconnector_host = "{host}"
webconnector_port = 0
[quickbooks.default_accounts]
income = "Sales"
cogs = "Cost of Goods Sold"
inventory_asset = "Inventory Asset"
[sync]
polling_interval = 1
salesforce_heartbeat = false
[dashboard]
port = 0
""")
    return config


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    reg = WebConnectorRegistry.load(tmp_path / "webconnector.json")
    reg.register("acme", password="acme-password-1", run_every_minutes=5)
    reg.save()
    return reg.path


def _environment(tmp_path: Path, emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSF_")}
    env.update(QBSF_SALESFORCE__CLIENT_SECRET=emulator.client_secret, XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               XDG_DATA_HOME=str(tmp_path / "xdg"), PYTHONUNBUFFERED="1")
    return env


def wait_for(predicate, timeout: float, what: str, lines: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}; qbsf run said:\n" + "".join(lines)[-3000:])
        time.sleep(0.05)


def test_qbsf_run_serves_the_web_connector_over_tls_with_the_engine_and_dashboard(sf_emulator, tmp_path: Path,
                                                                                  registry: Path) -> None:
    seed_org(sf_emulator.state, accounts=2)
    cert, key = self_signed(tmp_path)
    config = write_config(tmp_path, sf_emulator)
    proc = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "run", "--config", str(config), "--registry",
                             str(registry), "--cert", str(cert), "--key", str(key)],
                            env=_environment(tmp_path, sf_emulator), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    quickbooks = QuickBooksSimulator(company_name="Acme Supplies")
    verify = ssl.create_default_context(cafile=str(cert))
    try:
        wait_for(lambda: any("Web Connector endpoint on" in line for line in lines), 60, "no endpoint", lines)
        endpoint = re.search(r"(https://127\.0\.0\.1:\d+/qbwc)", "".join(lines)).group(1)
        dashboard = next(line for line in lines if line.startswith("Dashboard: ")).split(" ", 1)[1].strip()
        base, token = dashboard.split("/?", 1)[0], dashboard.split("token=", 1)[1]
        sessions = []
        with WebConnectorStandIn(endpoint, "acme-qbwc", "acme-password-1", quickbooks, verify=verify) as wc:
            deadline = time.monotonic() + 60
            while len(quickbooks.customers()) < 2 and time.monotonic() < deadline:
                sessions.append(wc.run_session())
                time.sleep(0.1)
        assert len(quickbooks.customers()) == 2, "".join(lines)[-3000:]
        assert any(s.completed for s in sessions) and not any(s.auth_status == "nvu" for s in sessions)
        headers = {"Authorization": f"Bearer {token}"}
        panel = httpx.get(f"{base}/api/webconnector", headers=headers).json()["companies"]
        assert [c["company"] for c in panel] == ["acme"]
        assert panel[0]["last_session"]["outcome"] == "completed" and panel[0]["next_poll_expected"]
        qwc = httpx.get(f"{base}/webconnector/acme.qwc", headers=headers)
        assert qwc.status_code == 200 and f"<AppURL>{endpoint}</AppURL>" in qwc.text
        status = httpx.get(f"{base}/api/status", headers=headers).json()
        assert status["quickbooks"] and "through the Web Connector" in status["quickbooks_detail"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
    output = "".join(lines)
    assert "Traceback" not in output and sf_emulator.client_secret not in output
    assert "acme-password-1" not in output
    assert output.rstrip().endswith("✓ Sync engine stopped"), output[-2000:]


def test_plain_http_on_the_network_is_refused_with_the_fix(sf_emulator, tmp_path: Path, registry: Path) -> None:
    from qbsf.app.cli import app

    config = write_config(tmp_path, sf_emulator, host="0.0.0.0")
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--registry", str(registry)],
                                env=_environment(tmp_path, sf_emulator))
    assert isinstance(result.exception, ConfigError), result.output
    message = f"{result.exception} {result.exception.hint}"
    assert "plain http" in message and "--cert" in message and "reverse proxy" in message
    assert not (tmp_path / "state.db").exists(), "nothing starts before the refusal"
    half = CliRunner().invoke(app, ["run", "--config", str(write_config(tmp_path, sf_emulator)), "--registry",
                                    str(registry), "--cert", str(tmp_path / "c.pem")],
                              env=_environment(tmp_path, sf_emulator))
    assert isinstance(half.exception, ConfigError) and "both a certificate and its key" in str(half.exception)
    settings_half = write_config(tmp_path, sf_emulator)
    settings_half.write_text(settings_half.read_text().replace(
        "webconnector_port = 0", f'webconnector_port = 0\nwebconnector_cert = "{tmp_path / "cert.pem"}"'))
    from_settings = CliRunner().invoke(app, ["run", "--config", str(settings_half), "--registry", str(registry)],
                                       env=_environment(tmp_path, sf_emulator))
    assert isinstance(from_settings.exception, ConfigError), from_settings.output
    assert "both a certificate and its key" in str(from_settings.exception), "the settings' TLS files are read"


def test_run_names_the_company_it_serves(sf_emulator, tmp_path: Path, registry: Path) -> None:
    from qbsf.app.cli import app

    config = write_config(tmp_path, sf_emulator)
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--registry", str(registry), "--company",
                                      "globex"], env=_environment(tmp_path, sf_emulator))
    assert isinstance(result.exception, ConfigError) and "not registered" in str(result.exception)
    assert "acme" in result.exception.hint


STOP_CEILING = 60  # seconds; a cycle left waiting for a poll would wait 7 minutes (one interval + 2)


def test_dashboard_stop_releases_a_cycle_waiting_for_the_poll_and_start_serves_again(
        sf_emulator, config_file: Path, tmp_path: Path, memory_secrets, registry: Path) -> None:
    from fastapi.testclient import TestClient

    from qbsf.app.commands.qbwc import build_service, sync_transport, use_webconnector
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard import create_app
    from qbsf.app.dashboard.security import csrf_token
    from qbsf.app.logging import reset_logging
    from qbsf.app.settings import update_settings
    from qbsf.app.wiring import open_connector_app
    from qbsf.quickbooks.webconnector import create_app as create_endpoint
    from qbsf.quickbooks.webconnector.server import BackgroundServer

    seed_org(sf_emulator.state, accounts=1)
    update_settings({"salesforce.instance_url": sf_emulator.url, "salesforce.client_id": sf_emulator.client_id,
                     "salesforce.client_secret": sf_emulator.client_secret, "mappings_dir": str(EXAMPLE_MAPPINGS),
                     "state_url": f"sqlite:///{tmp_path / 'state.db'}", "log_dir": str(tmp_path / "logs"),
                     "quickbooks.transport": "webconnector", "sync.polling_interval": "1",
                     "sync.salesforce_heartbeat": "false", "quickbooks.default_accounts.income": "Sales"},
                    secrets=memory_secrets)
    reg = WebConnectorRegistry.load(registry)
    service = build_service(reg, poll_wait=0.2)
    transport = sync_transport(service, reg, "acme")  # a cycle may wait 7 minutes for the next poll
    bundle = open_connector_app(AppContext(secrets=memory_secrets), console=False, transport_factory=lambda: transport)
    quickbooks = QuickBooksSimulator(company_name="Acme Supplies")
    try:
        services = use_webconnector(bundle, transport)
        assert bundle.dashboard.chart_of_accounts.__self__ is services, "the dashboard asks the Web Connector side"
        bundle.dashboard.allowed_hosts = (*bundle.dashboard.allowed_hosts, "testserver")
        client = TestClient(create_app(bundle.dashboard), headers={
            "Origin": "http://testserver", "X-CSRF-Token": csrf_token(bundle.dashboard.token)})
        client.get(f"/?token={bundle.dashboard.token}")
        client.post("/actions/start")
        # Generous ceilings for a loaded machine, each far below the 7 minutes a cycle would wait without the stop.
        wait_for(lambda: service.bridge("acme").status().queued_requests > 0, 60, "no request waits for a poll", [])
        client.post("/actions/stop")
        wait_for(lambda: bundle.connector.status().state == "stopped", STOP_CEILING, "■ Stop left the cycle waiting",
                 [])
        assert service.bridge("acme").status().queued_requests == 0
        client.post("/actions/start")
        with BackgroundServer(create_endpoint(service)) as server, WebConnectorStandIn(
                server.url, "acme-qbwc", "acme-password-1", quickbooks) as wc:
            deadline = time.monotonic() + 120
            while not quickbooks.customers() and time.monotonic() < deadline:
                wc.run_session()
                time.sleep(0.05)
        assert [c["Name"] for c in quickbooks.customers()] == [sf_emulator.state.records("Account")[0]["Name"]]
        # ■ Stop again with the next cycle under way, no Web Connector left to poll: it ends as promptly.
        client.post("/actions/stop")
        wait_for(lambda: bundle.connector.status().state == "stopped", STOP_CEILING, "■ Stop left the cycle waiting",
                 [])
    finally:
        bundle.services.stop()  # a failed ■ Stop must fail the test, not leave a cycle waiting minutes for a poll
        bundle.close(wait=20)
        reset_logging()


def test_qbwc_serve_with_the_dashboard_shows_the_panel(tmp_path: Path, registry: Path) -> None:
    config = tmp_path / "serve.toml"
    config.write_text(f'state_url = "sqlite:///{tmp_path / "serve.db"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSF_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), XDG_DATA_HOME=str(tmp_path / "xdg"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "qbwc", "serve", "--no-engine", "--port", "0",
                             "--dashboard-port", "0", "--registry", str(registry), "--config", str(config)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("Web Connector endpoint on" in line for line in lines), 60, "no endpoint", lines)
        endpoint = re.search(r"(http://127\.0\.0\.1:\d+/qbwc)", "".join(lines)).group(1)
        dashboard = next(line for line in lines if line.startswith("Dashboard: ")).split(" ", 1)[1].strip()
        base, token = dashboard.split("/?", 1)[0], dashboard.split("token=", 1)[1]
        headers = {"Authorization": f"Bearer {token}"}
        with WebConnectorStandIn(endpoint, "acme-qbwc", "acme-password-1", QuickBooksSimulator()) as wc:
            assert wc.run_session().auth_status == "none"
        page = httpx.get(base + "/", headers=headers).text
        assert 'id="webconnector"' in page and 'data-company="acme"' in page and "no session yet" in page
        qwc = httpx.get(f"{base}/webconnector/acme.qwc", headers=headers)
        assert qwc.status_code == 200 and f"<AppURL>{endpoint}</AppURL>" in qwc.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
    assert "Traceback" not in "".join(lines)
