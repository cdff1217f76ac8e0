"""What QuickBooks says about itself at the start of a Web Connector session.

On the first ``sendRequestXML`` of a session the Web Connector passes
``strHCPResponse``: QuickBooks' answers to a HostQuery, CompanyQuery and
PreferencesQuery. From it qbsf learns which qbXML versions this QuickBooks
speaks and how the company is set up (multicurrency, class tracking, …).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from qbsf.errors import XmlError
from qbsf.xmlsafe import parse_xml

log = logging.getLogger(__name__)


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


@dataclass(frozen=True)
class HostInfo:
    """QuickBooks' HostRet: product, version, country and the qbXML versions it accepts."""

    product_name: str = ""
    major_version: str = ""
    minor_version: str = ""
    country: str = ""
    supported_versions: tuple[str, ...] = ()
    file_mode: str = ""

    def supports(self, version: str) -> bool:
        """Whether QuickBooks accepts qbXML ``version`` (e.g. ``"13.0"``)."""
        return version in self.supported_versions

    def best_version(self, candidates: tuple[str, ...] = ("16.0", "13.0")) -> str | None:
        """The highest of ``candidates`` this QuickBooks supports, or None."""
        usable = [v for v in candidates if self.supports(v)]
        return max(usable, key=_version_key) if usable else None

    @property
    def highest_version(self) -> str | None:
        """The newest qbXML version QuickBooks listed."""
        return max(self.supported_versions, key=_version_key) if self.supported_versions else None


@dataclass(frozen=True)
class CompanySettings:
    """The company's name and its preferences, flattened to ``Aggregate/Field`` paths (``"true"``/``"false"``…)."""

    company_name: str = ""
    legal_company_name: str = ""
    preferences: dict[str, str] = field(default_factory=dict)

    def preference(self, path: str, default: str = "") -> str:
        """One preference by path, e.g. ``"MultiCurrencyPreferences/IsMultiCurrencyOn"``."""
        return self.preferences.get(path, default)

    def flag(self, path: str) -> bool:
        """A boolean preference (absent counts as off)."""
        return self.preference(path).strip().lower() == "true"

    @property
    def is_multicurrency_on(self) -> bool:
        """Whether the company file uses multiple currencies."""
        return self.flag("MultiCurrencyPreferences/IsMultiCurrencyOn")

    @property
    def is_using_class_tracking(self) -> bool:
        """Whether transactions carry a class."""
        return self.flag("AccountingPreferences/IsUsingClassTracking")


@dataclass(frozen=True)
class HcpResponse:
    """Everything read from one ``strHCPResponse``; ``problems`` lists what could not be read."""

    host: HostInfo | None = None
    company: CompanySettings | None = None
    problems: tuple[str, ...] = ()


def _child_text(element: etree._Element, name: str) -> str:
    found = element.find(name)
    return (found.text or "").strip() if found is not None else ""


def _flatten(element: etree._Element, prefix: str, into: dict[str, str]) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        path = f"{prefix}/{child.tag}" if prefix else child.tag
        if len(child):
            _flatten(child, path, into)
        else:
            into[path] = (child.text or "").strip()


def _status_problem(rs: etree._Element) -> str | None:
    code = rs.get("statusCode", "0")
    if code in ("0", "1"):
        return None
    return f"{rs.tag} statusCode {code}: {rs.get('statusMessage', '')}"


def parse_hcp_response(text: str) -> HcpResponse:
    """Read host, company and preferences from ``strHCPResponse``; never raises on odd input, it reports it."""
    if not text.strip():
        return HcpResponse(problems=("strHCPResponse is empty",))
    try:
        root = parse_xml(text, source="strHCPResponse")
    except XmlError as exc:
        log.warning("ignoring unreadable strHCPResponse: %s", exc)
        return HcpResponse(problems=(str(exc),))
    problems: list[str] = []
    host: HostInfo | None = None
    host_rs = root.find("QBXMLMsgsRs/HostQueryRs")
    host_ret = host_rs.find("HostRet") if host_rs is not None else None
    if host_rs is not None and (problem := _status_problem(host_rs)):
        problems.append(problem)
    if host_ret is not None:
        host = HostInfo(
            product_name=_child_text(host_ret, "ProductName"),
            major_version=_child_text(host_ret, "MajorVersion"),
            minor_version=_child_text(host_ret, "MinorVersion"),
            country=_child_text(host_ret, "Country"),
            supported_versions=tuple((v.text or "").strip() for v in host_ret.findall("SupportedQBXMLVersion")
                                     if (v.text or "").strip()),
            file_mode=_child_text(host_ret, "QBFileMode"),
        )
    else:
        problems.append("no HostRet in strHCPResponse")
    company_rs = root.find("QBXMLMsgsRs/CompanyQueryRs")
    company_ret = company_rs.find("CompanyRet") if company_rs is not None else None
    preferences_rs = root.find("QBXMLMsgsRs/PreferencesQueryRs")
    preferences_ret = preferences_rs.find("PreferencesRet") if preferences_rs is not None else None
    for rs in (company_rs, preferences_rs):
        if rs is not None and (problem := _status_problem(rs)):
            problems.append(problem)
    company: CompanySettings | None = None
    if company_ret is not None or preferences_ret is not None:
        preferences: dict[str, str] = {}
        if preferences_ret is not None:
            _flatten(preferences_ret, "", preferences)
        company = CompanySettings(
            company_name=_child_text(company_ret, "CompanyName") if company_ret is not None else "",
            legal_company_name=_child_text(company_ret, "LegalCompanyName") if company_ret is not None else "",
            preferences=preferences,
        )
    return HcpResponse(host=host, company=company, problems=tuple(problems))
