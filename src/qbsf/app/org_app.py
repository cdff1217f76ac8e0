"""The connector's side of the QuickBooks Sync app in Salesforce (the package's Lightning dashboard).

What people do in the org reaches the connector through the reads it already makes once a cycle (``reads`` joins the
heartbeat's ``/composite`` call, so an idle cycle stays one Salesforce API call), and what the connector has to tell
them goes back in one ``/composite`` call of sObject Collections after a cycle that changed something:

- **Manage Mappings**: a ``Pending`` ``QBSF_Mapping__c`` row is checked with the same checker as ``qbsf mapping
  check`` and against the org's describe of its Salesforce object; a good one is written into the local mappings
  folder (replacing the file of the same sheet, which is kept in ``replaced/``) and set ``Active``, a bad one
  ``Rejected`` with its ``FILE:LINE:`` errors. Deleting an ``Active`` row in the org removes the file it wrote.
- **QB → SF timestamps**: the inbound watermarks are mirrored to one ``QBSF_Watermark__c`` row per entity (written
  only when they differ from what the org shows); ``Reset_Requested__c`` rows are reset before the cycle runs.
- **Recent activity**: after a cycle that synced or failed something, one ``Summary`` row per entity and direction
  and one ``Failure`` row per failed record (at most ``max_failures``), in bulk. Rows older than ``retention`` or
  beyond the newest ``max_rows`` are deleted a page at a time. **Retry** on a failure makes the record due again
  (``StateStore.retry``) and deletes the row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from qbsf.errors import QbsfError
from qbsf.mapping.kinds import Direction as MappingDirection
from qbsf.mapping.kinds import UnknownKind, kind_from_filename
from qbsf.mapping.loader import load_mapping_bytes
from qbsf.mapping.problems import MappingFileError
from qbsf.sync.state import FAILED_OUTCOMES, Direction, Outcome

log = logging.getLogger(__name__)

MAPPING_OBJECT = "QBSF_Mapping__c"
WATERMARK_OBJECT = "QBSF_Watermark__c"
ACTIVITY_OBJECT = "QBSF_Activity__c"
MANIFEST = ".salesforce-mappings.json"  # file name → QBSF_Mapping__c Id, for the files written from the org
INBOUND_PREFIX = "qb:"
INTERNAL_SOURCES = {"qb:deleted"}  # watermarks that are not an entity a person resets
ERRORS_LENGTH = 32768
MESSAGE_LENGTH = 4000
COLLECTION_SIZE = 200
_DIRECTIONS = {Direction.SF_TO_QB: "SF_TO_QB", Direction.QB_TO_SF: "QB_TO_SF"}
_COUNTED = {Outcome.CREATED: "created", Outcome.UPDATED: "updated", Outcome.LINKED: "updated"}


def _sf_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Salesforce's +0000 → +00:00
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class OrgAppReport:
    """What one cycle did for the org's app (for the log and the tests)."""

    activated: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    retried: int = 0


class OrgApp:
    """Reads the org app's requests in the cycle's composite call and writes back its state in bulk."""

    def __init__(self, sf: Any, state: Any, *, mappings_dir: Path,
                 reset: Callable[[list[str] | None], list[str]], clock: Callable[[], datetime] | None = None,
                 retention: timedelta = timedelta(days=7), max_rows: int = 2000, max_failures: int = 100) -> None:
        self.sf = sf
        self.state = state
        self.mappings_dir = Path(mappings_dir)
        self.reset = reset
        self.clock = clock or (lambda: datetime.now(UTC))
        self.retention = retention
        self.max_rows = max_rows
        self.max_failures = max_failures
        self.enabled = True
        self._org_watermarks: dict[str, tuple[datetime | None, bool]] | None = None  # entity → (value, requested)
        self._writes: list[dict[str, Any]] = []  # composite subrequests waiting for the end of the cycle
        self._deletes: list[str] = []
        self.last = OrgAppReport()
        self.present = False  # the org answered the app's reads this cycle (an older package has no app objects)

    # ---- the cycle's reads ---------------------------------------------------------------------------------------
    def reads(self) -> dict[str, str]:
        """The SOQL to run in the heartbeat's composite call, keyed by referenceId (empty when switched off)."""
        if not self.enabled:
            return {}
        cutoff = _sf_datetime(self.clock() - self.retention)
        return {
            "org_mappings": f"SELECT Id, Name, Body__c FROM {MAPPING_OBJECT} WHERE State__c = 'Pending' "
                            f"ORDER BY CreatedDate, Id LIMIT 5",
            "org_active": f"SELECT Id, Name FROM {MAPPING_OBJECT} WHERE State__c = 'Active' LIMIT 200",
            "org_watermarks": f"SELECT Id, Entity__c, Last_Modified__c, Reset_Requested__c FROM {WATERMARK_OBJECT} "
                              f"LIMIT 200",
            "org_retries": f"SELECT Id, Entity__c, Direction__c, Record_Key__c FROM {ACTIVITY_OBJECT} "
                           f"WHERE Kind__c = 'Failure' AND Retry_Requested__c = true LIMIT 200",
            "org_expired": f"SELECT Id FROM {ACTIVITY_OBJECT} WHERE Cycle_At__c < {cutoff} LIMIT 200",
            "org_overflow": f"SELECT Id FROM {ACTIVITY_OBJECT} ORDER BY Cycle_At__c DESC, Id DESC "
                            f"LIMIT 200 OFFSET {int(self.max_rows)}",
        }

    def accept(self, pages: Mapping[str, Any]) -> OrgAppReport:
        """Carry out what the pages ask (before the cycle's passes run): check pending mappings, remove the files of
        deleted ones, reset requested timestamps, make retried records due. A read that failed is skipped."""
        report = OrgAppReport()
        self.last = report
        self.present = self.enabled and any(reference in pages for reference in ("org_mappings", "org_watermarks"))
        if not self.present:
            return report
        rows = self._rows(pages, "org_mappings")
        if rows is not None:
            for row in rows:
                self._check_mapping(row, report)
        active = self._rows(pages, "org_active")
        if active is not None:
            self._remove_deleted(active, report)
        marks = self._rows(pages, "org_watermarks")
        if marks is not None:
            self._org_watermarks = {}
            requested: list[str] = []
            for row in marks:
                entity = str(row.get("Entity__c") or "")
                if not entity:
                    continue
                wanted = bool(row.get("Reset_Requested__c"))
                self._org_watermarks[entity] = (_parse_datetime(row.get("Last_Modified__c")), wanted)
                if wanted:
                    requested.append(entity)
            for entity in requested:
                try:
                    report.reset.extend(self.reset([entity]))
                except QbsfError as exc:  # e.g. an entity this connector does not sync: say so, clear the request
                    log.warning("QB → SF timestamp of %s not reset: %s", entity, exc, extra={"mark": "warn"})
            if requested:
                log.info("QB → SF timestamps reset from Salesforce: %s", ", ".join(report.reset) or "none",
                         extra={"mark": "ok"})
                for entity in requested:
                    self._org_watermarks[entity] = (self._org_watermarks[entity][0], True)  # rewrite after the cycle
        retries = self._rows(pages, "org_retries")
        if retries:
            for row in retries:
                key = str(row.get("Record_Key__c") or "")
                if key:
                    report.retried += self.state.retry(entity=row.get("Entity__c") or None, keys=[key])
                self._deletes.append(row["Id"])
            log.info("%d record(s) queued for retry from Salesforce", len(retries), extra={"mark": "ok"})
        for reference in ("org_expired", "org_overflow"):
            self._deletes.extend(row["Id"] for row in self._rows(pages, reference) or [])
        return report

    @staticmethod
    def _rows(pages: Mapping[str, Any], reference: str) -> list[dict[str, Any]] | None:
        page = pages.get(reference)
        if not isinstance(page, Mapping) or not isinstance(page.get("records"), list):
            return None
        return [dict(row) for row in page["records"]]

    # ---- Manage Mappings -------------------------------------------------------------------------------------
    def _check_mapping(self, row: Mapping[str, Any], report: OrgAppReport) -> None:
        name = Path(str(row.get("Name") or "")).name
        body = str(row.get("Body__c") or "")
        now = _sf_datetime(self.clock())
        problems = self._problems(name, body)
        if problems:
            report.rejected.append(name)
            log.warning("Mapping %s uploaded in Salesforce was rejected: %s", name, problems[0],
                        extra={"mark": "fail"})
            self._update(MAPPING_OBJECT, {"Id": row["Id"], "State__c": "Rejected", "Checked_At__c": now,
                                          "Errors__c": "\n".join(problems)[:ERRORS_LENGTH]})
            return
        kind = kind_from_filename(name)
        self._install(name, body, row["Id"], kind.sheet)
        report.activated.append(name)
        log.info("Mapping %s from Salesforce is now in use (%s)", name, kind.sheet, extra={"mark": "ok"})
        self._update(MAPPING_OBJECT, {"Id": row["Id"], "State__c": "Active", "Sheet__c": kind.sheet[:80],
                                      "Checked_At__c": now, "Errors__c": None})

    def _problems(self, name: str, body: str) -> list[str]:
        """Every problem as a ``FILE:LINE: …`` line: the mapping checker's, then fields the org does not have."""
        if not name.lower().endswith(".csv"):
            return [f"{name or 'the file'}:1: a mapping is a .csv file named after its sheet, e.g. "
                    f"Acct_to_Customer.csv"]
        try:
            mapping = load_mapping_bytes(body.encode("utf-8"), name)
        except MappingFileError as exc:
            return [str(problem) for problem in exc.problems]
        kind = mapping.kind
        try:
            described = self.sf.describe(kind.sf_object)
        except QbsfError as exc:
            return [f"{name}:1: the org's describe of {kind.sf_object} could not be read ({exc}); upload it again"]
        fields = [str(f.get("name")) for f in described.get("fields", []) if f.get("name")]
        relationships = [str(f.get("relationshipName")) for f in described.get("fields", [])
                         if f.get("relationshipName")]
        if kind.direction is MappingDirection.SF_TO_QB:
            found = mapping.check_fields(source_fields=fields + relationships)
        else:
            found = mapping.check_fields(target_fields=fields)
        return [str(problem) for problem in found]

    def _manifest(self) -> dict[str, str]:
        try:
            data = json.loads((self.mappings_dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save_manifest(self, manifest: Mapping[str, str]) -> None:
        path = self.mappings_dir / MANIFEST
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dict(sorted(manifest.items())), indent=1), encoding="utf-8")
        temporary.replace(path)

    def _install(self, name: str, body: str, record_id: str, sheet: str) -> None:
        """Write the CSV into the mappings folder; other files of the same sheet move to ``replaced/`` (kept)."""
        self.mappings_dir.mkdir(parents=True, exist_ok=True)
        manifest = self._manifest()
        for other in sorted(self.mappings_dir.glob("*.csv")):
            try:
                same = other.name != name and kind_from_filename(other.name).sheet == sheet
            except UnknownKind:
                same = False
            if same:
                previous = manifest.pop(other.name, None)
                if previous is not None and previous != record_id:
                    self._update(MAPPING_OBJECT, {"Id": previous, "State__c": "Rejected",
                                                  "Errors__c": f"{other.name}: replaced by {name}"})
                aside = self.mappings_dir / "replaced"
                aside.mkdir(exist_ok=True)
                other.replace(aside / other.name)
                log.info("Mapping %s replaced by %s from Salesforce (the old file is in %s)", other.name, name,
                         aside)
        earlier = manifest.get(name)
        if earlier is not None and earlier != record_id:  # the same file uploaded again: the older row is replaced
            self._update(MAPPING_OBJECT, {"Id": earlier, "State__c": "Rejected",
                                          "Errors__c": f"{name}: replaced by a newer upload of {name}"})
        target = self.mappings_dir / name
        temporary = target.with_suffix(".csv.tmp")
        temporary.write_text(body, encoding="utf-8", newline="")
        temporary.replace(target)
        manifest[name] = record_id
        self._save_manifest(manifest)

    def _remove_deleted(self, active: list[dict[str, Any]], report: OrgAppReport) -> None:
        """Files written from the org whose mapping is no longer Active there (deleted, or replaced) are removed."""
        manifest = self._manifest()
        if not manifest:
            return
        # just activated this cycle: the org still says Pending until the write-back lands
        alive = {str(row.get("Id")) for row in active} | {str(r.get("Id")) for r in self._pending_activations()}
        changed = False
        for name, record_id in list(manifest.items()):
            if record_id in alive:
                continue
            (self.mappings_dir / name).unlink(missing_ok=True)
            del manifest[name]
            changed = True
            report.removed.append(name)
            log.info("Mapping %s was deleted in Salesforce: no longer in use", name, extra={"mark": "warn"})
        if changed:
            self._save_manifest(manifest)

    def _pending_activations(self) -> list[dict[str, Any]]:
        return [record for sub in self._writes for record in sub.get("body", {}).get("records", [])
                if record.get("State__c") == "Active"]

    # ---- writes -------------------------------------------------------------------------------------------------
    def _update(self, sobject: str, values: dict[str, Any]) -> None:
        self._writes.append({"method": "PATCH", "url": "composite/sobjects",
                             "body": {"allOrNone": False,
                                      "records": [{"attributes": {"type": sobject}, **values}]}})

    def after_cycle(self, started_at: datetime, cycle: int | None = None) -> int:
        """Send what the cycle produced in one composite call (none when there is nothing to say); returns how many
        subrequests were sent."""
        if not self.present:
            self._writes, self._deletes = [], []
            return 0  # without the app's objects in the org there is nobody to tell
        records: list[dict[str, Any]] = []
        for sub in self._writes:
            records.extend(sub["body"]["records"])
        subrequests: list[dict[str, Any]] = []
        for index, start in enumerate(range(0, len(records), COLLECTION_SIZE)):
            subrequests.append({"method": "PATCH", "url": "composite/sobjects", "referenceId": f"update{index}",
                                "body": {"allOrNone": False, "records": records[start:start + COLLECTION_SIZE]}})
        marks = self._watermark_rows()
        for index, start in enumerate(range(0, len(marks), COLLECTION_SIZE)):
            subrequests.append({"method": "PATCH", "url": f"composite/sobjects/{WATERMARK_OBJECT}/Entity__c",
                                "referenceId": f"marks{index}",
                                "body": {"allOrNone": False, "records": marks[start:start + COLLECTION_SIZE]}})
        activity = self._activity_rows(started_at)
        for index, start in enumerate(range(0, len(activity), COLLECTION_SIZE)):
            subrequests.append({"method": "POST", "url": "composite/sobjects", "referenceId": f"activity{index}",
                                "body": {"allOrNone": False, "records": activity[start:start + COLLECTION_SIZE]}})
        deletes = list(dict.fromkeys(self._deletes))
        for index, start in enumerate(range(0, len(deletes), COLLECTION_SIZE)):
            ids = ",".join(deletes[start:start + COLLECTION_SIZE])
            subrequests.append({"method": "DELETE", "url": f"composite/sobjects?ids={ids}&allOrNone=false",
                                "referenceId": f"purge{index}"})
        self._writes, self._deletes = [], []
        if not subrequests:
            return 0
        try:
            results = self.sf.composite(subrequests)
        except QbsfError as exc:
            log.warning("Salesforce dashboard not updated: %s", exc)
            return 0
        for result in results:
            if getattr(result, "status", 200) >= 400:
                log.warning("Salesforce dashboard update %s refused: %s", result.reference_id,
                            str(result.body)[:200])
        if marks:
            self._org_watermarks = {row["Entity__c"]: (_parse_datetime(row["Last_Modified__c"]), False)
                                    for row in marks} | {
                entity: value for entity, value in (self._org_watermarks or {}).items()
                if entity not in {row["Entity__c"] for row in marks}}
        return len(subrequests)

    def _watermark_rows(self) -> list[dict[str, Any]]:
        """One upsert per entity whose local timestamp differs from the org's row (or whose reset was asked)."""
        if self._org_watermarks is None:
            return []  # the org's rows were not read this cycle: do not guess
        local: dict[str, datetime | None] = {}
        for source, (value, _moved) in self.state.watermarks().items():
            entity = source[len(INBOUND_PREFIX):]
            # entities only: the inbound pass's own bookkeeping (qb:deleted, qb:Invoice:status_day,
            # qb:company_utc_offset) is not a timestamp a person resets
            if source.startswith(INBOUND_PREFIX) and source not in INTERNAL_SOURCES and entity.isalpha() \
                    and entity[:1].isupper():
                local[entity] = _parse_datetime(value)
        for entity in self._org_watermarks:
            local.setdefault(entity, None)  # reset (or never synced): the org shows "never"
        now = _sf_datetime(self.clock())
        rows = []
        for entity, value in sorted(local.items()):
            org_value, requested = self._org_watermarks.get(entity, (None, False))
            known = entity in self._org_watermarks
            if known and not requested and org_value == value:
                continue
            rows.append({"attributes": {"type": WATERMARK_OBJECT}, "Entity__c": entity, "Name": entity[:80],
                         "Last_Modified__c": _sf_datetime(value) if value else None,
                         "Reset_Requested__c": False, "Mirrored_At__c": now})
        return rows

    def _activity_rows(self, started_at: datetime) -> list[dict[str, Any]]:
        """A Summary row per entity and direction that did something since ``started_at``, and its failures."""
        events = self.state.recent(limit=10_000, since=started_at)
        if not events:
            return []
        at = _sf_datetime(self.clock())
        counts: dict[tuple[str, Direction], dict[str, int]] = {}
        failures: list[dict[str, Any]] = []
        for event in events:
            tally = counts.setdefault((event.entity, event.direction), {"created": 0, "updated": 0, "failed": 0})
            if event.outcome in FAILED_OUTCOMES:
                tally["failed"] += 1
                if len(failures) < self.max_failures:
                    key = event.sf_id if event.direction is Direction.SF_TO_QB else (event.qb_id or event.sf_id)
                    failures.append({"attributes": {"type": ACTIVITY_OBJECT}, "Kind__c": "Failure",
                                     "Entity__c": event.entity[:40], "Direction__c": _DIRECTIONS[event.direction],
                                     "Cycle_At__c": at, "Record_Key__c": (key or "")[:60] or None,
                                     "Message__c": (event.message or "failed")[:MESSAGE_LENGTH]})
            elif event.outcome in _COUNTED:
                tally[_COUNTED[event.outcome]] += 1
        summaries = [{"attributes": {"type": ACTIVITY_OBJECT}, "Kind__c": "Summary", "Entity__c": entity[:40],
                      "Direction__c": _DIRECTIONS[direction], "Cycle_At__c": at,
                      "Created_Count__c": tally["created"], "Updated_Count__c": tally["updated"],
                      "Failed_Count__c": tally["failed"]}
                     for (entity, direction), tally in sorted(counts.items())
                     if tally["created"] or tally["updated"] or tally["failed"]]
        return summaries + failures if summaries else []
