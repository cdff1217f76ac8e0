"""Tenants: one state database, many companies, and no company sees another's rows — on SQLite and PostgreSQL.

Two companies here hold records with the very same entities, Salesforce Ids, QuickBooks ids, sources and names:
whatever one store writes, the other must neither read, change nor delete.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from qbsf.errors import ConfigError
from qbsf.sync import migrations, tenant_scope
from qbsf.sync.inbound_state import InboundState
from qbsf.sync.invoice_status import OpenInvoice
from qbsf.sync.lifecycle import Notice, Notices
from qbsf.sync.merge import Base
from qbsf.sync.merge_state import BaseStore
from qbsf.sync.state import (
    Activity,
    Direction,
    FailureInput,
    JournalEntry,
    Link,
    Outcome,
    StateStore,
    crosswalk_table,
)
from qbsf.sync.tenant_scope import TenantScopeError
from qbsf.sync.tenants import DEFAULT_TENANT, TenantRegistry, check_tenant_id, scoped_tables, tenant_table

SF, QB = Direction.SF_TO_QB, Direction.QB_TO_SF
ACME = "001Q00000000001AAA"
LIST_ID = "80000001-1700000000"


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request, tmp_path: Path) -> str:
    """One state database that several stores open: a SQLite file, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return request.getfixturevalue("postgres_state_url")


@pytest.fixture
def registry(shared_url: str):
    with TenantRegistry(shared_url) as tenants:
        tenants.add("acme", name="Acme Bookkeeping")
        tenants.add("beta")
        yield tenants


def _fill(store: StateStore, label: str) -> None:
    """The same keys in every table, with values that say which company wrote them."""
    store.record_many([Link("Account", ACME, LIST_ID, edit_sequence="1", qb_name=f"Acme ({label})")])
    store.set_watermark("sf:Account", f"2026-11-02T14:00:00.000+0000 {label}")
    store.remember_seen("sf:Account", [(ACME, label)])
    store.set_hashes_many("Account", SF, {ACME: label * 8})
    store.journal_begin_many([JournalEntry("Account", ACME, "add", qb_name=f"Acme ({label})")])
    store.fail_many("Account", SF, [FailureInput(ACME, "NeedsUser", f"bad phone ({label})")])
    store.log(Activity("Account", SF, "add", Outcome.CREATED, sf_id=ACME, qb_id=LIST_ID, message=label))
    inbound = InboundState(store)
    inbound.set_snapshots("Customer", {LIST_ID: (ACME, True, {"Name": f"Acme ({label})"})})
    inbound.set_invoice_statuses([OpenInvoice("1A2C-1700000000", date(2026, 11, 30), None, f"Open-{label}")])
    BaseStore(store).put_many("Account", {LIST_ID: Base(sf_id=ACME, salesforce={"name": label})})
    Notices(store).add_many([Notice("Account", ACME, "deleted", LIST_ID, label, store.now())])


def _seen_by(store: StateStore) -> dict[str, object]:
    """Everything ``store`` reads back of the keys :func:`_fill` wrote."""
    link = store.lookup("Account", ACME)
    (failure,) = store.failures()
    return {
        "link": link.qb_name if link else None, "by_qb": store.lookup_qb_many("Account", [LIST_ID])[LIST_ID].qb_name,
        "links": store.count_links(), "watermark": store.get_watermark("sf:Account"),
        "watermarks": sorted(store.watermarks()), "seen": store.unseen("sf:Account", [(ACME, "a"), (ACME, "b")]),
        "hash": store.hashes_many("Account", SF, [ACME]), "journal": [e.qb_name for e in store.journal()],
        "in_flight": [e.qb_name for e in store.in_flight()], "failure": failure.message,
        "activity": [a.message for a in store.recent()], "totals": store.totals(),
        "snapshot": dict(InboundState(store).snapshots("Customer", [LIST_ID])[LIST_ID]),
        "invoices": [i.status for i in InboundState(store).open_invoices()],
        "base": BaseStore(store).get_many("Account", [LIST_ID])[LIST_ID].salesforce,
        "notices": [n.message for n in Notices(store).open()],
    }


def _expected(label: str, *, other: str) -> dict[str, object]:
    return {
        "link": f"Acme ({label})", "by_qb": f"Acme ({label})", "links": {"Account": 1},
        "watermark": f"2026-11-02T14:00:00.000+0000 {label}", "watermarks": ["sf:Account"], "seen": [(ACME, other)],
        "hash": {ACME: label * 8}, "journal": [f"Acme ({label})"], "in_flight": [f"Acme ({label})"],
        "failure": f"bad phone ({label})", "activity": [label], "totals": {"Account": {"created": 1}},
        "snapshot": {"Name": f"Acme ({label})"}, "invoices": [f"Open-{label}"], "base": {"name": label},
        "notices": [label]}


def test_two_companies_with_the_same_keys_never_see_each_others_rows(registry: TenantRegistry) -> None:
    with registry.open("acme") as acme, registry.open("beta") as beta:
        _fill(acme, "a")
        _fill(beta, "b")
        seen_a, seen_b = _seen_by(acme), _seen_by(beta)
        assert seen_a == _expected("a", other="b")
        assert seen_b == _expected("b", other="a")

        # One company's resets, retries, prunes and deletions leave the other's rows alone.
        assert acme.clear_hashes() == 1
        assert acme.unlink("Account", ACME)
        assert acme.reset_all_watermarks() == 1
        assert acme.retry() == 1
        acme.clear_failures_many("Account", SF, [ACME])
        assert acme.prune_activity(datetime(2100, 1, 1, tzinfo=UTC)) == 1
        InboundState(acme).forget("Customer")
        BaseStore(acme).forget("Account")
        Notices(acme).resolve("Account", [ACME])
        acme.journal_complete_many({e.id: LIST_ID for e in acme.in_flight() if e.id is not None})
        assert acme.lookup("Account", ACME) is None and acme.failures() == [] and acme.recent() == []
        assert [e.qb_name for e in beta.in_flight()] == ["Acme (b)"], "completing acme's journal left beta's"
        assert _seen_by(beta) == seen_b


def test_a_store_cannot_write_rows_for_another_company(registry: TenantRegistry) -> None:
    with registry.open("acme") as acme:
        with acme._tx() as connection, pytest.raises(TenantScopeError, match="company 'beta'"):
            connection.execute(crosswalk_table.insert(), [{
                "tenant": "beta", "entity": "Account", "sf_id": ACME, "qb_id": LIST_ID, "written_back": False,
                "created_at": acme.now(), "updated_at": acme.now()}])
        with acme._tx() as connection, pytest.raises(TenantScopeError, match="another company"):
            connection.execute(update(crosswalk_table).values(tenant="beta"))
        with acme._tx() as connection, pytest.raises(TenantScopeError, match="SQL text"):
            connection.execute(text("SELECT * FROM crosswalk"))
        # A sub-select is scoped too: beta's link is invisible inside acme's query.
        with registry.open("beta") as beta:
            beta.record_many([Link("Account", ACME, LIST_ID)])
        with acme._tx() as connection:
            inner = select(crosswalk_table.c.sf_id).scalar_subquery()
            assert connection.execute(select(crosswalk_table.c.qb_id).where(
                crosswalk_table.c.sf_id.in_(inner))).all() == []
            joined = crosswalk_table.join(crosswalk_table.alias("other"), text("1 = 1"))
            assert connection.execute(select(crosswalk_table.c.sf_id).select_from(joined)).all() == []


def test_companies_of_one_database_share_one_connection_pool(registry: TenantRegistry) -> None:
    acme = registry.open("acme")
    with registry.open("beta") as beta:
        assert acme.engine is beta.engine is registry.state.engine
        beta.record_many([Link("Account", ACME, LIST_ID)])
    acme.close()  # closing a company's store leaves the shared pool to the others
    with registry.open("beta") as beta:
        assert beta.lookup("Account", ACME) is not None and registry.open("acme").lookup("Account", ACME) is None
    with pytest.raises(ConfigError, match="not registered"):
        registry.open("gamma")


def test_every_state_table_belongs_to_a_tenant() -> None:
    """A table added without a tenant column would be shared by every company: each must have one."""
    from qbsf.sync.leases import DEPLOYMENT_TABLES  # hosted workers' coordination: rows name their company

    declared = {table.name for table in migrations.target_metadata().sorted_tables}
    assert declared - {table.name for table in scoped_tables()} == {tenant_table.name, *DEPLOYMENT_TABLES}


def test_registry_add_show_remove(registry: TenantRegistry, shared_url: str) -> None:
    assert [t.id for t in registry.list()] == ["acme", "beta", DEFAULT_TENANT]
    assert registry.get("acme").name == "Acme Bookkeeping"
    with pytest.raises(ConfigError, match="registered already"):
        registry.add("acme")
    with pytest.raises(ConfigError, match="is not usable"):
        registry.add("../etc")
    with registry.open("acme") as acme, registry.open("beta") as beta:
        _fill(acme, "a")
        _fill(beta, "b")
    counts = registry.rows("beta")
    assert counts["crosswalk"] == 1 and counts["activity"] == 1 and len(counts) == len(scoped_tables()) - 1, (
        "every table but the secrets holds one of beta's rows")
    assert registry.remove("beta") == counts
    assert [t.id for t in registry.list()] == ["acme", DEFAULT_TENANT]
    with pytest.raises(ConfigError, match="not registered"):
        StateStore(shared_url, tenant="beta")
    with registry.open("acme") as acme:
        assert _seen_by(acme)["link"] == "Acme (a)", "removing beta kept acme's rows"
    with pytest.raises(ConfigError, match="cannot be removed"):
        registry.remove(DEFAULT_TENANT)


def test_the_default_company_is_the_single_company_setup(shared_url: str) -> None:
    with StateStore(shared_url) as store:
        assert store.tenant == DEFAULT_TENANT
        store.record_many([Link("Account", ACME, LIST_ID)])
        with store.engine.connect() as connection:
            assert connection.execute(select(crosswalk_table.c.tenant)).scalars().all() == [DEFAULT_TENANT]
        registry = TenantRegistry(shared_url, state=store)
        assert [t.id for t in registry.list()] == [DEFAULT_TENANT]


def test_tenant_ids_are_company_profile_names() -> None:
    from qbsf.quickbooks.webconnector.qwc import check_company_name

    for good in ("acme", "Acme Corp", "a.b_c-d", "x" * 63):
        assert check_tenant_id(good) == check_company_name(good)
    for bad in ("", " acme", "-acme", "a/b", "x" * 64, "acme\n"):
        with pytest.raises(ConfigError):
            check_tenant_id(bad)
    assert tenant_scope.TENANT_ID_LENGTH == 63
