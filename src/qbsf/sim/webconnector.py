"""A QuickBooks Web Connector stand-in: plays QBWC's side of the protocol over real HTTP.

:class:`WebConnectorStandIn` does what Intuit's Web Connector does on each
scheduled update — ``serverVersion``, ``clientVersion``, ``authenticate``, then
``sendRequestXML``/``receiveResponseXML`` until 100 % (pausing on ``NoOp``), and
``closeConnection`` — and answers each qbXML request with a QuickBooks
(usually :class:`qbsf.sim.quickbooks.QuickBooksSimulator`). It writes its own
SOAP envelopes rather than reusing the endpoint's code, so it checks that code
instead of agreeing with it. It can also cut a session off the ways real life
does: ``connectionError`` (QuickBooks closed), ``closeConnection`` mid-way, or
simply vanishing.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from lxml import etree

from qbsf.xmlsafe import parse_xml

log = logging.getLogger(__name__)

_QBWC_NS = "http://developer.intuit.com/"
_SOAP = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/", "1.2": "http://www.w3.org/2003/05/soap-envelope"}
_HCP_REQUEST = ('<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?><QBXML>'
                '<QBXMLMsgsRq onError="continueOnError"><HostQueryRq requestID="0"/><CompanyQueryRq requestID="1"/>'
                '<PreferencesQueryRq requestID="2"/></QBXMLMsgsRq></QBXML>')
#: What the Web Connector reports when QuickBooks is not running or the file cannot be opened.
QB_UNREACHABLE_HRESULT = "0x80040408"

CutOff = Literal["connectionError", "closeConnection", "vanish"]


class WebConnectorFault(Exception):
    """The endpoint answered with a SOAP fault or a non-SOAP error page."""

    def __init__(self, operation: str, status_code: int, message: str) -> None:
        super().__init__(f"{operation}: HTTP {status_code}: {message}")
        self.operation = operation
        self.status_code = status_code
        self.message = message


@dataclass
class SessionTranscript:
    """Everything one simulated update did, in order."""

    server_version: str = ""
    client_version_answer: str = ""
    ticket: str = ""
    auth_status: str = ""
    auth_extra: list[str] = field(default_factory=list)
    hcp_response: str = ""
    requests: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    percents: list[int] = field(default_factory=list)
    noops: int = 0
    last_errors: list[str] = field(default_factory=list)
    connection_error_answer: str = ""
    close_message: str = ""
    cut_off: str = ""

    @property
    def completed(self) -> bool:
        """The session ran to 100 %."""
        return bool(self.percents) and self.percents[-1] >= 100

    @property
    def failed(self) -> bool:
        """The endpoint reported an error (a negative percentage or an empty request that was no NoOp)."""
        return bool(self.last_errors)


def _answer(quickbooks: Any) -> Callable[[str], str]:
    if hasattr(quickbooks, "process"):
        return quickbooks.process
    if callable(quickbooks):
        return quickbooks
    raise TypeError("quickbooks must have process(request_xml) -> response_xml or be callable")


class WebConnectorStandIn:
    """Intuit's Web Connector, as far as the endpoint can tell, for one .qwc (user) and one QuickBooks."""

    def __init__(self, url: str, username: str, password: str, quickbooks: Any, *,
                 client_version: str = "2.3.0.217", company_file: str = r"C:\Users\Public\Documents\Company.QBW",
                 country: str = "US", qbxml_version: tuple[int, int] = (16, 0), soap_version: str = "1.1",
                 noop_pause: float = 0.05, max_round_trips: int = 10_000, max_noops: int = 2_000,
                 http: httpx.Client | None = None, timeout: float = 120.0,
                 verify: bool | ssl.SSLContext = True, retries: int = 0, retry_pause: float = 0.2,
                 on_call: Callable[[str, float], None] | None = None) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.answer = _answer(quickbooks)
        self.client_version = client_version
        self.company_file = company_file
        self.country = country
        self.qbxml_version = qbxml_version
        self.soap_version = soap_version
        self.noop_pause = noop_pause  # the real Web Connector pauses 5 s after NoOp
        self.max_round_trips = max_round_trips
        self.max_noops = max_noops
        self._http = http if http is not None else httpx.Client(timeout=timeout, verify=verify)
        self._owns_http = http is None
        # Repeat a call whose answer was lost on the way (connection reset, 502/503 from a reverse proxy whose
        # backend died), as an HTTP client behind a load balancer does; 0 = give up at once.
        self.retries = retries
        self.retry_pause = retry_pause
        self.on_call = on_call  # (operation, seconds) after each answered call: for benchmarks

    # ----- SOAP --------------------------------------------------------------------------------------------------

    def call(self, operation: str, *parts: tuple[str, str]) -> Any:
        """Call one operation; returns its result (a list for a string array). Raises WebConnectorFault."""
        ns = _SOAP[self.soap_version]
        envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
        body = etree.SubElement(envelope, f"{{{ns}}}Body")
        op = etree.SubElement(body, f"{{{_QBWC_NS}}}{operation}", nsmap={None: _QBWC_NS})
        for name, value in parts:
            etree.SubElement(op, f"{{{_QBWC_NS}}}{name}").text = value
        payload = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        action = f"{_QBWC_NS}{operation}"
        if self.soap_version == "1.1":
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        else:
            headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        started = time.perf_counter()
        for attempt in range(self.retries + 1):
            try:
                reply = self._http.post(self.url, content=payload, headers=headers)
            except httpx.TransportError:
                if attempt >= self.retries:
                    raise
                time.sleep(self.retry_pause)
                continue
            if reply.status_code in (502, 503) and attempt < self.retries:
                time.sleep(self.retry_pause)
                continue
            break
        if self.on_call is not None:
            self.on_call(operation, time.perf_counter() - started)
        try:
            root = parse_xml(reply.content, source=f"{operation} response")
        except Exception as exc:
            raise WebConnectorFault(operation, reply.status_code, reply.text[:300]) from exc
        found = root.find(f"{{{ns}}}Body")
        first = found[0] if found is not None and len(found) else None
        if first is None:
            raise WebConnectorFault(operation, reply.status_code, "no SOAP Body in the answer")
        if etree.QName(first).localname == "Fault":
            raise WebConnectorFault(operation, reply.status_code, " ".join(first.itertext()).strip())
        if reply.status_code != 200:
            raise WebConnectorFault(operation, reply.status_code, "HTTP error without a fault")
        result = first.find(f"{{{_QBWC_NS}}}{operation}Result")
        if result is None:
            return ""
        strings = result.findall(f"{{{_QBWC_NS}}}string")
        if operation == "authenticate":
            return [s.text or "" for s in strings]
        if operation == "receiveResponseXML":
            return int(result.text or "0")
        return result.text or ""

    # ----- a whole update ----------------------------------------------------------------------------------------

    def _hcp(self) -> str:
        version = f"{self.qbxml_version[0]}.{self.qbxml_version[1]}"
        try:
            return self.answer(_HCP_REQUEST.format(version=version))
        except Exception as exc:  # a QuickBooks that cannot answer the host query still gets its session
            log.warning("QuickBooks did not answer the host/company/preferences query: %s", exc)
            return ""

    def run_session(self, *, cut_off_after: int | None = None, cut_off: CutOff = "connectionError",
                    ) -> SessionTranscript:
        """One scheduled update from start to close; ``cut_off_after`` N requests, end it the ``cut_off`` way.

        The cut comes after the Web Connector took its N-th request and before QuickBooks' answer went back, the
        moment where a careless server would leave work half-done.
        """
        t = SessionTranscript()
        t.server_version = self.call("serverVersion")
        t.client_version_answer = self.call("clientVersion", ("strVersion", self.client_version))
        if t.client_version_answer.startswith("E:"):
            t.last_errors.append(t.client_version_answer)
            return t
        auth = self.call("authenticate", ("strUserName", self.username), ("strPassword", self.password))
        if len(auth) < 2:
            t.last_errors.append(f"authenticate returned {len(auth)} element(s), expected at least 2")
            return t
        t.ticket, t.auth_status, t.auth_extra = auth[0], auth[1], auth[2:]
        if t.auth_status in ("nvu", "none", "busy"):
            return t
        company_file = t.auth_status or self.company_file
        t.hcp_response = self._hcp()
        hcp = t.hcp_response
        noops = 0
        while len(t.requests) < self.max_round_trips:
            request = self.call("sendRequestXML", ("ticket", t.ticket), ("strHCPResponse", hcp),
                                ("strCompanyFileName", company_file), ("qbXMLCountry", self.country),
                                ("qbXMLMajorVers", str(self.qbxml_version[0])),
                                ("qbXMLMinorVers", str(self.qbxml_version[1])))
            hcp = ""  # only the first call of a session carries QuickBooks' self-description
            if not request:
                error = self.call("getLastError", ("ticket", t.ticket))
                if error == "NoOp" and noops < self.max_noops:
                    noops += 1
                    t.noops += 1
                    time.sleep(self.noop_pause)
                    continue
                t.last_errors.append(error)
                break
            t.requests.append(request)
            if cut_off_after is not None and len(t.requests) >= cut_off_after:
                t.cut_off = cut_off
                if cut_off == "vanish":
                    return t
                if cut_off == "connectionError":
                    t.connection_error_answer = self.call(
                        "connectionError", ("ticket", t.ticket), ("hresult", QB_UNREACHABLE_HRESULT),
                        ("message", "QuickBooks could not open the company file."))
                break
            hresult = message = ""
            try:
                response = self.answer(request)
            except Exception as exc:  # QuickBooks refused the whole message: QBWC passes its HRESULT on
                response = ""
                hresult = hex(getattr(exc, "hresult", 0x80040400))
                message = str(exc)
            t.responses.append(response)
            percent = self.call("receiveResponseXML", ("ticket", t.ticket), ("response", response),
                                ("hresult", hresult), ("message", message))
            t.percents.append(percent)
            if percent < 0:
                t.last_errors.append(self.call("getLastError", ("ticket", t.ticket)))
                break
            if percent >= 100:
                break
        t.close_message = self.call("closeConnection", ("ticket", t.ticket))
        return t

    def close(self) -> None:
        """Close the HTTP client if this stand-in created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> WebConnectorStandIn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LocalWebConnector:
    """The whole Web Connector path on this machine: endpoint, one company, and a stand-in polling on a schedule.

    For the demo and tests: the engine uses :attr:`transport` exactly as it would in production, while a
    background thread plays the Web Connector every ``every`` seconds against the real HTTP endpoint and answers
    with ``quickbooks``. Use as a context manager; :attr:`transcripts` keeps every session's record.
    """

    def __init__(self, quickbooks: Any, *, company: str = "demo", every: float = 0.5, soap_version: str = "1.1",
                 session_wait: float = 60.0, response_timeout: float = 60.0, poll_wait: float = 2.0,
                 quiet_timeout: float = 5.0) -> None:
        import secrets as _secrets
        import threading

        from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
        from qbsf.quickbooks.webconnector import UserDirectory, WebConnectorService, create_app
        from qbsf.quickbooks.webconnector.server import BackgroundServer

        self.company = company
        self.every = every
        username, password = f"{company}-qbwc", _secrets.token_urlsafe(16)
        users = UserDirectory()
        users.add(username, password, company)
        # A short quiet spell ends a session of an engine that never says finish, so the demo shows sessions end.
        self.service = WebConnectorService(users, poll_wait=poll_wait, quiet_timeout=quiet_timeout)
        self.transport = WebConnectorTransport(self.service.add_company(company), session_wait=session_wait,
                                               response_timeout=response_timeout)
        self._server = BackgroundServer(create_app(self.service))
        self.url = self._server.url
        self._standin = WebConnectorStandIn(self.url, username, password, quickbooks, soap_version=soap_version)
        self.transcripts: list[SessionTranscript] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=f"qbwc-standin-{company}", daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                transcript = self._standin.run_session()
            except (httpx.HTTPError, WebConnectorFault) as exc:  # the real Web Connector logs and tries next time
                log.warning("Web Connector stand-in session failed: %s", exc)
            else:
                if transcript.auth_status != "none":
                    self.transcripts.append(transcript)
            self._stop.wait(self.every)

    def start(self) -> LocalWebConnector:
        """Start the endpoint and the polling stand-in."""
        self._server.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling, then the endpoint."""
        self._stop.set()
        self._thread.join(30)
        self._standin.close()
        self._server.stop()

    def __enter__(self) -> LocalWebConnector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
