"""No QuickBooks transport is assumed outside `qbsf demo` and the tests: `qbsf run` refuses to start and says how
to choose one, and the dashboard says the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qbsf.errors import ConfigError


def _env(tmp_path: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSF_")}
    env.update(QBSF_CONFIG=str(config), QBSF_SALESFORCE__CLIENT_SECRET="s3cret", XDG_CONFIG_HOME=str(tmp_path / "x"),
               XDG_DATA_HOME=str(tmp_path / "x"), XDG_STATE_HOME=str(tmp_path / "x"), COLUMNS="250")
    return env


def test_qbsf_run_refuses_to_start_without_a_chosen_transport(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'state_url = "sqlite:///{tmp_path / "state.db"}"\n[salesforce]\n'
                      'instance_url = "https://acme.my.salesforce.com"\nclient_id = "abc"\n'
                      'auth_flow = "client_credentials"\n[dashboard]\nport = 0\n')
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "run", "--no-dashboard"], env=_env(tmp_path, config),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert "QuickBooks transport not chosen" in said
    assert "qbsf config set quickbooks.transport com" in said and "quickbooks.transport webconnector" in said
    assert "Connected" not in done.stdout + done.stderr and "Demo Company" not in done.stdout + done.stderr
    assert not (tmp_path / "state.db").exists(), "nothing started"


def test_one_shot_sync_commands_refuse_too(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from qbsf.app.transports import quickbooks_transport

    with pytest.raises(ConfigError, match="QuickBooks transport not chosen"):
        quickbooks_transport(SimpleNamespace(transport="", simulator_path="", app_name="qbsf", company_file="",
                                             connect_attempts=3))


def test_the_dashboard_says_the_same(config_file: Path, memory_secrets) -> None:
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard.app import Dashboard, create_app
    from qbsf.app.logging import LogBuffer
    from qbsf.app.settings import update_settings

    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[sync]\npolling_interval = 60\n")
    board = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=LogBuffer(),
                      allowed_hosts=("testserver",))
    client = TestClient(create_app(board))
    page = client.get(f"/?token={board.token}")
    banner = page.text.split('id="settings-problem"', 1)[1].split("</div>", 1)[0]
    assert "QuickBooks transport not chosen" in banner and "quickbooks.transport com" in banner
    assert '<option value="" selected>— choose —</option>' in page.text
    update_settings({"quickbooks.transport": "com"}, config_file)
    assert 'id="settings-problem"' not in client.get("/").text
