"""Record life cycle on the Salesforce side: a synced record is never dropped silently.

After it synced, a Salesforce record can be deleted, merged into another (the loser is deleted, its
``MasterRecordId`` names the survivor) or stop being eligible (an Opportunity moved out of Closed Won). None of
these reaches QuickBooks through the change polls, which only see eligible, living records. This check finds them
(one ``queryAll`` per synced object for deletions and merges, one query per object with an eligibility condition),
tells the user once — log, activity list and ``qbsf sync status`` (open notices) — with what to do, and does what
``sync.on_sf_gone.<object>`` asks:

- ``report`` (default): nothing changes in QuickBooks;
- ``inactivate`` (Account, Contact, Product2): the QuickBooks customer or item is marked inactive;
- ``memo`` (Opportunity): an invoice with no payment applied gets a memo saying its deal was lost or deleted.

A notice is resolved when the record syncs again (undeleted, or eligible again); a record recreated in Salesforce
under the same name is relinked to the QuickBooks record (see ``OutboundSync._match_existing``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, String, Table, Text, delete, select

from qbsf.errors import QbsfError
from qbsf.sync.entities import EntitySpec, entity, soql_datetime
from qbsf.sync.state import Activity, Direction, Outcome, StateStore, _upsert, _UtcDateTime, metadata
from qbsf.sync.tenant_scope import tenant_column

logger = logging.getLogger(__name__)

# Created by the state store's migrations (revision 0005_lifecycle_notice), like every table of the state database.
notice_table = Table(
    "lifecycle_notice", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("sf_id", String(18), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("qb_id", String(64)),
    Column("message", Text, nullable=False),
    Column("at", _UtcDateTime, nullable=False),
)

ACTIONS = ("report", "inactivate", "memo")
_CHECKED = "sf:lifecycle_checked"
_OVERLAP = timedelta(minutes=5)
_IDS_PER_QUERY = 200


@dataclass(frozen=True)
class Notice:
    """A life-cycle event the user was told about and has not been resolved (the record did not sync again)."""

    entity: str
    sf_id: str
    kind: str  # deleted, merged, ineligible
    qb_id: str | None
    message: str
    at: datetime


class Notices:
    """Open life-cycle notices over a :class:`StateStore`'s database."""

    def __init__(self, state: StateStore) -> None:
        self.state = state

    def open(self, entity_name: str | None = None) -> list[Notice]:
        """Every open notice (one entity's, or all), oldest first."""
        query = select(notice_table).order_by(notice_table.c.at)
        if entity_name is not None:
            query = query.where(notice_table.c.entity == entity_name)
        with self.state._tx() as connection:
            return [Notice(r.entity, r.sf_id, r.kind, r.qb_id, r.message, r.at) for r in connection.execute(query)]

    def get_many(self, entity_name: str, sf_ids: Iterable[str]) -> dict[str, Notice]:
        wanted = list(dict.fromkeys(sf_ids))
        found: dict[str, Notice] = {}
        with self.state._tx() as connection:
            for start in range(0, len(wanted), 500):
                rows = connection.execute(select(notice_table).where(
                    notice_table.c.entity == entity_name, notice_table.c.sf_id.in_(wanted[start:start + 500])))
                found.update({r.sf_id: Notice(r.entity, r.sf_id, r.kind, r.qb_id, r.message, r.at) for r in rows})
        return found

    def add_many(self, notices: Iterable[Notice]) -> None:
        rows = [{"entity": n.entity, "sf_id": n.sf_id, "kind": n.kind, "qb_id": n.qb_id, "message": n.message,
                 "at": n.at} for n in notices]
        if rows:
            with self.state._tx() as connection:
                _upsert(connection, notice_table, rows, ("entity", "sf_id"), ("kind", "qb_id", "message", "at"))

    def resolve(self, entity_name: str, sf_ids: Iterable[str]) -> int:
        """Close the notices of records that synced again (undeleted, eligible again, or relinked)."""
        wanted = list(dict.fromkeys(sf_ids))
        removed = 0
        with self.state._tx() as connection:
            for start in range(0, len(wanted), 500):
                removed += connection.execute(delete(notice_table).where(
                    notice_table.c.entity == entity_name,
                    notice_table.c.sf_id.in_(wanted[start:start + 500]))).rowcount
        return removed


def _amount(values: Mapping[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(values.get(name) or 0))
    except InvalidOperation:
        return Decimal(0)


class LifeCycle:
    """Finds synced Salesforce records that were deleted, merged or left eligibility; tells, and acts."""

    def __init__(self, sf: Any, qb: Any, state: StateStore, *, actions: Mapping[str, str] | None = None,
                 eligibility: Mapping[str, str] | None = None, every: timedelta = timedelta(hours=1),
                 cycle: str | None = None) -> None:
        self.sf = sf
        self.qb = qb
        self.state = state
        self.notices = Notices(state)
        self.actions = {name.casefold(): str(value).casefold() for name, value in (actions or {}).items()}
        self.eligibility = dict(eligibility or {})
        self.every = every
        self.cycle = cycle

    def action(self, spec: EntitySpec) -> str:
        """``sync.on_sf_gone`` for ``spec`` (by entity or Salesforce object name), default report."""
        value = self.actions.get(spec.name.casefold()) or self.actions.get(spec.sf_object.casefold()) or "report"
        return value if value in ACTIONS else "report"

    def due(self) -> bool:
        """Whether the check is due (it runs at most once per ``every``)."""
        last = self.state.get_watermark(_CHECKED)
        if last is None or self.every <= timedelta(0):
            return True
        try:
            return self.state.now() - datetime.fromisoformat(last) >= self.every
        except ValueError:
            return True

    def check(self, entity_names: Iterable[str]) -> list[Notice]:
        """Run the check over the synced objects ``entity_names``; returns the notices raised now."""
        if not self.due():
            return []
        last = self.state.get_watermark(_CHECKED)
        since = datetime.fromisoformat(last) - _OVERLAP if last else None
        started = self.state.now()
        raised: list[Notice] = []
        for name in entity_names:
            spec = entity(name)
            links = {link.sf_id: link for link in self.state.links(spec.name)}
            if not links:
                continue
            try:
                raised.extend(self._gone(spec, links, since))
                raised.extend(self._ineligible(spec, links, since))
            except QbsfError as exc:
                logger.warning("%s: the life-cycle check could not read Salesforce (%s); tried again next cycle",
                               spec.name, exc)
                return raised
        self.state.set_watermark(_CHECKED, started.isoformat())
        return raised

    # ---- detection ---------------------------------------------------------------------------------------------
    def _gone(self, spec: EntitySpec, links: Mapping[str, Any], since: datetime | None) -> list[Notice]:
        query_all = getattr(self.sf, "query_all", None)
        if query_all is None:
            return []
        merged_field = ", MasterRecordId" if spec.sf_object in ("Account", "Contact") else ""
        where = "IsDeleted = true" + (f" AND SystemModstamp >= {soql_datetime(since)}" if since else "")
        rows = query_all(f"SELECT Id, {spec.name_field}{merged_field} FROM {spec.sf_object} WHERE {where}")
        found = [row for row in rows if row.get("Id") in links]
        known = self.notices.get_many(spec.name, [row["Id"] for row in found])
        raised = []
        for row in found:
            if row["Id"] in known and known[row["Id"]].kind != "ineligible":
                continue  # told already
            master = row.get("MasterRecordId")
            kind = "merged" if master else "deleted"
            raised.append(self._tell(spec, row["Id"], str(row.get(spec.name_field) or row["Id"]), links[row["Id"]],
                                     kind, survivor=master))
        return raised

    def _ineligible(self, spec: EntitySpec, links: Mapping[str, Any], since: datetime | None) -> list[Notice]:
        condition = self.eligibility.get(spec.sf_object) or spec.eligibility
        if not condition:
            return []
        where = f"{spec.qb_id_field} != null AND NOT ({condition})"
        if since is not None:
            where += f" AND SystemModstamp >= {soql_datetime(since)}"
        rows = [row for row in self.sf.query(f"SELECT Id, {spec.name_field} FROM {spec.sf_object} WHERE {where}")
                if row.get("Id") in links]
        known = self.notices.get_many(spec.name, [row["Id"] for row in rows])
        return [self._tell(spec, row["Id"], str(row.get(spec.name_field) or row["Id"]), links[row["Id"]],
                           "ineligible") for row in rows if row["Id"] not in known]

    # ---- telling and acting ------------------------------------------------------------------------------------
    def _tell(self, spec: EntitySpec, sf_id: str, name: str, link: Any, kind: str, *,
              survivor: str | None = None) -> Notice:
        qb_name = link.qb_name or link.qb_id
        what = {"deleted": "was deleted in Salesforce after it synced",
                "merged": f"was merged into {spec.sf_object} {survivor} in Salesforce",
                "ineligible": "no longer meets the sync condition"
                              + (f" ({self.eligibility.get(spec.sf_object) or spec.eligibility})")}[kind]
        action = self.action(spec)
        done, outcome = self._act(spec, link, kind, action)
        advice = {
            ("deleted", "Invoice"): "void or delete the invoice in QuickBooks if the deal is off, or undelete the "
                                    "Opportunity (it relinks)",
            ("merged", "Invoice"): "check the invoice in QuickBooks",
            ("ineligible", "Invoice"): "void the invoice in QuickBooks if the deal is lost (a customer could be "
                                       "chased for it), or move the Opportunity back",
            ("deleted", "Customer"): "restore it from the Recycle Bin (it relinks to the customer), or make the "
                                     "QuickBooks customer inactive",
            ("merged", "Customer"): "merge the two customers in QuickBooks (rename this one to the survivor's "
                                    "name), or make it inactive",
            ("deleted", "Item"): "restore it from the Recycle Bin (it relinks), or make the QuickBooks item inactive",
        }.get((kind, spec.qb_entity), f"check the QuickBooks {spec.qb_entity}")
        message = (f"{spec.sf_object} {name!r} {what}; its QuickBooks {spec.qb_entity} {qb_name!r} "
                   f"{done}. To do: {advice}"
                   + ("" if action != "report" else f" (or set sync.on_sf_gone.{spec.name} to have qbsf do it)"))
        logger.warning("%s", message)
        notice = Notice(spec.name, sf_id, kind, link.qb_id, message, self.state.now())
        with self.state.batch():
            self.notices.add_many([notice])
            self.state.log(Activity(spec.name, Direction.SF_TO_QB, kind, outcome, sf_id=sf_id, qb_id=link.qb_id,
                                    message=message, cycle=self.cycle))
        return notice

    def _act(self, spec: EntitySpec, link: Any, kind: str, action: str) -> tuple[str, Outcome]:
        """Carry out the configured action; returns what happened (for the message) and the activity outcome."""
        if action == "report" or (action == "memo" and spec.qb_entity != "Invoice") or \
                (action == "inactivate" and spec.qb_entity == "Invoice"):
            return "was left as it is", Outcome.SKIPPED
        current = self.qb.edit_sequences(spec.qb_entity, [link.qb_id]).get(link.qb_id)
        if current is None:
            return "no longer exists in QuickBooks", Outcome.SKIPPED
        if action == "inactivate":
            record = {"ListID": link.qb_id, "EditSequence": current.edit_sequence, "IsActive": False}
            qb_type = current.qb_type or spec.qb_entity
            (result,) = self.qb.mod_many(qb_type, [record])
            if result.error is not None:
                return f"could not be made inactive ({result.error})", Outcome.FAILED
            return "was made inactive", Outcome.UPDATED
        values = self.qb.current_values(link.qb_id)
        flat = values[0] if values is not None else {}
        if _amount(flat, "AppliedAmount") != 0 or _amount(flat, "BalanceRemaining") <= 0:
            return (f"has payments applied (open balance {_amount(flat, 'BalanceRemaining')}), so it was left as it "
                    f"is"), Outcome.SKIPPED
        memo = {"deleted": "deal deleted in Salesforce", "merged": "deal merged in Salesforce",
                "ineligible": "deal no longer Closed Won in Salesforce"}[kind]
        (result,) = self.qb.mod_many("Invoice", [{"TxnID": link.qb_id, "EditSequence": current.edit_sequence,
                                                  "Memo": f"{memo}: check before collecting"}])
        if result.error is not None:
            return f"could not get a memo ({result.error})", Outcome.FAILED
        return f"got the memo {memo!r} (unpaid)", Outcome.UPDATED
