"""The registry of synced entities: every Salesforce object ↔ QuickBooks entity pair qbsf syncs, declared once.

Each pair is one module of this package (``account.py``, ``contact.py``, ``product.py``, ``invoice.py``) declaring a
:class:`~qbsf.sync.entities.base.SyncedEntity`; :data:`REGISTRY` lists them in dependency order (parents before the
records that refer to them). Everything else that needs to know which entities exist is derived from it: the
outbound specs (:data:`ENTITIES`), the inbound specs (:data:`INBOUND_SPECS`), the mapping sheets and file-name
rules, the CLI and dashboard lists, the crosswalk keys and the demo checks. An entity that is not declared is a
:class:`~qbsf.errors.ConfigError` naming the ones that are — never another entity's behaviour.

Adding an entity: see ``docs/adding-an-entity.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

from qbsf.errors import ConfigError
from qbsf.mapping.kinds import Catalogue, Direction, MappingKind, use_catalogue
from qbsf.sync.entities import (
    account,
    bill,
    contact,
    credit_memo,
    estimate,
    invoice,
    order,
    payment,
    product,
    sales_receipt,
)
from qbsf.sync.entities.base import (
    LIST_ID,
    TXN_ID,
    ChildSpec,
    EntityHooks,
    EntitySpec,
    InboundSpec,
    Lines,
    ParentRef,
    SyncedEntity,
)
from qbsf.sync.entities.query import (
    Query,
    build_query,
    child_fields,
    eligibility_for,
    parse_sf_datetime,
    quote,
    select_fields,
    soql_datetime,
)

__all__ = [
    "ACCOUNT",
    "BY_NAME",
    "CATALOGUE",
    "CONTACT",
    "ENTITIES",
    "INBOUND_SPECS",
    "LIST_ID",
    "OPPORTUNITY",
    "PRODUCT",
    "REGISTRY",
    "TXN_ID",
    "ChildSpec",
    "EntityHooks",
    "EntitySpec",
    "InboundSpec",
    "Lines",
    "ParentRef",
    "Query",
    "SyncedEntity",
    "build_query",
    "by_key",
    "by_sheet",
    "child_fields",
    "declared",
    "dependency_order",
    "eligibility_for",
    "entity",
    "for_qb_entity",
    "for_sf_object",
    "inbound_entities",
    "inbound_spec",
    "mapping_catalogue",
    "outbound_entities",
    "parse_sf_datetime",
    "quote",
    "say",
    "select_fields",
    "soql_datetime",
]

# Dependency order: every cycle handles entities in this order, so parents are in QuickBooks before children.
REGISTRY: tuple[SyncedEntity, ...] = (
    account.ACCOUNT,
    contact.CONTACT,
    product.PRODUCT,
    invoice.OPPORTUNITY,
    invoice.QB_INVOICE,
    order.ORDER,
    estimate.QUOTE,
    payment.PAYMENT,
    credit_memo.CREDIT_MEMO,
    sales_receipt.SALES_RECEIPT,
    bill.VENDOR,
    bill.BILL,
)

OUT = "sf_to_qb"
IN = "qb_to_sf"


def _check(registry: tuple[SyncedEntity, ...]) -> None:
    """A registry that could route a record to the wrong entity is refused when qbsf starts, not at run time."""
    keys: set[str] = set()
    sheets: dict[str, str] = {}
    outbound_objects: dict[str, str] = {}
    inbound_entities: dict[str, str] = {}
    for item in registry:
        if item.key.casefold() in keys:
            raise ConfigError(f"two synced entities are called {item.key!r}", hint="give each one its own key")
        for parent in [*item.parents, *(item.lines.parents if item.lines else ())]:
            if parent.entity.casefold() not in keys:
                raise ConfigError(f"{item.key} needs {parent.entity} first, but {parent.entity} is not declared "
                                  f"before it", hint="declare parents earlier in REGISTRY")
        keys.add(item.key.casefold())
        for sheet in item.sheets:
            if sheet.casefold() in sheets:
                raise ConfigError(f"the mapping sheet {sheet} is declared by {sheets[sheet.casefold()]} and "
                                  f"{item.key}", hint="each sheet belongs to one entity")
            sheets[sheet.casefold()] = item.key
        if item.outbound_sheet:
            if item.sf_object.casefold() in outbound_objects:
                raise ConfigError(f"{item.sf_object} is sent to QuickBooks by both "
                                  f"{outbound_objects[item.sf_object.casefold()]} and {item.key}",
                                  hint="one outbound entity per Salesforce object")
            outbound_objects[item.sf_object.casefold()] = item.key
        if item.inbound_sheet:
            if item.qb_entity.casefold() in inbound_entities:
                raise ConfigError(f"QuickBooks {item.qb_entity} is brought to Salesforce by both "
                                  f"{inbound_entities[item.qb_entity.casefold()]} and {item.key}",
                                  hint="one inbound entity per QuickBooks entity")
            inbound_entities[item.qb_entity.casefold()] = item.key
        if item.origin is not None and item.origin.casefold() not in keys:
            raise ConfigError(f"{item.key}: its origin {item.origin} is not declared before it",
                              hint="declare the origin entity earlier in REGISTRY")


_check(REGISTRY)

_BY_KEY: dict[str, SyncedEntity] = {item.key.casefold(): item for item in REGISTRY}


def _choices(items: Iterable[SyncedEntity], word: str = "key") -> str:
    return ", ".join(getattr(item, word) for item in items)


def by_key(key: str) -> SyncedEntity:
    """The declaration with this key (case-insensitive)."""
    found = _BY_KEY.get(key.strip().casefold())
    if found is None:
        raise ConfigError(f"no synced entity is called {key!r}", hint=f"choose one of {_choices(REGISTRY)}")
    return found


def declared(key: str) -> SyncedEntity | None:
    """The declaration with this key, or None (for callers that treat undeclared names themselves)."""
    return _BY_KEY.get(key.strip().casefold())


def by_sheet(sheet: str) -> SyncedEntity:
    """The declaration owning a mapping sheet (outbound, lines or inbound)."""
    wanted = sheet.strip().casefold()
    found = next((item for item in REGISTRY if wanted in {s.casefold() for s in item.sheets}), None)
    if found is None:
        sheets = ", ".join(s for item in REGISTRY for s in item.sheets)
        raise ConfigError(f"no synced entity has the mapping sheet {sheet!r}", hint=f"the sheets are {sheets}")
    return found


def outbound_entities() -> list[SyncedEntity]:
    """The entities synced Salesforce → QuickBooks, in dependency order."""
    return [item for item in REGISTRY if item.outbound_sheet]


def inbound_entities() -> list[SyncedEntity]:
    """The entities synced QuickBooks → Salesforce, in dependency order."""
    return [item for item in REGISTRY if item.inbound_sheet]


def for_sf_object(sf_object: str, direction: str = OUT) -> SyncedEntity:
    """The entity syncing Salesforce object ``sf_object`` in ``direction`` (``sf_to_qb`` or ``qb_to_sf``)."""
    items = outbound_entities() if str(direction) == OUT else inbound_entities()
    found = next((item for item in items if item.sf_object.casefold() == sf_object.strip().casefold()), None)
    if found is None:
        raise ConfigError(f"{sf_object!r} is not a Salesforce object qbsf syncs {_way(direction)}",
                          hint=f"the objects are {_choices(items, 'sf_object')}")
    return found


def for_qb_entity(qb_entity: str, direction: str = IN) -> SyncedEntity:
    """The entity syncing QuickBooks entity ``qb_entity`` in ``direction`` (the first one, for Salesforce →
    QuickBooks, where Account and Contact both become customers)."""
    items = outbound_entities() if str(direction) == OUT else inbound_entities()
    found = next((item for item in items if item.qb_entity.casefold() == qb_entity.strip().casefold()), None)
    if found is None:
        raise ConfigError(f"{qb_entity!r} is not a QuickBooks entity qbsf syncs {_way(direction)}",
                          hint=f"the entities are {', '.join(dict.fromkeys(item.qb_entity for item in items))}")
    return found


def say(names: Iterable[str]) -> str:
    """Names as a bookkeeper lists them: ``Customer, Item or Invoice``."""
    items = list(dict.fromkeys(names))
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def _way(direction: str) -> str:
    return "from Salesforce to QuickBooks" if str(direction) == OUT else "from QuickBooks to Salesforce"


# ---- the outbound view (Salesforce → QuickBooks) -------------------------------------------------------------------
ENTITIES: tuple[EntitySpec, ...] = tuple(item.outbound for item in outbound_entities() if item.outbound)
BY_NAME: dict[str, EntitySpec] = {spec.name.casefold(): spec for spec in ENTITIES}
_OUT_ALIASES: dict[str, EntitySpec] = {
    alias.casefold(): spec for spec in ENTITIES for alias in (spec.name, spec.sf_object, *spec.declared.aliases)}
# The names the engines have always used for the outbound views.
ACCOUNT = account.ACCOUNT.outbound
CONTACT = contact.CONTACT.outbound
PRODUCT = product.PRODUCT.outbound
OPPORTUNITY = invoice.OPPORTUNITY.outbound


def entity(name: str) -> EntitySpec:
    """The outbound spec for an entity name (case-insensitive; ``Product`` and ``Oppty`` are accepted too)."""
    found = _OUT_ALIASES.get(name.strip().casefold())
    if found is None:
        names = ", ".join(spec.name for spec in ENTITIES)
        raise ConfigError(f"no synced entity is called {name!r}", hint=f"choose one of {names}")
    return found


def dependency_order(names: Iterable[str] | None = None) -> list[EntitySpec]:
    """The outbound specs for ``names`` (all when None) in dependency order."""
    if names is None:
        return list(ENTITIES)
    wanted = {entity(name).name for name in names}
    return [spec for spec in ENTITIES if spec.name in wanted]


# ---- the inbound view (QuickBooks → Salesforce) --------------------------------------------------------------------
INBOUND_SPECS: tuple[InboundSpec, ...] = tuple(item.inbound for item in inbound_entities() if item.inbound)
_IN_ALIASES: dict[str, InboundSpec] = {}
for _spec in INBOUND_SPECS:
    for _alias in (_spec.name, _spec.sf_object, _spec.sheet, _spec.crosswalk, *_spec.declared.aliases):
        _IN_ALIASES.setdefault(_alias.casefold(), _spec)


def inbound_spec(name: str) -> InboundSpec:
    """The inbound spec for a QuickBooks entity or its Salesforce object (Customer/Account, Item/Product2, …)."""
    found = _IN_ALIASES.get(name.strip().casefold())
    if found is None:
        words = [f"{spec.name} ({spec.sf_object})" for spec in INBOUND_SPECS]
        choices = ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)
        raise ConfigError(f"{name!r} is not an entity the QuickBooks → Salesforce sync knows",
                          hint=f"use {choices}")
    return found


# ---- the mapping sheets (mapping knows no entity: the registry tells it which sheets exist) -----------------------
def mapping_catalogue(registry: Iterable[SyncedEntity] = REGISTRY) -> Catalogue:
    """The mapping sheets of ``registry``: each entity's outbound, lines and inbound sheet, the words a file name
    may use for them, and the Salesforce fields only one synced object has."""
    kinds: list[MappingKind] = []
    words: dict[str, str] = {}
    own: dict[str, frozenset[str]] = {}
    for item in registry:
        if item.outbound_sheet:
            kinds.append(MappingKind(item.outbound_sheet, Direction.SF_TO_QB, item.sf_object, item.qb_entity))
            words.update((word, item.outbound_sheet) for word in item.outbound_words)
        if item.inbound_sheet:
            kinds.append(MappingKind(item.inbound_sheet, Direction.QB_TO_SF, item.sf_object, item.qb_entity))
            words.update((word, item.inbound_sheet) for word in item.inbound_words)
        if item.lines is not None:
            kinds.append(MappingKind(item.lines.sheet, Direction.SF_TO_QB, item.lines.sf_object, item.lines.element,
                                     child=True, parent_sheet=item.outbound_sheet))
            words.update((word, item.lines.sheet) for word in item.lines.file_words)
            if item.lines.own_fields:
                own[item.lines.sf_object] = own.get(item.lines.sf_object, frozenset()) | item.lines.own_fields
        if item.own_fields:
            own[item.sf_object] = own.get(item.sf_object, frozenset()) | item.own_fields
    return Catalogue(kinds, words=words, own_fields=own)


CATALOGUE = mapping_catalogue()
use_catalogue(CATALOGUE)
