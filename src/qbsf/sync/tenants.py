"""Tenants: the companies one state database serves, each with its own state.

A tenant is one company: its QuickBooks company file (reached through its Web Connector user), its Salesforce
connection, mappings, settings, default accounts, licence and sync state. Its id is the company's profile name, the
one ``qbsf qwc --company`` registers for the Web Connector, so a Web Connector user maps to exactly one tenant.

- ``tenant`` lists them: id, a display name and the settings file that holds the company's Salesforce connection,
  mappings folder, QuickBooks default accounts and licence key (blank: the deployment's own settings);
- every state table carries the tenant's id (qbsf.sync.tenant_scope), and a StateStore opened for a tenant sees
  its rows only;
- ``tenant_secret`` holds each tenant's secrets encrypted (qbsf.sync.tenant_secrets).

A database made before tenants existed (one company) keeps everything under the default tenant (:data:`DEFAULT_TENANT`,
revision ``0006_tenants``), which a StateStore opened without a tenant uses, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Connection, Engine, String, Table, Text, delete, func, select, update

from qbsf.errors import ConfigError
from qbsf.sync import tenant_scope
from qbsf.sync.state import StateStore, _UtcDateTime, metadata
from qbsf.sync.tenant_scope import TENANT, TENANT_ID_LENGTH, tenant_column

#: The tenant of a single-company set-up, and of everything a database held before tenants existed.
DEFAULT_TENANT = "default"
# The Web Connector's company profile names (qbsf.quickbooks.webconnector.qwc.check_company_name), so every
# registered company can be a tenant.
_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$")

tenant_table = Table(
    "tenant", metadata,
    Column("id", String(TENANT_ID_LENGTH), primary_key=True),
    Column("name", String(255), nullable=False),
    # The company's settings file (Salesforce connection, mappings, default accounts, licence); "" = the deployment's.
    Column("config", Text, nullable=False),
    Column("created_at", _UtcDateTime, nullable=False),
    Column("updated_at", _UtcDateTime, nullable=False),
)

secret_table = Table(
    "tenant_secret", metadata,
    tenant_column(),
    Column("name", String(128), primary_key=True),
    # Authenticated encryption of the value (qbsf.secret_box): never the value itself.
    Column("ciphertext", Text, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("updated_at", _UtcDateTime, nullable=False),
)


def check_tenant_id(tenant: str) -> str:
    """``tenant`` if usable as a tenant id (a company profile name), else a ConfigError naming the rule."""
    if not isinstance(tenant, str) or not _TENANT_ID.match(tenant) or tenant != tenant.strip():
        raise ConfigError(f"company (tenant) name {tenant!r} is not usable",
                          hint=f"use letters, digits, spaces, '.', '_' or '-', starting with a letter or digit, "
                               f"at most {TENANT_ID_LENGTH} characters")
    return tenant


@dataclass(frozen=True)
class Tenant:
    """One company the deployment serves."""

    id: str
    name: str
    config: str = ""
    created_at: datetime | None = None


def scoped_tables() -> list[Table]:
    """Every state table holding tenants' rows (all but the tenant list itself)."""
    from qbsf.sync import migrations

    return [table for table in migrations.target_metadata().sorted_tables if tenant_scope.is_scoped(table)]


def _now() -> datetime:
    return datetime.now(UTC)


def _exists(connection: Connection, tenant: str) -> bool:
    return connection.execute(select(tenant_table.c.id).where(tenant_table.c.id == tenant)).first() is not None


def require_tenant(engine: Engine, tenant: str) -> None:
    """Make sure ``tenant`` is registered in the database behind ``engine`` (the default one is made on demand)."""
    with engine.begin() as connection:
        if _exists(connection, tenant):
            return
        if tenant != DEFAULT_TENANT:
            raise ConfigError(f"company {tenant!r} is not registered in the state database",
                              hint=f"register it first: qbsf tenants add {_shell_word(tenant)}")
        from qbsf.sync.state import _insert_for

        now = _now()
        insert = _insert_for(connection)(tenant_table).values(
            id=DEFAULT_TENANT, name="Default company", config="", created_at=now, updated_at=now)
        connection.execute(insert.on_conflict_do_nothing(index_elements=["id"]))


def _shell_word(text: str) -> str:
    return f"'{text}'" if " " in text else text


class TenantRegistry:
    """Add, list, show and remove the tenants of one state database."""

    def __init__(self, target: str, *, state: StateStore | None = None) -> None:
        self._owns = state is None
        # Opening the default tenant's store upgrades the database and makes sure the default tenant exists.
        self.state = state if state is not None else StateStore(target)

    def close(self) -> None:
        if self._owns:
            self.state.close()

    def __enter__(self) -> TenantRegistry:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def _tenant(row: object) -> Tenant:
        return Tenant(id=row.id, name=row.name, config=row.config,  # type: ignore[attr-defined]
                      created_at=row.created_at)  # type: ignore[attr-defined]

    def list(self) -> list[Tenant]:
        """Every tenant, by id."""
        with self.state.engine.begin() as connection:
            return [self._tenant(row) for row in connection.execute(select(tenant_table).order_by(tenant_table.c.id))]

    def get(self, tenant: str) -> Tenant:
        """One tenant, or a ConfigError listing the registered ones."""
        with self.state.engine.begin() as connection:
            row = connection.execute(select(tenant_table).where(tenant_table.c.id == tenant)).first()
        if row is None:
            known = ", ".join(t.id for t in self.list()) or "none"
            raise ConfigError(f"company {tenant!r} is not registered in the state database",
                              hint=f"registered: {known}; add one with `qbsf tenants add NAME`")
        return self._tenant(row)

    def add(self, tenant: str, *, name: str = "", config: str = "") -> Tenant:
        """Register a new tenant (refused when the id is taken)."""
        check_tenant_id(tenant)
        now = _now()
        with self.state.engine.begin() as connection:
            if _exists(connection, tenant):
                raise ConfigError(f"company {tenant!r} is registered already",
                                  hint="choose another name, or `qbsf tenants show` it")
            connection.execute(tenant_table.insert().values(id=tenant, name=name or tenant, config=config,
                                                            created_at=now, updated_at=now))
        return self.get(tenant)

    def update(self, tenant: str, *, name: str | None = None, config: str | None = None) -> Tenant:
        """Change a tenant's display name or settings file."""
        self.get(tenant)
        values: dict[str, object] = {"updated_at": _now()}
        if name is not None:
            values["name"] = name or tenant
        if config is not None:
            values["config"] = config
        with self.state.engine.begin() as connection:
            connection.execute(update(tenant_table).where(tenant_table.c.id == tenant).values(**values))
        return self.get(tenant)

    def rows(self, tenant: str) -> dict[str, int]:
        """How many rows ``tenant`` holds in each state table that holds any (what removing it deletes)."""
        counts: dict[str, int] = {}
        with self.state.engine.begin() as connection:
            for table in scoped_tables():
                count = connection.execute(select(func.count()).select_from(table)
                                           .where(table.c[TENANT] == tenant)).scalar_one()
                if count:
                    counts[table.name] = int(count)
        return counts

    def remove(self, tenant: str) -> dict[str, int]:
        """Delete ``tenant`` and every row it holds, in one transaction; returns the rows deleted per table."""
        self.get(tenant)
        if tenant == DEFAULT_TENANT:
            raise ConfigError("the default company cannot be removed: it holds the single-company set-up's state",
                              hint="remove the other companies only; `qbsf sync reset` clears the default one's state")
        removed: dict[str, int] = {}
        with self.state.engine.begin() as connection:
            for table in scoped_tables():
                count = connection.execute(delete(table).where(table.c[TENANT] == tenant)).rowcount
                if count:
                    removed[table.name] = int(count)
            connection.execute(delete(tenant_table).where(tenant_table.c.id == tenant))
        return removed

    def open(self, tenant: str) -> StateStore:
        """A StateStore for ``tenant`` on this database, sharing the registry's connection pool (refused when the
        tenant is not registered)."""
        return self.state.for_tenant(tenant)

