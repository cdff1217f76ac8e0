"""Every statement a state store runs is scoped to its tenant (company), in one place.

Each state table carries a ``tenant`` column (:func:`tenant_column`). A :class:`~qbsf.sync.state.StateStore`
opened for a tenant marks each connection it uses with that tenant (the ``qbsf_tenant`` execution option), and the
hook :func:`install` puts on the store's engine rewrites every SQLAlchemy statement on such a connection before it
runs:

- a SELECT (and every sub-select inside any statement) reads only the tenant's rows of each state table it reads;
- an UPDATE or DELETE touches only the tenant's rows, and may not move a row to another tenant;
- an INSERT writes the tenant's id into every row, and refuses a row that names another tenant.

So the queries in the state modules are written as for one company, and no query (present or added later) can read
or write another company's rows. A statement in SQL text cannot be scoped and is refused on a tenant's connection.
Connections without the option (migrations, the tenant registry's own maintenance) run statements as written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnClause,
    Delete,
    Engine,
    Insert,
    Select,
    String,
    Table,
    TextClause,
    Update,
    event,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import Alias, Join

from qbsf.errors import QbsfError

#: The column naming a row's tenant, in every state table.
TENANT = "tenant"
#: The execution option a state store sets on its connections.
OPTION = "qbsf_tenant"
#: Tenant ids are company profile names (``qbsf qwc --company``): up to 63 characters.
TENANT_ID_LENGTH = 63


class TenantScopeError(QbsfError):
    """A statement would read or write outside its tenant: refused before it reaches the database."""


def tenant_column(*, primary_key: bool = True) -> Column[str]:
    """The ``tenant`` column of a state table: first in its primary key (or, for tables keyed by a generated id,
    a required column leading their indexes)."""
    return Column(TENANT, String(TENANT_ID_LENGTH), primary_key=primary_key, nullable=False)


def is_scoped(table: Any) -> bool:
    """Whether ``table`` is a declared state table holding rows of many tenants."""
    return isinstance(table, Table) and TENANT in table.c and table.metadata.info.get(OPTION) is True


def scoped_metadata(metadata: Any) -> Any:
    """Mark ``metadata`` as the state store's: its tables with a ``tenant`` column are scoped by :func:`install`."""
    metadata.info[OPTION] = True
    return metadata


def _criteria_for(from_clause: Any, tenant: str) -> list[Any]:
    if isinstance(from_clause, Join):
        return _criteria_for(from_clause.left, tenant) + _criteria_for(from_clause.right, tenant)
    if isinstance(from_clause, Alias) and is_scoped(from_clause.element):
        return [from_clause.c[TENANT] == tenant]
    if is_scoped(from_clause):
        return [from_clause.c[TENANT] == tenant]
    return []


def _parts(statement: Any) -> list[Any]:
    """The pieces of a statement that may hold a sub-select (plain columns and tables cannot)."""
    parts: list[Any] = [*getattr(statement, "_where_criteria", ()), *getattr(statement, "_having_criteria", ())]
    parts += [column for column in getattr(statement, "_raw_columns", ())
              if not isinstance(column, ColumnClause | Table)]
    parts += [item for item in getattr(statement, "_from_obj", ()) if not isinstance(item, Table)]
    values = getattr(statement, "_values", None)
    if values:
        parts += [value for value in values.values() if not isinstance(value, BindParameter)]
    return parts


def _has_sub_select(statement: Any) -> bool:
    # Walking only the parts that can hold one keeps the common statement (no sub-select) cheap to scope.
    return any(isinstance(element, Select) for part in _parts(statement) for element in visitors.iterate(part))


def _scope_nested(statement: Any, tenant: str) -> Any:
    """``statement`` with every sub-select inside it scoped (the statement itself left to the caller)."""
    if not _has_sub_select(statement):
        return statement

    def replace(element: Any) -> Any:
        if element is not statement and isinstance(element, Select):
            return _scope_select(element, tenant)
        return None

    return visitors.replacement_traverse(statement, {}, replace)


def _froms(select: Select[Any]) -> list[Any]:
    """The FROM clauses of ``select`` itself (not of its sub-selects), without compiling it."""
    found: dict[int, Any] = {}
    pieces: list[Any] = [*select._from_obj, *select.columns_clause_froms]
    for clauses in (select._where_criteria, select._having_criteria, select._order_by_clauses,
                    select._group_by_clauses):
        for clause in clauses:
            pieces.extend(clause._from_objects)
    for piece in pieces:
        found.setdefault(id(piece), piece)
    return list(found.values())


def _scope_select(select: Select[Any], tenant: str) -> Select[Any]:
    select = _scope_nested(select, tenant)
    criteria = [criterion for from_clause in _froms(select) for criterion in _criteria_for(from_clause, tenant)]
    return select.where(*criteria) if criteria else select


def _check_rows(table: Table, rows: Any, tenant: str) -> None:
    for row in rows:
        if isinstance(row, dict) and TENANT in row and row[TENANT] != tenant:
            raise TenantScopeError(f"a row for company {row[TENANT]!r} was written through company {tenant!r}'s "
                                   f"state store ({table.name})", hint="open the state store of that company")


def scope(statement: Any, multiparams: Any, params: Any, tenant: str) -> Any:
    """``statement`` rewritten to touch ``tenant``'s rows only (see the module's docstring)."""
    if isinstance(statement, TextClause):
        raise TenantScopeError("a statement in SQL text cannot be scoped to a company",
                               hint="write it with SQLAlchemy's select/insert/update/delete")
    if isinstance(statement, Select):
        return _scope_select(statement, tenant)
    if isinstance(statement, Insert):
        table = statement.table
        if not is_scoped(table):
            return statement
        _check_rows(table, multiparams or [], tenant)
        _check_rows(table, [params or {}], tenant)
        if statement.select is not None:
            raise TenantScopeError(f"INSERT … SELECT into {table.name} cannot be scoped to a company",
                                   hint="insert the rows as values")
        return _scope_nested(statement, tenant).values({TENANT: tenant})
    if isinstance(statement, Update | Delete):
        table = statement.table
        if isinstance(statement, Update) and is_scoped(table):
            values = getattr(statement, "_values", None) or {}
            if any(getattr(key, "key", key) == TENANT for key in values):
                raise TenantScopeError(f"an update would move rows of {table.name} to another company",
                                       hint="a row's company never changes")
        statement = _scope_nested(statement, tenant)
        return statement.where(table.c[TENANT] == tenant) if is_scoped(table) else statement
    return statement


def install(engine: Engine) -> None:
    """Scope every statement run on ``engine`` by a connection marked with a tenant (``OPTION``)."""

    @event.listens_for(engine, "before_execute", retval=True)
    def _before_execute(connection: Any, statement: Any, multiparams: Any, params: Any,
                        execution_options: Any) -> tuple[Any, Any, Any]:
        tenant = execution_options.get(OPTION) or connection.get_execution_options().get(OPTION)
        if tenant is None:
            return statement, multiparams, params
        return scope(statement, multiparams, params, tenant), multiparams, params
