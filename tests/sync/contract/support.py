"""The contract test's support: which entities are synced (read from the registry), a world of both emulators on
one clock, and counters at the clients that say what each pass read and wrote on each side.

Every synced entity, in each direction it syncs, is a :class:`Case`. The cases come from qbsf's registry of synced
entities (``qbsf.sync.entities.REGISTRY``: each declared pair, in each direction it has a mapping sheet for): a new
entity is in the contract as soon as it is declared, and fails it until its sample-record factory
(tests/sync/contract/factories.py) says how to make, change and remove one of its records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree

# The QuickBooks company's zone, configured as a user would (quickbooks.time_zone).
COMPANY_ZONE = ZoneInfo("America/Los_Angeles")
SF_TO_QB = "sf_to_qb"
QB_TO_SF = "qb_to_sf"


@dataclass(frozen=True)
class Case:
    """One synced entity in one direction, as declared."""

    direction: str          # SF_TO_QB or QB_TO_SF
    name: str               # the declared entity name (what reports, failures and ``entities=`` use)
    sf_object: str
    qb_entity: str
    crosswalk: str          # the crosswalk entity its links are kept under
    qb_id_field: str        # the Salesforce field holding the QuickBooks id
    qb_id_kind: str         # ListID or TxnID
    eligibility: str | None = None  # SF → QB: the condition a Salesforce record must meet to sync
    gone_actions: tuple[str, ...] = ()  # SF → QB: what sync.on_sf_gone can make qbsf do (report, inactivate, memo)
    by_name: bool = False   # an unlinked record is linked to a same-named one on the other side

    @property
    def key(self) -> tuple[str, str, str]:
        """What a factory is registered under: the direction and the pair of records it syncs."""
        return (self.direction, self.sf_object, self.qb_entity)

    @property
    def label(self) -> str:
        if self.direction == SF_TO_QB:
            return f"{self.sf_object}->{self.qb_entity}"
        return f"{self.qb_entity}->{self.sf_object}"


def registered_cases() -> list[Case]:
    """Every declared entity (``qbsf.sync.entities.REGISTRY``) in every direction it syncs, in dependency order."""
    from qbsf.sync.entities import REGISTRY

    cases: list[Case] = []
    for item in REGISTRY:
        if item.outbound is not None:
            cases.append(Case(SF_TO_QB, item.outbound.name, item.sf_object, item.qb_entity, item.key,
                              item.qb_id_field, item.qb_id_kind, item.eligibility, item.sf_gone_actions,
                              item.matches_by_name))
        # An inbound sheet that only writes QuickBooks' values back to records Salesforce sent (a sales order's
        # state back to its Order) creates nothing: its end-to-end tests cover it, with the outbound contract.
        if item.inbound is not None and item.inbound_creates:
            cases.append(Case(QB_TO_SF, item.inbound.name, item.sf_object, item.qb_entity, item.key,
                              item.qb_id_field, item.qb_id_kind, by_name=item.matches_by_name))
    return cases


# ---- one clock for both systems and the state store -----------------------------------------------------------
class Clock:
    """One wall clock for QuickBooks, Salesforce and the state store; it moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# ---- counting at the clients ----------------------------------------------------------------------------------
@dataclass
class Tally:
    """What one side was asked: records read (by object or entity, with their ids) and records written."""

    reads: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    writes: Counter[str] = field(default_factory=Counter)

    def read_ids(self, kind: str) -> set[str]:
        return set(self.reads.get(kind, ()))


class SalesforceTally:
    """Stands in for a SalesforceClient's ``http`` (httpx.Client): every call still goes to the emulator, and the
    records each answer carried (queries, composite reads) and each write asked for are counted by object."""

    def __init__(self, http: Any) -> None:
        self._http = http
        self.tally = Tally()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._http, name)

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        response = self._http.request(method, url, **kwargs)
        if response.status_code < 400:
            self._count(method.upper(), urlsplit(str(url)).path, kwargs.get("json"), response)
        return response

    def _count(self, method: str, path: str, body: Any, response: Any) -> None:
        if "/oauth2/" in path:
            return
        answer = response.json() if response.content else None
        if method == "GET":
            self._reads(answer)
        elif path.endswith("/composite") and isinstance(body, dict):
            results = (answer or {}).get("compositeResponse", [])
            for sub, result in zip(body.get("compositeRequest", []), results, strict=False):
                if str(sub.get("method", "GET")).upper() == "GET":
                    self._reads(result.get("body"))
                else:
                    self._write(str(sub.get("url", "")), sub.get("body"))
        elif "/composite/sobjects" in path:
            records = body.get("records", []) if isinstance(body, dict) else []
            for record in records:
                self.tally.writes[record.get("attributes", {}).get("type") or _object_of(path)] += 1
            if method == "DELETE":
                self.tally.writes["(deleted)"] += 1
        else:
            self._write(path, body)

    def _reads(self, answer: Any) -> None:
        if not isinstance(answer, dict):
            return
        for record in answer.get("records", []) or []:
            kind = (record.get("attributes") or {}).get("type")
            if kind:
                self.tally.reads[kind].append(record.get("Id") or "")

    def _write(self, path: str, body: Any) -> None:
        self.tally.writes[_object_of(path)] += 1


def _object_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if "sobjects" in parts and parts.index("sobjects") + 1 < len(parts):
        return parts[parts.index("sobjects") + 1]
    return "/".join(parts[-2:])


class QuickBooksTally:
    """A transport wrapper: each qbXML message goes through unchanged; records answered to queries are counted by
    entity (with their ListID/TxnID) and Add/Mod/Del/Void requests by request type."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.tally = Tally()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send(self, request_xml: str) -> str:
        response_xml = self.inner.send(request_xml)
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        for element in etree.fromstring(request_xml.encode("utf-8"), parser).iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            if tag.endswith(("AddRq", "ModRq", "DelRq", "VoidRq")):
                self.tally.writes[tag[:-2]] += 1
        for element in etree.fromstring(response_xml.encode("utf-8"), parser).iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            if tag.endswith("QueryRs"):
                for record in element:
                    if isinstance(record.tag, str) and record.tag.endswith("Ret"):
                        qb_id = record.findtext("ListID") or record.findtext("TxnID") or ""
                        self.tally.reads[record.tag[:-3]].append(qb_id)
        return response_xml

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


# ---- the world ------------------------------------------------------------------------------------------------
@dataclass
class ContractWorld:
    """Both emulators with real clients, one state store and both passes, on one clock."""

    sf_state: Any
    sf: Any
    qb_sim: Any
    qb: Any
    state: Any
    mappings: dict[str, Any]
    clock: Clock | None = None
    sf_tally: SalesforceTally | None = None
    qb_tally: QuickBooksTally | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    inbound_settings: dict[str, Any] = field(default_factory=dict)

    # Short overlaps, so a test can move the clock past them and see the read windows settle.
    OVERLAP = timedelta(seconds=2)
    STEP = 5  # seconds the clock moves before each pass and each edit

    def tick(self) -> None:
        if self.clock is not None:
            self.clock.advance(self.STEP)

    def engine(self) -> Any:
        from qbsf.sync.engine import SyncConfig, SyncEngine

        config = SyncConfig(retry_base=timedelta(0), retry_cap=timedelta(0), income_account="Sales",
                            cogs_account="Cost of Goods Sold", asset_account="Inventory Asset",
                            poll_overlap=self.OVERLAP, lifecycle_check_minutes=0)
        for name, value in self.settings.items():
            setattr(config, name, value)
        return SyncEngine(config, self.sf, self.qb, self.state, self.mappings)

    def inbound_sync(self) -> Any:
        from qbsf.sync.inbound import InboundConfig, InboundSync

        config = InboundConfig(overlap=self.OVERLAP, company_tz=COMPANY_ZONE)
        for name, value in self.inbound_settings.items():
            setattr(config, name, value)
        return InboundSync(config, self.sf, self.qb, self.state, self.mappings,
                           clock=self.clock or self.qb_sim.now)

    def sync_out(self, entities: Iterable[str] | None = None) -> Any:
        """One Salesforce → QuickBooks pass (all declared entities by default); it must go well."""
        self.tick()
        report = self.engine().sync_sf_to_qb(list(entities) if entities is not None else None)
        assert report.ok, f"SF → QB: {report.error or report.failures}"
        return report

    def sync_in(self, entities: Iterable[str] | None = None) -> Any:
        """One QuickBooks → Salesforce pass; it must go well."""
        self.tick()
        report = self.inbound_sync().run(list(entities) if entities is not None else None)
        assert report.ok, f"QB → SF: {report.error or report.failures}"
        return report

    def cycle(self) -> tuple[Any, Any]:
        """One whole cycle as `qbsf run` does it: Salesforce → QuickBooks, then QuickBooks → Salesforce."""
        return self.sync_out(), self.sync_in()

    def counted(self, run: Callable[[], Any]) -> tuple[Any, Tally, Tally]:
        """Run ``run`` with fresh counters; returns its result and what it read and wrote (Salesforce, QuickBooks)."""
        assert self.sf_tally is not None and self.qb_tally is not None, "this world counts nothing"
        self.sf_tally.tally, self.qb_tally.tally = Tally(), Tally()
        result = run()
        return result, self.sf_tally.tally, self.qb_tally.tally
