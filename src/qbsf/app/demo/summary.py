"""What one demo cycle did, per direction and entity, and whether both systems now agree — as a table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from qbsf.app.words import entity_word
from qbsf.sync.entities import REGISTRY, SyncedEntity, inbound_entities, outbound_entities

MAX_FAILURES_SHOWN = 20
SF_TO_QB = "SF → QB"
QB_TO_SF = "QB → SF"
# Salesforce object, the field holding its QuickBooks id and the QuickBooks entity it lands in: the registry's.
LINKS: tuple[tuple[str, str, str], ...] = tuple(
    (item.sf_object, item.qb_id_field, item.qb_entity) for item in outbound_entities())


@dataclass
class Row:
    """One entity's counts in one direction."""

    direction: str
    entity: str
    read: int = 0
    created: int = 0
    modified: int = 0
    linked: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass
class Agreement:
    """How many records of one kind on one side are linked to exactly one record that exists on the other side."""

    kind: str
    total: int
    with_id: int
    found: int
    other_side: str = "QuickBooks"

    @property
    def ok(self) -> bool:
        """Every record is linked to a record that exists."""
        return self.total == self.with_id == self.found

    def line(self) -> str:
        """``Account: 24 of 24 carry a QuickBooks id, 24 found in QuickBooks``."""
        if self.other_side == "QuickBooks":
            return (f"{self.kind}: {self.with_id} of {self.total} carry a QuickBooks id, {self.found} found in "
                    f"QuickBooks")
        if self.other_side == "Salesforce values":
            return (f"{self.kind}: {self.total} sent from Salesforce, {self.found} with QuickBooks' values back in "
                    f"Salesforce")
        return f"{self.kind}: {self.with_id} of {self.total} are in Salesforce, {self.found} exactly once"


@dataclass
class DemoSummary:
    """The demo cycle's outcome: rows, failures, cycle-level errors, whether QB → SF ran, and the agreement check."""

    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inbound_wired: bool = False
    agreement: list[Agreement] = field(default_factory=list)
    qb_counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Failed records plus cycle-level errors."""
        return sum(row.failed for row in self.rows) + len(self.errors)

    @property
    def ok(self) -> bool:
        """Nothing failed and every seeded Salesforce record is in QuickBooks."""
        return self.failed == 0 and all(a.ok for a in self.agreement)

    def render(self, console: Console) -> None:
        """Print the table, the agreement lines and every failure with its message."""
        table = Table(title="qbsf demo — one full cycle each way", title_justify="left")
        for name in ("Direction", "Entity", "Read", "Created", "Modified", "Linked", "Unchanged", "Skipped",
                     "Failed"):
            table.add_column(name, justify="left" if name in ("Direction", "Entity") else "right")
        for row in self.rows:
            table.add_row(row.direction, row.entity, str(row.read), str(row.created), str(row.modified),
                          str(row.linked), str(row.unchanged), str(row.skipped),
                          f"[red]{row.failed}[/red]" if row.failed else "0")
        if not self.inbound_wired:
            table.add_row(QB_TO_SF, "not run", "", "", "", "", "", "", "", style="dim")
        console.print(table)
        if not self.inbound_wired:
            console.print("[yellow]⚠ QB → SF is not wired into the sync engine yet: this run synced SF → QB only.[/]")
        for item in self.agreement:
            mark = "[green]✓[/]" if item.ok else "[red]✗[/]"
            console.print(f"{mark} {item.line()}", highlight=False)
        if self.qb_counts:
            console.print("QuickBooks now holds " + ", ".join(f"{n} {k}" for k, n in self.qb_counts.items()),
                          highlight=False)
        for error in self.errors:
            console.print(f"[red]✗ {error}[/]", highlight=False)
        for failure in self.failures[:MAX_FAILURES_SHOWN]:
            console.print(f"[red]✗[/] {failure}", highlight=False, soft_wrap=True)
        if len(self.failures) > MAX_FAILURES_SHOWN:
            console.print(f"… and {len(self.failures) - MAX_FAILURES_SHOWN} more failed records (the dashboard's "
                          "Failed records, or `qbsf sync status`, list them all)", highlight=False)
        verdict = "[green]✓ every record synced[/]" if self.ok else f"[red]✗ {self.failed} failed[/]"
        console.print(verdict)


def summarise(reports: dict[str, Any] | None, *, inbound_wired: bool, org: Any = None, sim: Any = None) -> DemoSummary:
    """Turn the cycle's reports (``{"sf_to_qb": CycleReport, "qb_to_sf": …}``) into a :class:`DemoSummary`, and
    check the two systems against each other when ``org`` (SalesforceState) and ``sim`` (QuickBooks) are given."""
    summary = DemoSummary(inbound_wired=inbound_wired)
    for key, direction in (("sf_to_qb", SF_TO_QB), ("qb_to_sf", QB_TO_SF)):
        report = (reports or {}).get(key)
        if report is None:
            continue
        error = getattr(report, "error", None)
        if error:
            summary.errors.append(f"{direction}: {error}")
        for name, counts in (getattr(report, "entities", None) or {}).items():
            entity = entity_word(name)  # a bookkeeper's word: Payment, not ReceivePayment
            summary.rows.append(Row(direction, entity, read=_n(counts, "read", "queried"),
                                    created=_n(counts, "created"), modified=_n(counts, "updated", "modified"),
                                    linked=_n(counts, "linked"),
                                    # an inbound echo is qbsf's own write seen coming back: unchanged, by design
                                    unchanged=_n(counts, "unchanged") + _n(counts, "echoes"),
                                    skipped=_n(counts, "skipped"), failed=_n(counts, "failed")))
            for failure in getattr(counts, "failures", None) or []:
                record_id, name, message = (*tuple(failure), "", "", "")[:3]
                summary.failures.append(f"{direction} {entity} {name or record_id} ({record_id}): {message}")
    if org is not None and sim is not None:
        summary.agreement = agreement(org, sim, inbound=inbound_wired)
        summary.qb_counts = {"customers and jobs": len(sim.customers()), "items": len(sim.items()),
                             "invoices": len(sim.invoices()), "sales orders": len(sim.sales_orders()),
                             "estimates": len(sim.estimates())}
    return summary


def agreement(org: Any, sim: Any, *, inbound: bool = False) -> list[Agreement]:
    """For each synced Salesforce object: records, records with a QuickBooks id, ids that exist in QuickBooks; with
    ``inbound``, for each QuickBooks list: records, records found in Salesforce, records found there exactly once."""
    in_qb: dict[str, set[str]] = {}
    for item in REGISTRY:
        records = qb_records(sim, item)
        if records is not None:
            in_qb.setdefault(item.qb_entity, {r[item.qb_id_kind] for r in records if r.get(item.qb_id_kind)})
    result = []
    for item in outbound_entities():
        if item.qb_entity not in in_qb or org.schema.get(item.sf_object) is None:
            continue
        rows = _eligible(org, item)
        ids = [r.get(item.qb_id_field) for r in rows if r.get(item.qb_id_field)]
        result.append(Agreement(item.sf_object, len(rows), len(ids),
                                sum(1 for i in ids if i in in_qb[item.qb_entity])))
    if not inbound:
        return result
    for item in inbound_entities():
        found = qb_records(sim, item)
        if found is None or org.schema.get(item.sf_object) is None:
            continue
        if not item.inbound_creates:
            result.append(_values_back(org, sim, item, found))
            continue
        seen = Counter(r.get(item.qb_id_field) for r in org.records(item.sf_object) if r.get(item.qb_id_field))
        # only the records the entity syncs (a sub-customer is no Account)
        wanted = [r[item.qb_id_kind] for r in found if not item.hooks.skip_inbound(item, _flat(r))]
        result.append(Agreement(f"QuickBooks {item.qb_word.lower()}", len(wanted), sum(1 for w in wanted if seen[w]),
                                sum(1 for w in wanted if seen[w] == 1), other_side="Salesforce"))
    return result


def _values_back(org: Any, sim: Any, item: SyncedEntity, found: list[dict[str, Any]]) -> Agreement:
    """An entity whose QuickBooks values only go back to the records Salesforce sent (a sales order's state to its
    Order): of the QuickBooks records linked to one, how many Salesforce shows as QuickBooks holds them (the example
    inbound sheet's fields, compared as QuickBooks' true/false)."""
    from qbsf.resources import example_mappings_dir
    from qbsf.sync.engine import load_mappings

    sheet = load_mappings(example_mappings_dir()).get(item.inbound_sheet or "")
    pairs = [(rule.source, rule.target) for rule in getattr(sheet, "rules", ())]
    linked = {r.get(item.qb_id_field): r for r in org.records(item.sf_object) if r.get(item.qb_id_field)}
    sent = [r for r in found if r.get(item.qb_id_kind) in linked]

    def agrees(record: dict[str, Any]) -> bool:
        held = linked[record[item.qb_id_kind]]
        return all(str(record.get(qb) or "false").casefold() == str(bool(held.get(sf))).casefold()
                   for qb, sf in pairs)
    return Agreement(f"QuickBooks {item.qb_word.lower()}", len(sent), len(sent), sum(1 for r in sent if agrees(r)),
                     other_side="Salesforce values")


def qb_records(sim: Any, item: SyncedEntity) -> list[dict[str, Any]] | None:
    """The demo company's records of ``item``'s QuickBooks entity: the simulator names its lists after them
    (``customers()``, ``items()``, ``invoices()``, ``sales_orders()``); None when it keeps no such list."""
    name = "".join(f"_{c.lower()}" if c.isupper() else c for c in item.qb_entity).lstrip("_") + "s"
    reader = getattr(sim, name, None)
    return list(reader()) if callable(reader) else None


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A simulator record with its references flattened as the mappings read them (``ParentRef.ListID``)."""
    flat = dict(record)
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update((f"{key}.{inner}", item) for inner, item in value.items())
    return flat


def _eligible(org: Any, item: SyncedEntity) -> list[dict[str, Any]]:
    """The Salesforce records the engine syncs by default: the declared eligibility, evaluated as Salesforce would."""
    if not item.eligibility:
        return list(org.records(item.sf_object))
    from qbsf.sim.salesforce.soql import Engine, parse

    soql = f"SELECT Id, {item.qb_id_field} FROM {item.sf_object} WHERE {item.eligibility}"
    return list(Engine(org, "60.0").run(parse(soql))["records"])


def _n(counts: Any, *names: str) -> int:
    for name in names:
        value = counts.get(name) if isinstance(counts, dict) else getattr(counts, name, None)
        if isinstance(value, int):
            return value
    return 0
