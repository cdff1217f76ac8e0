"""The Web Connector transport: ``send(request_xml) -> response_xml`` over QuickBooks Web Connector polls.

The sync engine calls :meth:`WebConnectorTransport.send` from its own thread
exactly as with the other transports. The call queues the request on the
company's :class:`~qbsf.quickbooks.webconnector.bridge.CompanyBridge` and blocks
until a Web Connector session hands it to QuickBooks and brings the answer
back. If the session is cut off first, ``send`` raises
:class:`~qbsf.quickbooks.webconnector.bridge.SessionCutOff` (``Retriable``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qbsf.quickbooks.webconnector.bridge import CompanyBridge, CompanyStatus
from qbsf.quickbooks.webconnector.hcp import CompanySettings, HostInfo


class WebConnectorTransport:
    """One company's QuickBooks, reached through its Web Connector."""

    def __init__(self, bridge: CompanyBridge, *, session_wait: float = 3600.0,
                 response_timeout: float = 900.0) -> None:
        self.bridge = bridge
        self.session_wait = session_wait
        self.response_timeout = response_timeout

    @property
    def company(self) -> str:
        """The company profile this transport serves."""
        return self.bridge.company

    def send(self, request_xml: str) -> str:
        """Send one qbXML message through the next Web Connector poll and return QuickBooks' response.

        Waits up to ``session_wait`` seconds for a session and ``response_timeout`` for the answer.
        """
        return self.bridge.submit(request_xml, session_wait=self.session_wait,
                                  response_timeout=self.response_timeout)

    def finish(self) -> None:
        """No more work for now: the Web Connector session ends with 100 % after the last answer."""
        self.bridge.finish()

    def close(self) -> None:
        """Same as :meth:`finish`; the transport stays usable, a later ``send`` waits for the next session."""
        self.bridge.finish()

    def want_session(self) -> None:
        """Announce work so the next Web Connector poll opens a session instead of hearing "none"."""
        self.bridge.want_session()

    def report_progress(self, done: int, total: int) -> None:
        """The engine's progress, shown by the Web Connector as percent done."""
        self.bridge.report_progress(done, total)

    def entity_progress(self, entities: Sequence[str]) -> Callable[[str, int, int], None]:
        """A ``progress(entity, done, total)`` callback for the engine, turned into the session's percentage.

        Entities count equally, in the order given: half-way through the second of four is 37 %.
        """
        order = {name: index for index, name in enumerate(entities)}
        scale = 1000

        def progress(entity: str, done: int, total: int) -> None:
            index = order.get(entity)
            if index is None:
                return
            fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 1.0
            self.bridge.report_progress(int(scale * (index + fraction)), scale * len(order))

        return progress

    def wait_for_session(self, timeout: float) -> bool:
        """Block until a Web Connector session is open; False after ``timeout`` seconds."""
        return self.bridge.wait_for_session(timeout)

    @property
    def host_info(self) -> HostInfo | None:
        """QuickBooks' HostRet from the latest session (product, supported qbXML versions), once known."""
        return self.bridge.host

    @property
    def company_settings(self) -> CompanySettings | None:
        """The company's name and preferences from the latest session, once known."""
        return self.bridge.settings

    @property
    def qbxml_version(self) -> str | None:
        """The qbXML version negotiated with this QuickBooks (highest of 16.0/13.0 it supports)."""
        return self.bridge.qbxml_version

    def status(self) -> CompanyStatus:
        """Last session, outcome and next expected poll, for the dashboard."""
        return self.bridge.status()
