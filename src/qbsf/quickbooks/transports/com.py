"""Transport over the QuickBooks Desktop COM request processor (``QBXMLRP2.RequestProcessor``, Windows only).

The connection follows Intuit's documented sequence: ``OpenConnection2(appID, appName, localQBD)``, then
``BeginSession(companyFile or "", qbFileOpenDoNotCare)`` for a ticket, ``ProcessRequest(ticket, xml)`` per
message, and ``EndSession``/``CloseConnection`` on close so QuickBooks can exit. pywin32 is imported only
when a real connection is made, so this module imports anywhere.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from qbsf.quickbooks.errors import ConnectionFailed, TransportError

log = logging.getLogger(__name__)

# Constants from the QBXMLRP2 type library.
CT_LOCAL_QBD = 1
QB_FILE_OPEN_SINGLE_USER = 0
QB_FILE_OPEN_MULTI_USER = 1
QB_FILE_OPEN_DO_NOT_CARE = 2

CONNECT_HINT = ("open QuickBooks Desktop and your company file first; on first run accept QuickBooks' "
                "permission prompt with 'Yes, Always Allow'; if it persists, close and reopen QuickBooks")


def _dispatch_request_processor() -> Any:
    if sys.platform != "win32":
        raise ConnectionFailed("the COM transport needs Windows with QuickBooks Desktop installed",
                               hint="on other systems use the Web Connector transport (or the simulator)")
    import pythoncom  # only on Windows, only when actually connecting
    import win32com.client

    # The sync loop may run off the main thread; COM must be initialised on each thread that uses it.
    pythoncom.CoInitialize()
    return win32com.client.Dispatch("QBXMLRP2.RequestProcessor")


class ComTransport:
    """One QuickBooks session over COM, opened on first use, three attempts, closed by :meth:`close`."""

    def __init__(self, app_name: str, company_file: str = "", *, app_id: str = "",
                 open_mode: int = QB_FILE_OPEN_DO_NOT_CARE, attempts: int = 3, retry_delay: float = 2.0,
                 dispatch: Callable[[], Any] | None = None) -> None:
        self.app_name = app_name
        self.company_file = company_file or ""
        self.app_id = app_id
        self.open_mode = open_mode
        self.attempts = attempts
        self.retry_delay = retry_delay
        self._dispatch = dispatch or _dispatch_request_processor
        self._rp: Any = None
        self._ticket: str | None = None
        self._connected = False

    @property
    def is_open(self) -> bool:
        """True while a QuickBooks session (ticket) is held."""
        return self._ticket is not None

    def open(self) -> None:
        """Connect and begin a session, trying ``attempts`` times before giving up with the manual's message."""
        if self._ticket is not None:
            return
        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                self._connect_once()
                log.info("QuickBooks session open (attempt %d, company file %s)", attempt,
                         self.company_file or "the one open")
                return
            except ConnectionFailed:
                raise
            except Exception as exc:  # COM raises pywintypes.com_error, which cannot be imported off Windows
                last = exc
                log.warning("QuickBooks connection attempt %d/%d failed: %s", attempt, self.attempts, exc)
                self._release()
                if attempt < self.attempts and self.retry_delay > 0:
                    time.sleep(self.retry_delay)
        raise ConnectionFailed(f"Could not connect to QuickBooks after {self.attempts} attempts ({last})",
                               hint=CONNECT_HINT)

    def _connect_once(self) -> None:
        if self._rp is None:
            self._rp = self._dispatch()
        if not self._connected:
            self._rp.OpenConnection2(self.app_id, self.app_name, CT_LOCAL_QBD)
            self._connected = True
        self._ticket = self._rp.BeginSession(self.company_file, self.open_mode)

    def send(self, request_xml: str) -> str:
        """ProcessRequest on the open session (opening it first if needed)."""
        self.open()
        try:
            return self._rp.ProcessRequest(self._ticket, request_xml)
        except Exception as exc:  # the session is gone (QuickBooks closed, company switched)
            self._release()
            raise TransportError(f"QuickBooks did not process the request: {exc}",
                                 hint="check QuickBooks is still open with the company file; qbsf reconnects "
                                      "on the next cycle") from None

    def _release(self) -> None:
        rp, ticket, connected = self._rp, self._ticket, self._connected
        self._ticket = None
        self._connected = False
        if rp is None:
            return
        if ticket is not None:
            try:
                rp.EndSession(ticket)
            except Exception as exc:  # closing must never hide the original problem
                log.warning("EndSession failed: %s", exc)
        if connected:
            try:
                rp.CloseConnection()
            except Exception as exc:
                log.warning("CloseConnection failed: %s", exc)

    def close(self) -> None:
        """EndSession and CloseConnection so QuickBooks can close; safe to call twice."""
        self._release()
        self._rp = None
