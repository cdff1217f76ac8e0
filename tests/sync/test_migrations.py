"""The state database upgrades in place: a database made by qbsf 0.1.0 loses no row, on SQLite and PostgreSQL.

``fixtures/state-0.1.0.sqlite`` was written by the 0.1.0 code (``fixtures/make_state_0_1_0.py``). On SQLite the
test opens a copy of that file; on PostgreSQL it builds the 0.1.0 tables (as 0.1.0's ``create_all`` did: no
version table) and copies the fixture's rows into them. Opening a StateStore must upgrade either one.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, insert, inspect, select, text

from qbsf.errors import ConfigError
from qbsf.sync import migrations
from qbsf.sync.inbound_state import InboundState
from qbsf.sync.invoice_status import OpenInvoice
from qbsf.sync.state import Direction, JournalEntry, JournalStatus, StateStore, entity_of_source

FIXTURE = Path(__file__).parent / "fixtures" / "state-0.1.0.sqlite"
SF, QB = Direction.SF_TO_QB, Direction.QB_TO_SF
WATERMARKS_0_1_0 = {
    "sf:Account": "2026-11-02T14:00:00.000+0000", "sf:Opportunity": "2026-11-02T14:05:00.000+0000",
    "qb:Customer": "2026-11-02T14:10:00+00:00", "qb:Invoice": "2026-11-02T14:11:00+00:00",
    "qb:Invoice:status_day": "2026-11-02", "qb:company_utc_offset": "-300", "qb:deleted": "2026-11-02T14:12:00+00:00",
}


def _baseline_module():
    return migrations.script_directory().get_revision("0001_baseline").module


def _database_from_0_1_0(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A state database exactly as qbsf 0.1.0 left it, on ``kind``; returns its URL."""
    if kind == "sqlite":
        path = tmp_path / "state.db"
        shutil.copyfile(FIXTURE, path)
        return str(path)
    url = request.getfixturevalue("postgres_state_url")
    source = create_engine(f"sqlite:///{FIXTURE}")
    target = create_engine(url)
    try:
        baseline = _baseline_module().baseline_metadata()
        old = MetaData()
        old.reflect(source)
        with target.begin() as connection:
            baseline.create_all(connection)
            with source.connect() as reading:
                for table in baseline.sorted_tables:
                    rows = [dict(row) for row in reading.execute(select(old.tables[table.name])).mappings()]
                    if rows:
                        connection.execute(insert(table), rows)
            # Rows copied with their ids: move the id sequences on, as 0.1.0's own inserts would have.
            for name in ("journal", "activity"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                        f"(SELECT max(id) FROM {name}))"))
    finally:
        source.dispose()
        target.dispose()
    return url


def _before_tenants(table: Table) -> Table:
    """``table`` as revisions before 0006_tenants had it: the same columns without ``tenant``."""
    return Table(table.name, MetaData(), *[column._copy() for column in table.columns if column.name != "tenant"])


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path) -> str:
    return _database_from_0_1_0(request.param, tmp_path, request)


def test_fixture_is_a_0_1_0_database() -> None:
    engine = create_engine(f"sqlite:///{FIXTURE}")
    try:
        names = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            counts = {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() for name in names}
    finally:
        engine.dispose()
    assert "alembic_version" not in names, "0.1.0 had no version table"
    assert names == {table.name for table in _baseline_module().baseline_metadata().sorted_tables}
    assert all(counts.values()), f"every table of the fixture holds rows: {counts}"


def test_upgrading_a_0_1_0_database_keeps_every_row(old_database: str, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="qbsf.sync.state"), StateStore(old_database) as store:
        assert any("upgraded from schema 0.1.0" in message for message in caplog.messages)
        with store.engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head()

        assert {entity: count for entity, count in store.count_links().items()} == {
            "Account": 2, "Contact": 1, "Product2": 1, "Opportunity": 1, "QB_Invoice__c": 1}
        acme = store.lookup("Account", "001Q00000000001AAA")
        assert acme is not None and (acme.qb_id, acme.edit_sequence, acme.qb_name, acme.written_back) == (
            "80000001-1700000000", "1700000001", "Acme Corp", True)
        assert acme.external_guid == "{6b0b1f4e-0000-5000-8000-000000000001}"
        assert [link.sf_id for link in store.pending_write_backs("Account")] == ["001Q00000000002AAA"]

        assert {source: value for source, (value, _at) in store.watermarks().items()} == WATERMARKS_0_1_0
        assert store.get_watermark("qb:Invoice:status_day") == "2026-11-02"
        assert store.unseen("sf:Account", [("001Q00000000001AAA", "2026-11-02T14:00:00.000+0000")]) == []
        assert store.unseen("qb:Customer", [("80000001-1700000000", "1700000001"),
                                            ("80000002-1700000000", "1700000002"),
                                            ("80000002-1700000000", "1700000003")]) == [
            ("80000002-1700000000", "1700000003")]

        assert store.hashes_many("Account", SF, ["001Q00000000001AAA"]) == {"001Q00000000001AAA": "a" * 64}
        assert store.hashes_many("Customer", QB, ["80000001-1700000000"]) == {"80000001-1700000000": "b" * 64}

        (pending,) = store.in_flight()
        assert (pending.entity, pending.sf_id, pending.qb_name, pending.external_guid) == (
            "Opportunity", "006Q00000000002AAA", "Acme - rush", "{6b0b1f4e-0000-5000-8000-000000000002}")
        done = [entry for entry in store.journal() if entry.status is JournalStatus.COMPLETED]
        assert [(entry.sf_id, entry.qb_id) for entry in done] == [("001Q00000000001AAA", "80000001-1700000000")]

        failures = {(f.entity, f.record_key): f for f in store.failures()}
        assert set(failures) == {("Account", "001Q00000000003AAA"), ("Account", "001Q00000000004AAA"),
                                 ("Customer", "80000009-1700000000")}
        parked = failures[("Account", "001Q00000000004AAA")]
        assert parked.parked and parked.message == "The name Initech is already used by a Vendor"
        assert parked.next_attempt_at == datetime(2026, 11, 2, 14, 30, 30, tzinfo=UTC)
        busy = failures[("Account", "001Q00000000003AAA")]
        assert (busy.parked, busy.next_step, busy.attempts) == (False, "backoff", 1)
        assert busy.due(datetime(2026, 11, 2, 14, 30, 30, tzinfo=UTC)), "a retrying record is still retried"
        skipped = failures[("Customer", "80000009-1700000000")]
        assert (skipped.parked, skipped.next_step) == (False, "record"), "a skippable failure is recorded only"

        assert [(a.entity, a.outcome) for a in store.recent()] == [
            ("Customer", "updated"), ("Account", "parked"), ("Account", "created")]

        inbound = InboundState(store)
        snapshot = inbound.snapshots("Customer", ["80000001-1700000000"])["80000001-1700000000"]
        assert dict(snapshot) == {"Name": "Acme Corp", "Phone": "555-0100"}
        assert (snapshot.sf_id, snapshot.active, snapshot.edit_sequence) == (
            "001Q00000000001AAA", True, "1700000001")
        assert set(inbound.snapshots("Invoice", ["1A2C-1700000000"])) == {"1A2C-1700000000"}
        assert inbound.open_invoices() == [
            OpenInvoice("1A2C-1700000000", date(2026, 11, 30), Decimal("120.00"), "Open"),
            OpenInvoice("1A2D-1700000000", date(2026, 10, 1), Decimal("5.00"), "OverDue")]

        # The upgraded database goes on working: new journal ids follow the old ones, new state is keyed by entity.
        (entry,) = store.journal_begin_many([JournalEntry("Account", "001Q00000000009AAA", "add")])
        assert entry.id is not None and entry.id > max(e.id or 0 for e in store.journal() if e.id != entry.id)
        store.set_watermark("sf:Opportunity", "2026-11-03T00:00:00.000+0000", entity="Estimate")
        assert store.get_watermark("sf:Opportunity") == WATERMARKS_0_1_0["sf:Opportunity"]
        inbound.set_invoice_statuses([OpenInvoice("1A2E-1700000000", None, None, "Open")])
        assert len(inbound.open_invoices()) == 3

    with StateStore(old_database) as reopened:  # a second open finds the newest schema: nothing to do
        assert reopened.get_watermark("sf:Opportunity", entity="Estimate") == "2026-11-03T00:00:00.000+0000"


def test_revisions_build_the_schema_the_code_declares(state_url: str) -> None:
    """A new database gets the declared tables at once; the revisions must build exactly the same schema."""
    store = StateStore(state_url)  # opens (and for SQLite in memory, holds) the database
    try:
        with store.engine.begin() as connection:
            for table in reversed(migrations.target_metadata().sorted_tables):
                table.drop(connection)
            connection.execute(text("DROP TABLE alembic_version"))
            assert migrations.upgrade(connection, "0001_baseline").applied == ("0001_baseline",)
            later = tuple(r.revision for r in reversed(list(migrations.script_directory().walk_revisions())))[1:]
            assert migrations.upgrade(connection).applied == later
            differences = compare_metadata(MigrationContext.configure(connection), migrations.target_metadata())
        assert differences == [], "a table or column changed without a revision: add one (see alembic.ini)"
    finally:
        store.close()


def test_a_database_from_a_newer_qbsf_is_refused(tmp_path) -> None:
    path = tmp_path / "state.db"
    StateStore(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    engine.dispose()
    with pytest.raises(ConfigError, match="a newer qbsf wrote it") as info:
        StateStore(path)
    assert "upgrade qbsf" in str(info.value)


def test_entity_of_source() -> None:
    assert [entity_of_source(s) for s in ("sf:Account", "qb:Invoice:status_day", "qb:deleted",
                                          "qb:company_utc_offset", "plain")] == ["Account", "Invoice", "", "", ""]
    revision = migrations.script_directory().get_revision("0002_entity_keys").module
    assert all(revision.entity_of_source(s) == entity_of_source(s) for s in WATERMARKS_0_1_0)


def test_a_merge_base_table_made_before_its_revision_keeps_its_rows(tmp_path) -> None:
    """The merge created sync_base itself before revision 0004: such a database upgrades with the rows kept."""
    from qbsf.sync.merge_state import base_table

    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrations.upgrade(connection, "0003_failure_next_step")
        _before_tenants(base_table).create(connection)
        connection.execute(insert(_before_tenants(base_table)), [{
            "entity": "Account", "qb_id": "80000001-1", "sf_id": "001A", "salesforce": "{}",
            "synced_at": datetime(2026, 12, 1, tzinfo=UTC)}])
    engine.dispose()
    with StateStore(path) as store, store.engine.connect() as connection:
        assert migrations.current_revision(connection) == migrations.head()
        assert connection.execute(select(base_table.c.sf_id)).scalars().all() == ["001A"]


def test_a_0_4_database_gets_the_life_cycle_notices_table(tmp_path) -> None:
    """Revision 0005 adds lifecycle_notice to a database at 0004, its other rows kept; notices work at once."""
    from qbsf.sync.lifecycle import Notice, Notices
    from qbsf.sync.merge_state import base_table

    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrations.upgrade(connection, "0004_sync_base")
        assert not inspect(connection).has_table("lifecycle_notice")
        connection.execute(insert(_before_tenants(base_table)), [{
            "entity": "Account", "qb_id": "80000001-1", "sf_id": "001A", "salesforce": "{}",
            "synced_at": datetime(2026, 12, 1, tzinfo=UTC)}])
    engine.dispose()
    with StateStore(path) as store:
        with store.engine.connect() as connection:
            assert migrations.current_revision(connection) == migrations.head()
            assert connection.execute(select(base_table.c.sf_id)).scalars().all() == ["001A"]
        notices = Notices(store)
        notices.add_many([Notice("Account", "001A", "deleted", "80000001-1", "told", store.now())])
        assert [n.sf_id for n in notices.open()] == ["001A"]


def test_upgrading_a_single_company_database_puts_every_row_under_the_default_company(old_database: str) -> None:
    """Revision 0006_tenants: every row a database held belongs to the default company, none lost, none shared."""
    from qbsf.sync.tenants import DEFAULT_TENANT, TenantRegistry, scoped_tables

    fixture = create_engine(f"sqlite:///{FIXTURE}")
    try:
        with fixture.connect() as connection:
            before = {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                      for name in inspect(connection).get_table_names()}
    finally:
        fixture.dispose()
    with TenantRegistry(old_database) as registry:
        with registry.state.engine.connect() as connection:
            for table in scoped_tables():
                tenants = connection.execute(select(table.c.tenant).distinct()).scalars().all()
                count = connection.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one()
                assert count == before.get(table.name, 0), f"{table.name}: every row kept"
                assert tenants == ([DEFAULT_TENANT] if count else []), table.name
        assert [tenant.id for tenant in registry.list()] == [DEFAULT_TENANT]
        registry.add("beta")
        with registry.open("beta") as beta:
            assert (beta.count_links(), beta.watermarks(), beta.failures(), beta.recent(), beta.journal()) == (
                {}, {}, [], [], [])
            assert InboundState(beta).open_invoices() == []
        with registry.open(DEFAULT_TENANT) as default:
            assert sum(default.count_links().values()) == before["crosswalk"]
