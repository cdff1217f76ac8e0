"""Record life cycle on the Salesforce side: a synced record is never dropped silently.

After it synced, a Salesforce record can be deleted, merged into another (the loser is deleted, its
``MasterRecordId`` names the survivor) or stop being eligible (an Opportunity moved out of Closed Won). None of
these reaches QuickBooks through the change polls, which only see eligible, living records. This check finds them
(one ``queryAll`` per synced object for deletions and merges, one query per object with an eligibility condition),
tells the user once — log, activity list and ``qbsf sync status`` (open notices) — with what to do, and does what
``sync.on_sf_gone.<object>`` asks:

- ``report`` (default): nothing changes in QuickBooks;
- ``inactivate`` (Account, Contact, Product2): the QuickBooks customer or item is marked inactive;
- ``memo`` (Opportunity): an invoice with no payment applied gets a memo saying its deal was lost or deleted;
- ``void`` (Opportunity): an invoice with no payment applied is voided in QuickBooks (TxnVoid: kept, at zero, "VOID:"
  before its memo) and unlinked, so a deal that comes back gets a new invoice. A paid invoice is never voided: the
  notice says so, with what to do.

Its reads run inside the cycle's one ``/composite`` call when they fit (:meth:`LifeCycle.reads` gives the SOQL —
deletions and merges as ``queryAll`` subrequests — and :meth:`LifeCycle.accept` takes the pages), so the hourly
check costs no Salesforce call of its own; a read that did not fit, failed, or has more than one page runs alone.

A notice is resolved when the record syncs again (undeleted, or eligible again); a record recreated in Salesforce
under the same name is relinked to the QuickBooks record (see ``OutboundSync._match_existing``).

An action QuickBooks refused is a failure like any record's (:func:`qbsf.sync.pipeline.failures.record_failures`):
``qbsf status``, the dashboard's failures and Retry show it, and the check tries it again when the error policy says
(every pass, not only when the check is due). Each record's action and what is recorded of it are exactly once
across a crash (the named points of :data:`qbsf.sync.crash.LIFECYCLE_POINTS`): the action is written to QuickBooks
first, then the notice, the activity line, the failure and the unlink commit together; a check killed in between
finds the record again, sees the action already done in QuickBooks (inactive, the memo there, voided) and records it
without writing it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, String, Table, Text, delete, select

from qbsf.errors import NeedsUser, QbsfError, SyncError
from qbsf.sync.crash import crash_point
from qbsf.sync.cycle_reads import QUERY_ALL, complete_pages
from qbsf.sync.entities import EntitySpec, entity, soql_datetime
from qbsf.sync.pipeline.batch import BatchReport
from qbsf.sync.pipeline.failures import FailedRecord, record_failures
from qbsf.sync.state import Activity, Direction, Failure, Outcome, StateStore, _upsert, _UtcDateTime, metadata
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

ACTIONS = ("report", "inactivate", "memo", "void")
VOIDED_ADVICE = "nothing; if the deal comes back, the next sync makes a new invoice (a voided one cannot be reopened)"
PAID_ADVICE = ("qbsf never voids an invoice with payments applied: refund the customer or apply the payment "
               "elsewhere, then void the invoice in QuickBooks yourself — or keep it if the deal stands")
_CHECKED = "sf:lifecycle_checked"
_OVERLAP = timedelta(minutes=5)
# The version of a failed action's failure row, followed by the notice's kind (and a merge's survivor after a space):
# the check retries these (the outbound pass, which retries a record by reading it from Salesforce, leaves them
# alone: the record is gone there, so what the retry must say comes from the row).
FAILED_ACTION = "lifecycle:"
# What QuickBooks puts before a voided transaction's memo (Intuit's TxnVoid: the transaction is kept, at zero).
VOID_MEMO = "VOID:"


def is_failed_action(failure: Failure) -> bool:
    """Whether a failure row is a life-cycle action QuickBooks refused (retried by the check, not by a pass)."""
    return (failure.version or "").startswith(FAILED_ACTION)


@dataclass(frozen=True)
class _Acted:
    """What an action did: the words for the message, the activity outcome, advice when it differs from the usual,
    the error QuickBooks answered (a failure to record) and whether the link goes (a voided invoice)."""

    done: str
    outcome: Outcome
    told: str | None = None
    error: SyncError | None = None
    unlink: bool = False


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
        self._prefetched: dict[str, list[dict[str, Any]]] = {}
        self._read_at: datetime | None = None

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

    def _since(self) -> datetime | None:
        last = self.state.get_watermark(_CHECKED)
        try:
            return datetime.fromisoformat(last) - _OVERLAP if last else None
        except ValueError:
            return None

    def _links(self, spec: EntitySpec) -> Mapping[str, Any]:
        # Looked up for the records Salesforce names, never every link at once: after a 100,000-Account initial
        # sync, loading them all made the engine's memory grow with the record count.
        return _Links(self.state, spec.name, self.state.count_links().get(spec.name, 0))

    def reads(self, entity_names: Iterable[str]) -> dict[str, str]:
        """The SOQL the next :meth:`check` runs, keyed by composite referenceId (empty when the check is not due):
        one ``queryAll`` per synced object for deletions and merges, one query per object with a sync condition."""
        self._prefetched, self._read_at = {}, None
        if not self.due():
            return {}
        since = self._since()
        found: dict[str, str] = {}
        linked = self.state.count_links()
        for name in entity_names:
            spec = entity(name)
            if not linked.get(spec.name):
                continue
            found[f"{QUERY_ALL}lifecycle_gone_{spec.name}"] = self._gone_soql(spec, since)
            ineligible = self._ineligible_soql(spec, since)
            if ineligible:
                found[f"lifecycle_ineligible_{spec.name}"] = ineligible
        self._read_at = self.state.now()
        return found

    def accept(self, queries: Mapping[str, str], pages: Mapping[str, Any]) -> None:
        """First pages of :meth:`reads`'s queries, run in the cycle's composite call (referenceId → query body);
        :meth:`check` uses each complete one instead of reading it again."""
        self._prefetched = complete_pages(queries, pages)

    def discard_reads(self) -> None:
        """Forget pre-fetched pages (a cycle whose check did not run must not use them later: they age)."""
        self._prefetched, self._read_at = {}, None

    def _read(self, soql: str, *, all_rows: bool) -> list[dict[str, Any]]:
        records = self._prefetched.pop(soql, None)
        if records is not None:
            return records
        return self.sf.query_all(soql) if all_rows else self.sf.query(soql)

    def check(self, entity_names: Iterable[str]) -> list[Notice]:
        """Run the check over the synced objects ``entity_names``; returns the notices raised now.

        Actions QuickBooks refused earlier and due again are tried first, whether or not the check itself is due."""
        entity_names = list(entity_names)
        self._retry_failed(entity_names)
        if not self.due():
            self.discard_reads()
            return []
        since = self._since()
        # From when the pre-fetched pages were read (the cycle's start), else from now.
        started = self._read_at if self._prefetched and self._read_at is not None else self.state.now()
        raised: list[Notice] = []
        try:
            for name in entity_names:
                spec = entity(name)
                links = self._links(spec)
                if not links:
                    continue
                try:
                    raised.extend(self._gone(spec, links, since))
                    raised.extend(self._ineligible(spec, links, since))
                except QbsfError as exc:
                    logger.warning("%s: the life-cycle check could not read Salesforce (%s); tried again next "
                                   "cycle", spec.name, exc)
                    return raised
            with self.state.batch():
                self.state.set_watermark(_CHECKED, started.isoformat())
                crash_point("lifecycle_in_checked_move")
            crash_point("lifecycle_after_checked_move")
            return raised
        finally:
            self.discard_reads()

    # ---- detection ---------------------------------------------------------------------------------------------
    def _gone_soql(self, spec: EntitySpec, since: datetime | None) -> str:
        merged_field = ", MasterRecordId" if spec.declared.merges_in_salesforce else ""
        where = "IsDeleted = true" + (f" AND SystemModstamp >= {soql_datetime(since)}" if since else "")
        return f"SELECT Id, {spec.name_field}{merged_field} FROM {spec.sf_object} WHERE {where}"

    def _ineligible_soql(self, spec: EntitySpec, since: datetime | None) -> str | None:
        condition = self.eligibility.get(spec.sf_object) or spec.eligibility
        if not condition:
            return None
        where = f"{spec.qb_id_field} != null AND NOT ({condition})"
        if since is not None:
            where += f" AND SystemModstamp >= {soql_datetime(since)}"
        return f"SELECT Id, {spec.name_field} FROM {spec.sf_object} WHERE {where}"

    def _gone(self, spec: EntitySpec, links: Mapping[str, Any], since: datetime | None) -> list[Notice]:
        if getattr(self.sf, "query_all", None) is None:
            return []
        rows = self._read(self._gone_soql(spec, since), all_rows=True)
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
        soql = self._ineligible_soql(spec, since)
        if soql is None:
            return []
        rows = [row for row in self._read(soql, all_rows=False) if row.get("Id") in links]
        known = self.notices.get_many(spec.name, [row["Id"] for row in rows])
        return [self._tell(spec, row["Id"], str(row.get(spec.name_field) or row["Id"]), links[row["Id"]],
                           "ineligible") for row in rows if row["Id"] not in known]

    # ---- telling and acting ------------------------------------------------------------------------------------
    def _retry_failed(self, entity_names: Iterable[str]) -> None:
        """Actions QuickBooks refused whose retry is due (the error policy's backoff, or the user's Retry)."""
        for name in entity_names:
            spec = entity(name)
            due = [f for f in self.state.failures_due(spec.name, Direction.SF_TO_QB) if is_failed_action(f)]
            if not due:
                continue
            notices = self.notices.get_many(spec.name, [f.record_key for f in due])
            for failure in due:
                link = self.state.lookup(spec.name, failure.record_key)
                notice = notices.get(failure.record_key)
                if link is None or notice is None:
                    # unlinked since (by the user), or the record synced again (its notice resolved): nothing to do
                    self.state.clear_failures_many(spec.name, Direction.SF_TO_QB, [failure.record_key])
                    continue
                logger.info("%s %s: trying the life-cycle action again", spec.sf_object, failure.record_key)
                kind, _, survivor = (failure.version or "")[len(FAILED_ACTION):].partition(" ")
                self._tell(spec, failure.record_key, link.qb_name or link.qb_id, link, kind or notice.kind,
                           survivor=survivor or None)

    def _tell(self, spec: EntitySpec, sf_id: str, name: str, link: Any, kind: str, *,
              survivor: str | None = None) -> Notice:
        qb_name = link.qb_name or link.qb_id
        what = {"deleted": "was deleted in Salesforce after it synced",
                "merged": f"was merged into {spec.sf_object} {survivor or 'another record'} in Salesforce",
                "ineligible": "no longer meets the sync condition"
                              + (f" ({self.eligibility.get(spec.sf_object) or spec.eligibility})")}.get(
            kind, "was removed in Salesforce")
        action = self.action(spec)
        acted = self._act(spec, link, kind, action)
        crash_point("lifecycle_after_qb_action")
        advice = acted.told or spec.declared.hooks.gone_advice(spec.declared, kind)
        message = (f"{spec.sf_object} {name!r} {what}; its QuickBooks {spec.qb_entity} {qb_name!r} "
                   f"{acted.done}. To do: {advice}"
                   + ("" if action != "report" else f" (or set sync.on_sf_gone.{spec.name} to have qbsf do it)"))
        logger.warning("%s", message)
        notice = Notice(spec.name, sf_id, kind, link.qb_id, message, self.state.now())
        events: list[Activity] = []
        # The notice, what happened (an activity line, or a failure the error policy retries) and a voided
        # invoice's unlink commit together: a check stopped before this finds the record again.
        with self.state.batch():
            self.notices.add_many([notice])
            if acted.unlink:
                self.state.unlink(spec.name, link.sf_id)
            if acted.error is not None:
                version = f"{FAILED_ACTION}{kind}" + (f" {survivor}" if survivor else "")
                record_failures(self.state, spec.name, Direction.SF_TO_QB, [FailedRecord(
                    sf_id, f"{spec.sf_object} {name!r}", acted.error, message, version, kind,
                    sf_id=sf_id, qb_id=link.qb_id)], BatchReport(), cycle=self.cycle, events=events)
            else:
                self.state.clear_failures_many(spec.name, Direction.SF_TO_QB, [sf_id])
                events.append(Activity(spec.name, Direction.SF_TO_QB, kind, acted.outcome, sf_id=sf_id,
                                       qb_id=link.qb_id, message=message, cycle=self.cycle))
            self.state.log_many(events)
            crash_point("lifecycle_in_record")
        crash_point("lifecycle_after_record")
        return notice

    def _act(self, spec: EntitySpec, link: Any, kind: str, action: str) -> _Acted:
        """Carry out the configured action (unless QuickBooks shows it done already: a check stopped after writing
        it); returns what happened."""
        if action == "report":
            return _Acted("was left as it is", Outcome.SKIPPED)
        if action not in spec.declared.sf_gone_actions:
            return _Acted(f"was left as it is (sync.on_sf_gone.{spec.name} = {action} does not apply to a QuickBooks "
                          f"{spec.qb_entity})", Outcome.SKIPPED)
        current = self.qb.edit_sequences(spec.qb_entity, [link.qb_id]).get(link.qb_id)
        if current is None:
            return _Acted("no longer exists in QuickBooks", Outcome.SKIPPED)
        if action == "inactivate":
            # an inactive record is not modified again (the adapter sends only what differs)
            record = {"ListID": link.qb_id, "EditSequence": current.edit_sequence, "IsActive": False}
            qb_type = current.qb_type or spec.qb_entity
            (result,) = self.qb.mod_many(qb_type, [record])
            if result.error is not None:
                return _Acted(f"could not be made inactive ({result.error})", Outcome.FAILED,
                              error=_as_error(result.error))
            return _Acted("was made inactive", Outcome.UPDATED)
        values = self.qb.current_values(link.qb_id)
        flat = values[0] if values is not None else {}
        if action == "void" and str(flat.get("Memo") or "").startswith(VOID_MEMO):
            return _Acted("was voided (unpaid: its amount is now 0)", Outcome.UPDATED, VOIDED_ADVICE, unlink=True)
        if _amount(flat, "AppliedAmount") != 0 or _amount(flat, "BalanceRemaining") <= 0:
            return _Acted(f"has payments applied (open balance {_amount(flat, 'BalanceRemaining')}), so it was left "
                          f"as it is", Outcome.SKIPPED, PAID_ADVICE if action == "void" else None)
        if action == "void":
            return self._void(spec, link)
        memo = spec.declared.hooks.memo(spec.declared, kind)
        # the memo already there (written before a stop) is not written again (the adapter sends only what differs)
        (result,) = self.qb.mod_many(spec.qb_entity, [{"TxnID": link.qb_id, "EditSequence": current.edit_sequence,
                                                       "Memo": f"{memo}: check before collecting"}])
        if result.error is not None:
            return _Acted(f"could not get a memo ({result.error})", Outcome.FAILED, error=_as_error(result.error))
        return _Acted(f"got the memo {memo!r} (unpaid)", Outcome.UPDATED)

    def _void(self, spec: EntitySpec, link: Any) -> _Acted:
        """Void an unpaid transaction (TxnVoid); the caller unlinks it with the notice: a record that becomes
        eligible again gets a new one."""
        (result,) = self.qb.void_many(spec.qb_entity, [link.qb_id])
        if result.error is not None:
            return _Acted(f"could not be voided ({result.error})", Outcome.FAILED,
                          f"void it in QuickBooks yourself, or set sync.on_sf_gone.{spec.name} = report",
                          error=_as_error(result.error))
        return _Acted("was voided (unpaid: its amount is now 0)", Outcome.UPDATED, VOIDED_ADVICE, unlink=True)


def _as_error(error: Any) -> SyncError:
    """QuickBooks' answer as the error the policy reads (a plain message needs the user)."""
    return error if isinstance(error, SyncError) else NeedsUser(str(error), hint="check the record in QuickBooks")


class _Links(Mapping[str, Any]):
    """The crosswalk of one entity as a mapping sf id → link, read one id at a time as it is asked for."""

    def __init__(self, state: StateStore, entity_name: str, count: int) -> None:
        self.state = state
        self.entity_name = entity_name
        self.count = count
        self._known: dict[str, Any] = {}

    def _find(self, sf_id: object) -> Any:
        if not isinstance(sf_id, str) or not sf_id:
            return None
        if sf_id not in self._known:
            self._known[sf_id] = self.state.lookup(self.entity_name, sf_id)
        return self._known[sf_id]

    def __contains__(self, sf_id: object) -> bool:
        return self._find(sf_id) is not None

    def __getitem__(self, sf_id: str) -> Any:
        link = self._find(sf_id)
        if link is None:
            raise KeyError(sf_id)
        return link

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        return (link.sf_id for link in self.state.links(self.entity_name))
