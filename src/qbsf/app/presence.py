"""The connector's presence in Salesforce: heartbeat and manual sync requests, in the cycle's one Salesforce call.

Where the qbsf Salesforce package is installed, each cycle sends one request that

1. upserts this connector's ``QBSF_Heartbeat__c`` row by ``Connector_Id__c`` (the Salesforce dashboard shows
   "Connector — Online" while ``Last_Seen__c`` is under 2 minutes old),
2. closes the sync requests handled last cycle (``Status__c`` Done or Failed), and
3. reads the ``Pending`` ``QBSF_Sync_Request__c`` rows (↑ SF → QB / ↓ QB → SF clicked in Salesforce), and
4. runs the sync engine's cycle reads (change polls or the queue's claim read, the life-cycle check's, the in-org
   app's), so an idle cycle costs exactly one API call.

That request goes to the package's Apex REST resource (``POST /services/apexrest/qbsf/cycle``,
:class:`qbsf.sync.cycle_reads.CycleCall`); an older package without it gets the same work as ``/composite``
subrequests (5 queries a call). Without the package the heartbeat answers NOT_FOUND/INVALID_TYPE; presence then
switches itself off with one log line and the heartbeat stays local.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qbsf import __version__
from qbsf.errors import QbsfError
from qbsf.sync.cycle_reads import CycleCall, query_pages

log = logging.getLogger(__name__)

HEARTBEAT_OBJECT = "QBSF_Heartbeat__c"
REQUEST_OBJECT = "QBSF_Sync_Request__c"
PENDING_SOQL = (f"SELECT Id, Direction__c, Entity__c FROM {REQUEST_OBJECT} WHERE Status__c = 'Pending' "
                f"ORDER BY CreatedDate LIMIT 20")
_MISSING = ("NOT_FOUND", "INVALID_TYPE", "INVALID_FIELD")
CLOSES_PER_CYCLE = 20
# a request that cannot be closed because it is gone (deleted in the org): stop trying
_GONE = ("NOT_FOUND", "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY")


@dataclass
class Requests:
    """What Salesforce users asked for since the last cycle."""

    outbound: bool = False
    inbound: bool = False
    ids: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    # referenceId → first page of each cycle read run in the same call (missing when it failed)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)


def connector_id(machine_id: str, install: str) -> str:
    """A stable id for this install on this machine (two installs on one machine get two heartbeat rows)."""
    digest = hashlib.sha256(f"{machine_id}|{install}".encode()).hexdigest()[:12].upper()
    return f"{machine_id or 'qbsf'}-{digest}"


class SalesforcePresence:
    """Heartbeat + sync requests in the cycle's one Salesforce call (:class:`CycleCall`)."""

    def __init__(self, sf: Any, *, connector: str, machine_id: str = "", name: str | None = None,
                 call: CycleCall | None = None) -> None:
        self.sf = sf
        self.call = call or CycleCall(sf)
        self.connector = connector
        self.machine_id = machine_id
        self.name = (name or f"qbsf on {socket.gethostname()}")[:80]
        self.enabled = True
        self._to_close: dict[str, tuple[str, str]] = {}  # request id → (status, message)

    def finish(self, ids: list[str], *, ok: bool, message: str = "") -> None:
        """Mark requests handled; they are closed in Salesforce by the next cycle's call."""
        for request_id in ids:
            self._to_close[request_id] = ("Done" if ok else "Failed", message[:255])

    def beat(self, *, quickbooks_connected: bool, now: datetime | None = None,
             reads: dict[str, str] | None = None) -> Requests:
        """Send the heartbeat, close handled requests, read pending ones and run ``reads`` (referenceId → SOQL) —
        in one call. The reads' pages come back in ``Requests.pages``, whatever the heartbeat's fate."""
        reads = dict(reads or {})
        if not self.enabled:
            return Requests()
        moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        fields = {"Name": self.name, "Last_Seen__c": moment, "Machine_Id__c": self.machine_id,
                  "QB_Connected__c": quickbooks_connected, "Version__c": __version__}
        subrequests: list[dict[str, Any]] = [{
            "method": "PATCH", "referenceId": "heartbeat",
            "url": f"sobjects/{HEARTBEAT_OBJECT}/Connector_Id__c/{self.connector}", "body": fields}]
        # at most 20 closes a cycle; the rest go with the next one
        closing = list(self._to_close.items())[:CLOSES_PER_CYCLE]
        closes = [{"referenceId": f"close{index}", "id": request_id, "status": status, "message": message or None}
                  for index, (request_id, (status, message)) in enumerate(closing)]
        subrequests.extend({"method": "PATCH", "referenceId": close["referenceId"],
                            "url": f"sobjects/{REQUEST_OBJECT}/{close['id']}",
                            "body": {"Status__c": close["status"], "Message__c": close["message"]}}
                           for close in closes)
        try:
            # Apex's JSON reads a dateTime written with Z (the REST API takes +0000 too)
            at_utc = {**fields, "Last_Seen__c": moment.replace("+0000", "Z")}
            results = self.call.send({"pending": PENDING_SOQL, **reads}, subrequests=subrequests, closes=closes,
                                     heartbeat={"Connector_Id__c": self.connector, **at_utc})
        except QbsfError as exc:
            log.warning("Salesforce heartbeat not sent: %s", exc)
            return Requests()
        pages = query_pages(results, reads)
        beat = results.get("heartbeat")
        if beat is not None and beat.status >= 400:
            if any(code in str(beat.body) for code in _MISSING):
                self.enabled = False
                log.info("Salesforce package not installed: heartbeat kept locally, manual triggers from the "
                         "dashboard only")
                return Requests(pages=pages)
            log.warning("Salesforce heartbeat refused: %s", _first_message(beat.body))
        for index, (request_id, _) in enumerate(closing):
            result = results.get(f"close{index}")
            if result is not None and (result.status < 400 or any(gone in str(result.body) for gone in _GONE)):
                self._to_close.pop(request_id, None)
        requests = self._pending(results.get("pending"))
        requests.pages = pages
        return requests

    def _pending(self, result: Any) -> Requests:
        requests = Requests()
        if result is None or result.status >= 400 or not isinstance(result.body, dict):
            return requests
        for row in result.body.get("records", []):
            direction = str(row.get("Direction__c") or "")
            if direction == "SF_TO_QB":
                requests.outbound = True
            elif direction == "QB_TO_SF":
                requests.inbound = True
            else:
                self.finish([row["Id"]], ok=False, message=f"unknown direction {direction!r}")
                continue
            requests.ids.append(row["Id"])
            if row.get("Entity__c"):
                requests.entities.append(str(row["Entity__c"]))
        if requests.ids:
            log.info("%d sync request(s) from Salesforce", len(requests.ids), extra={"mark": "ok"})
        return requests


def _first_message(body: Any) -> str:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return f"{body[0].get('errorCode')}: {body[0].get('message')}"
    return str(body)[:200]
