"""`qbsf demo edit …`: change one record in the running demo's Salesforce org or QuickBooks company, as a user of
that system would, so the next cycle has something to sync.

    edit_salesforce(Path(".qbsf-demo"), "Account", "Acme Corporation", {"Phone": "(415) 555-0100"})
    edit_quickbooks(Path(".qbsf-demo"), "Customer", "Acme Corporation", {"Phone": "555-0199"})

The Salesforce side goes through the running emulator's REST API (its org lives in that process's memory); the
QuickBooks side opens the demo's company file, which the simulator re-reads for every message.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError
from qbsf.sync.entities import REGISTRY, SyncedEntity

# What a bookkeeper calls each QuickBooks record the demo can edit: the synced QuickBooks entities.
QUICKBOOKS_KINDS: dict[str, SyncedEntity] = {}
for _item in REGISTRY:
    QUICKBOOKS_KINDS.setdefault(_item.qb_entity, _item)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["Phone=555-0100", "BillingCity=Austin"]`` → a dict; a pair without ``=`` is refused naming it."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{pair!r} is not FIELD=VALUE", hint="write e.g. Phone=555-0100")
        values[name.strip()] = value
    if not values:
        raise ConfigError("nothing to change", hint="give at least one FIELD=VALUE, e.g. Phone=555-0100")
    return values


def _demo_settings(directory: Path) -> dict[str, Any]:
    path = directory / "config.toml"
    if not path.is_file():
        raise ConfigError(f"no demo in {directory.resolve()}", hint="start it first: make demo (or qbsf demo)")
    with path.open("rb") as handle:
        return tomllib.load(handle)


def edit_salesforce(directory: Path, sobject: str, name: str, values: dict[str, str]) -> str:
    """Update the ``sobject`` record named ``name`` in the running demo's org; returns a one-line summary."""
    import httpx

    from qbsf.salesforce import ClientCredentialsAuth, SalesforceClient, format_soql
    from qbsf.sim.salesforce import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    url = _demo_settings(directory).get("salesforce", {}).get("instance_url", "")
    auth = ClientCredentialsAuth(url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    try:
        with SalesforceClient(url, auth, retries=1, retry_deadline=5) as sf:
            rows = sf.query(format_soql(f"SELECT Id FROM {sobject} WHERE Name = {{}} LIMIT 2", name))
            if len(rows) != 1:
                found = "no" if not rows else "more than one"
                raise ConfigError(f"{found} {sobject} named {name!r} in the demo org",
                                  hint=f"pick a name the dashboard's Recent Activity shows for {sobject}")
            result = sf.update_many(sobject, [{"Id": rows[0]["Id"], **values}])[0]
    except httpx.TransportError:
        raise ConfigError(f"the demo's Salesforce emulator at {url} is not answering",
                          hint="start the demo first (make demo) and run this in a second terminal") from None
    if not result.success:
        raise ConfigError(f"Salesforce refused the change to {sobject} {name!r}: {result.error}",
                          hint="check the field names (Salesforce API names, e.g. Phone, BillingCity)")
    changed = ", ".join(f"{field} = {value!r}" for field, value in values.items())
    return f"✓ Salesforce {sobject} {name!r}: {changed}"


def _nested(values: dict[str, str]) -> dict[str, Any]:
    # qbXML element paths: BillAddress.City → {"BillAddress": {"City": …}}
    fields: dict[str, Any] = {}
    for path, value in values.items():
        target = fields
        *parents, leaf = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return fields


def edit_quickbooks(directory: Path, kind: str, name: str, values: dict[str, str]) -> str:
    """Change the QuickBooks ``kind`` record named ``name`` (an invoice by its number) in the demo's company file."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    if kind not in QUICKBOOKS_KINDS:
        raise ConfigError(f"the demo cannot edit a QuickBooks {kind}",
                          hint=f"use one of: {', '.join(QUICKBOOKS_KINDS)}")
    settings = _demo_settings(directory)
    company = Path(settings.get("quickbooks", {}).get("simulator_path") or directory / "company.qbsim")
    if not company.is_file():
        raise ConfigError(f"no QuickBooks company in {directory.resolve()}", hint="start the demo first: make demo")
    from qbsf.app.demo.summary import qb_records

    item = QUICKBOOKS_KINDS[kind]
    with QuickBooksSimulator(company) as sim:
        records = qb_records(sim, item) or []
        # a transaction is known by its number, a list record by its full name
        key = "RefNumber" if item.is_txn else "FullName"
        matches = [record for record in records if record.get(key) == name]
        if len(matches) != 1:
            raise ConfigError(f"no QuickBooks {kind} named {name!r} in the demo company",
                              hint=f"list them with: qbsf sim quickbooks show {company} --kind {kind}")
        record = matches[0]
        sim.modify(record.get("TxnID") or record["ListID"], _nested(values))
    changed = ", ".join(f"{field} = {value!r}" for field, value in values.items())
    return f"✓ QuickBooks {kind} {name!r}: {changed}"
