"""`--tenant COMPANY` on `qbsf sync` and `qbsf status`: a hosted deployment's company from the command line — its
own settings, secrets and rows of the deployment's state database, nobody else's; an unknown company is one line
naming the known ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qbsf.app.cli import app, main
from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.secret_box import KEY_ENV, new_key
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sync.tenants import TenantRegistry

COMPANIES = ("acme", "beta")


@pytest.fixture
def deployment(sf_emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The deployment's settings (its state database) and two companies, each with its settings file and its own
    QuickBooks company file, on one Salesforce org."""
    for name in list(os.environ):
        if name.startswith("QBSF_"):
            monkeypatch.delenv(name)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    paths = {"config": tmp_path / "deployment.toml", "state": tmp_path / "state.db"}
    paths["config"].write_text(f'state_url = "sqlite:///{paths["state"]}"\n', encoding="utf-8")
    for company in COMPANIES:
        paths[company] = tmp_path / f"{company}.sqlite"
        (tmp_path / f"{company}.toml").write_text(
            f'state_url = "sqlite:///{tmp_path / "ignored.db"}"\nmappings_dir = "{EXAMPLE_MAPPINGS}"\n'
            f'[salesforce]\ninstance_url = "{sf_emulator.url}"\nclient_id = "{sf_emulator.client_id}"\n'
            f'auth_flow = "client_credentials"\n'
            f'[quickbooks]\ntransport = "simulator"\nsimulator_path = "{paths[company]}"\n'
            f'[quickbooks.default_accounts]\nincome = "Sales"\n', encoding="utf-8")
        QuickBooksSimulator(paths[company]).close()
    with TenantRegistry(str(paths["state"])) as registry:
        for company in COMPANIES:
            registry.add(company, config=str(tmp_path / f"{company}.toml"))
    monkeypatch.setenv("QBSF_CONFIG", str(paths["config"]))
    monkeypatch.setenv("QBSF_SALESFORCE__CLIENT_SECRET", sf_emulator.client_secret)
    monkeypatch.setenv(KEY_ENV, new_key())  # the companies' tokens are stored encrypted
    return paths


def _customers(path: Path) -> list[dict]:
    sim = QuickBooksSimulator(path)
    try:
        return sim.customers()
    finally:
        sim.close()


def test_sync_runs_one_company_on_its_own_rows(deployment, sf_emulator) -> None:
    seed_org(sf_emulator.state, accounts=3)
    runner = CliRunner()
    done = runner.invoke(app, ["sync", "--tenant", "acme", "sf-to-qb", "--entity", "account", "--no-progress"])
    assert done.exit_code == 0, done.output
    assert len(_customers(deployment["acme"])) == 3 and _customers(deployment["beta"]) == []
    assert not (deployment["state"].parent / "ignored.db").exists(), "a company's own state_url is not used"

    acme = json.loads(runner.invoke(app, ["sync", "status", "--tenant", "acme", "--json"]).output)
    beta = json.loads(runner.invoke(app, ["sync", "status", "--json", "--tenant", "beta"]).output)
    default = json.loads(runner.invoke(app, ["sync", "status", "--json"]).output)
    assert acme["links"] == {"Account": 3} and acme["totals"]["Account"] == {"created": 3}
    assert beta["links"] == {} and default["links"] == {}, "nothing of acme's in another company"

    # beta's first pass creates its own Customers: acme's links never made them look synced.
    again = runner.invoke(app, ["sync", "sf-to-qb", "--tenant", "beta", "--entity", "account", "--no-progress"])
    assert again.exit_code == 0, again.output
    assert len(_customers(deployment["beta"])) == 3 and len(_customers(deployment["acme"])) == 3


@pytest.mark.parametrize("args", [["sync", "--tenant", "nope", "status"], ["sync", "status", "--tenant", "nope"],
                                  ["status", "--tenant", "nope"]])
def test_an_unknown_company_is_one_line_naming_the_known_ones(deployment, capsys, args) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "company 'nope' is not registered" in err and "acme, beta, default" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err


def test_status_of_a_hosted_company_reads_the_workers_tables(deployment, capsys) -> None:
    from qbsf.quickbooks.webconnector.shared import SharedSessions
    from qbsf.sync.leases import COMPANY_PREFIX, Leases
    from qbsf.sync.state import FailureInput, StateStore

    with TenantRegistry(str(deployment["state"])) as registry:
        registry.open("acme").fail_many("Account", "sf_to_qb", [FailureInput("001A", "NeedsUser", "name taken")])
        engine = registry.state.engine
        shared = SharedSessions(engine, listen=False)
        shared.attach_engine("acme", 1)
        Leases(engine, "host-1:4242:abc", ttl=60).claim([COMPANY_PREFIX + "acme"], 1)
        shared.record_cycle("acme", 1, synced=3, failed=1)
        shared.close()
    StateStore(str(deployment["state"])).close()
    runner = CliRunner()
    online = runner.invoke(app, ["status", "--tenant", "acme"])
    assert online.exit_code == 0, online.output
    assert "✓ acme — Syncing on worker host-1:4242:abc" in online.output and "1 cycles" in online.output
    assert "1 record(s) failing" in online.output
    report = json.loads(runner.invoke(app, ["status", "--tenant", "acme", "--json"]).output)
    assert report["online"] and report["failures"] == 1 and report["worker"] == "host-1:4242:abc"
    assert 0 <= report["last_cycle_seconds_ago"] < 60 and report["last_cycle"]

    offline = runner.invoke(app, ["status", "--tenant", "beta"])
    assert offline.exit_code == 1 and "✗ beta — No worker runs it" in offline.output
    assert "failing" not in offline.output, "acme's failure is not beta's"
