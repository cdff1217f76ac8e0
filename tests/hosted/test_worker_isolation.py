"""Two companies registered with `qbsf tenants add`, served by `qbsf serve` (two worker processes on PostgreSQL, the
one SQLite allows) through their own Web Connectors: identical Salesforce orgs (same org id, record ids, names on one
emulator server), identical QuickBooks ListIDs — and nothing of one company reaches the other.

The worker path opens each company's state as a tenant of the shared tables (no schema, no file per company); any
state keyed without the company would mix them: a record one company synced would look synced (or linked) to the
other, and one company's values would travel to the other's systems.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette
from starlette.routing import Mount

from qbsf.bench import hosted as bench

COMPANIES = ("acme", "beta")
#: What tells the companies apart: the phone numbers each keeps on its own side.
PHONES = {"acme": {"sf": "555-0101", "qb": "555-0102"}, "beta": {"sf": "555-0201", "qb": "555-0202"}}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


class Book:
    """A company's QuickBooks, one message at a time (the stand-in calls it from its own thread)."""

    def __init__(self, frozen: list[datetime | None]) -> None:
        from qbsf.sim.quickbooks import QuickBooksSimulator

        self.sim = QuickBooksSimulator(clock=lambda: frozen[0] or datetime.now(UTC))
        self.lock = threading.Lock()

    def process(self, request_xml: str) -> str:
        with self.lock:
            return self.sim.process(request_xml)

    def customers(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {customer["Name"]: customer for customer in self.sim.customers()}


def _cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _in_sync(org: Any, book: Book) -> bool:
    accounts = {account["Name"]: account for account in org.records("Account")}
    customers = book.customers()
    return (set(accounts) == set(customers) == {"Acme Inc", "Northwind"}
            and all(accounts[name].get("QB_Customer_ID__c") == customers[name]["ListID"] for name in accounts))


def _wait_endpoint(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-2000:]
        try:
            if httpx.get(f"{base}/qbwc?wsdl", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"the endpoint did not start: {log_path.read_text()[-2000:]}")


@pytest.mark.parametrize("command", ["serve", "qbwc serve"])
def test_two_identical_companies_through_the_workers_nothing_crosses(hosted_url, tmp_path, command) -> None:
    from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry
    from qbsf.secret_box import KEY_ENV, new_key
    from qbsf.sim.salesforce import SalesforceState
    from qbsf.sim.salesforce.app import create_app
    from qbsf.sim.salesforce.server import serve_in_thread
    from qbsf.sim.salesforce.settings import EmulatorSettings
    from qbsf.sim.webconnector import WebConnectorStandIn

    postgres = hosted_url.startswith("postgresql")
    workers = 2 if postgres else 1  # SQLite serves one process
    orgs = {name: SalesforceState() for name in COMPANIES}
    emulator_settings = {name: EmulatorSettings() for name in COMPANIES}
    server = serve_in_thread(Starlette(routes=[Mount(f"/{name}", create_app(orgs[name], emulator_settings[name]))
                                               for name in COMPANIES]))
    frozen: list[datetime | None] = [datetime(2026, 11, 2, 14, 0, tzinfo=UTC)]
    books = {name: Book(frozen) for name in COMPANIES}
    ids = {name: orgs[name].insert("Account", {"Name": "Acme Inc", "Phone": PHONES[name]["sf"]})
           for name in COMPANIES}
    listids = {name: books[name].sim.add("Customer", {"Name": "Northwind", "Phone": PHONES[name]["qb"]})["ListID"]
               for name in COMPANIES}
    frozen[0] = None
    assert ids["acme"] == ids["beta"] and listids["acme"] == listids["beta"], "identical ids in both companies"

    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for sheet in ("Acct_to_Customer.csv", "Customer_to_Acct.csv"):
        shutil.copy(EXAMPLES / sheet, mappings / sheet)
    registry = WebConnectorRegistry.load(tmp_path / "webconnector.json")
    for name in COMPANIES:
        registry.register(name, username=f"{name}-qbwc", password=f"{name}-password", run_every_minutes=1)
        (tmp_path / f"{name}.toml").write_text(
            f'mappings_dir = "{mappings}"\n\n[salesforce]\ninstance_url = "{server.url}/{name}"\n'
            f'client_id = "{emulator_settings[name].client_id}"\n\n[quickbooks]\ntransport = "webconnector"\n\n'
            f'[sync]\npolling_interval = 1\n', encoding="utf-8")
    registry.save()
    env = {**os.environ, KEY_ENV: new_key(), "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QBSF_SALESFORCE__CLIENT_SECRET": emulator_settings["acme"].client_secret}
    assert emulator_settings["acme"].client_secret == emulator_settings["beta"].client_secret
    for name in COMPANIES:
        _cli("tenants", "add", name, "--company-config", str(tmp_path / f"{name}.toml"), "--state", hosted_url,
             env=env)

    port = bench._free_port()
    log_path = tmp_path / "serve.log"
    if command == "serve":  # the hosted workers: every company registered in the database
        args = ["serve", "--workers", str(workers), "--database", hosted_url, "--poll-wait", "2",
                "--lease-seconds", "6"]
    else:  # one process, every company of the --config settings' state database
        (tmp_path / "deployment.toml").write_text(f'state_url = "{hosted_url}"\n', encoding="utf-8")
        args = ["qbwc", "serve", "--config", str(tmp_path / "deployment.toml")]
    with log_path.open("w") as log_file:
        serve = subprocess.Popen(
            [sys.executable, "-m", "qbsf.app.cli", *args, "--registry", str(registry.path), "--port", str(port)],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    done: set[str] = set()
    errors: list[str] = []

    def company(name: str) -> None:
        with WebConnectorStandIn(f"{base}/qbwc", f"{name}-qbwc", f"{name}-password", books[name], noop_pause=0.1,
                                 retries=5, retry_pause=0.3, timeout=60) as wc:
            while not stop.is_set():
                try:
                    wc.run_session()
                except Exception as exc:  # as the Web Connector, try again on the next run
                    errors.append(f"{name}: {exc}")
                    stop.wait(0.5)
                    continue
                if _in_sync(orgs[name], books[name]):
                    done.add(name)
                stop.wait(0.3)

    threads = [threading.Thread(target=company, args=(name,), daemon=True) for name in COMPANIES]
    try:
        _wait_endpoint(base, serve, log_path)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 240
        while done != set(COMPANIES) and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(3)  # a few more idle sessions: nothing may move once both are in sync
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        bench._stop(serve)
        server.stop()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert done == set(COMPANIES), f"not in sync: {set(COMPANIES) - done}; errors {errors[:3]}; log {log[-2000:]}"

    for name in COMPANIES:
        other = "beta" if name == "acme" else "acme"
        customers = books[name].customers()
        accounts = {account["Name"]: account for account in orgs[name].records("Account")}
        assert len(books[name].sim.customers()) == 2 and len(orgs[name].records("Account")) == 2
        assert customers["Acme Inc"]["Phone"] == PHONES[name]["sf"], f"{other}'s Salesforce value in {name}"
        assert accounts["Northwind"]["Phone"] == PHONES[name]["qb"], f"{other}'s QuickBooks value in {name}"
        assert accounts["Northwind"]["QB_Customer_ID__c"] == listids[name]

    # Every line about a company's work names that company (its engine's lines and its Web Connector calls'); the
    # workers log at INFO on standard error.
    lines = [line for line in log.splitlines() if line.strip()]
    for name in COMPANIES if command == "serve" else ():
        other = "beta" if name == "acme" else "acme"
        mine = [line for line in lines if line.endswith(f"company={name}")]
        assert any("authenticated for company" in line for line in mine), "a Web Connector call's line"
        assert any("Account:" in line for line in mine), "an engine line"
        assert all(f"'{other}'" not in line for line in mine)
        named = [line for line in lines if f"'{name}'" in line or f"company {name}" in line]
        assert named and all(line.endswith(f"company={name}") for line in named), named[:3]

    from qbsf.sync.state import crosswalk_table

    engine = create_engine(hosted_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(crosswalk_table.c.tenant, crosswalk_table.c.entity,
                                             crosswalk_table.c.sf_id, crosswalk_table.c.qb_id)).all()
            # a schema of the test's own is its tables' home; any other starting with its name would be per company
            own = hosted_url.rsplit("search_path%3D", 1)[-1]
            schemas = connection.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :own AND "
                                              "nspname <> :schema"), {"own": f"{own}%", "schema": own}
                                         ).scalars().all() if postgres else []
    finally:
        engine.dispose()
    links = {name: {sf_id: qb_id for tenant, _entity, sf_id, qb_id in rows if tenant == name} for name in COMPANIES}
    assert {tenant for tenant, *_rest in rows} == set(COMPANIES)
    assert len(links["acme"]) == 2 and set(links["acme"]) == set(links["beta"]), "the same ids, a row per company"
    northwind = {name: next(sf_id for sf_id, qb_id in links[name].items() if qb_id == listids[name])
                 for name in COMPANIES}
    assert northwind["acme"] == northwind["beta"], "Northwind: the same Salesforce id and ListID in both companies"
    for name in COMPANIES:  # Acme Inc: made in each QuickBooks by its own engine (the ListID stamps its second)
        assert links[name][ids[name]] == books[name].customers()["Acme Inc"]["ListID"]
    assert schemas == [], "no schema per company"
    if not postgres:
        database = Path(make_url(hosted_url).database)
        assert sorted(p.name for p in database.parent.glob("*.db")) == [database.name], "no file per company"
