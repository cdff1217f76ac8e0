"""Fixtures shared by the whole suite.

The qbXML schema check lives here so every test that talks to QuickBooks can
route its traffic through :class:`ValidatingTransport`: each request qbsf
sends and each response the simulator returns is validated against Intuit's
schema for the message's qbXML version, and the session reports how many.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from qbsf.log_context import company_context

REPO_ROOT = Path(__file__).resolve().parents[1]
_VERSION_PI = re.compile(r"<\?qbxml\s+version\s*=\s*[\"'](\d+\.\d+)[\"']\s*\?>")
_TOP_LEVEL = {"16.0": "qbxmlops160.xsd", "13.0": "qbxmlops130.xsd"}


def schema_version(version: str) -> str:
    """The schema a qbXML version is checked against: its own where present, else 13.0 for older versions and 16.0
    for 14.0/15.0. Each qbXML version only adds elements, so an older version's shape is a subset of the newer
    schema; checking against it catches every element out of place, but not one the older version lacked."""
    if version in _TOP_LEVEL:
        return version
    major = float(version)
    return "13.0" if major < 13 else "16.0"
HOW_TO_GET_SCHEMAS = (
    "qbXML schemas not found: set QBXML_SCHEMA_DIR to a folder holding 16.0/ and 13.0/ "
    "(the QuickBooks SDK installs them under Intuit\\IDN\\Common\\tools\\validator), "
    "or check out the project beside ../shared/qbxml"
)


def schema_dir() -> Path | None:
    """Where Intuit's qbXML schemas are: $QBXML_SCHEMA_DIR, else ../shared/qbxml beside the checkout."""
    configured = os.environ.get("QBXML_SCHEMA_DIR")
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared" / "qbxml"
    return candidate if (candidate / "16.0" / _TOP_LEVEL["16.0"]).is_file() else None


class QbxmlSchemas:
    """Intuit's qbXML schemas, loaded once per session, with a count of the messages checked."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.checked = 0
        self._schemas: dict[str, etree.XMLSchema] = {}

    @property
    def available(self) -> bool:
        return self.root is not None

    def _schema(self, version: str) -> etree.XMLSchema:
        checked_as = schema_version(version)
        if checked_as not in self._schemas:
            assert self.root is not None
            top = _TOP_LEVEL[checked_as]
            self._schemas[checked_as] = etree.XMLSchema(etree.parse(str(self.root / checked_as / top)))
        return self._schemas[checked_as]

    def validate(self, message: str, what: str = "message") -> None:
        """Fail the test if ``message`` is not valid qbXML for the version its processing instruction names."""
        if self.root is None:
            return
        start = message.find("<QBXML")
        match = _VERSION_PI.search(message if start < 0 else message[:start])
        if match is None:
            raise AssertionError(f"qbXML {what} has no <?qbxml version=\"…\"?> instruction:\n{message[:500]}")
        schema = self._schema(match.group(1))
        document = etree.fromstring(message.encode("utf-8"), etree.XMLParser(resolve_entities=False))
        if not schema.validate(document):
            errors = "\n".join(f"  line {e.line}: {e.message}" for e in schema.error_log)
            raise AssertionError(f"qbXML {what} is not valid against the {match.group(1)} schema:\n{errors}\n"
                                 f"--- message ---\n{message[:3000]}")
        self.checked += 1


_SCHEMAS = QbxmlSchemas(schema_dir())


class ValidatingTransport:
    """Wraps any transport (``send(request_xml) -> response_xml``) and schema-checks both directions."""

    def __init__(self, inner, schemas: QbxmlSchemas) -> None:
        self.inner = inner
        self.schemas = schemas
        self.messages_sent = 0

    def send(self, request_xml: str) -> str:
        self.schemas.validate(request_xml, "request")
        response_xml = self.inner.send(request_xml)
        self.schemas.validate(response_xml, "response")
        self.messages_sent += 1
        return response_xml

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.fixture(scope="session")
def qbxml_schemas() -> QbxmlSchemas:
    """The session's schema checker (it validates nothing when the schemas are absent)."""
    return _SCHEMAS


@pytest.fixture
def require_qbxml_schemas(qbxml_schemas: QbxmlSchemas) -> QbxmlSchemas:
    """For tests whose whole point is the schema: skipped, with how to get the files, when they are absent."""
    if not qbxml_schemas.available:
        pytest.skip(HOW_TO_GET_SCHEMAS)
    return qbxml_schemas


@pytest.fixture
def validating():
    """Factory: ``validating(transport)`` returns the transport with every message schema-checked."""
    return lambda transport: ValidatingTransport(transport, _SCHEMAS)


def pytest_terminal_summary(terminalreporter) -> None:
    if _SCHEMAS.available:
        terminalreporter.write_line(f"qbXML schema: {_SCHEMAS.checked} messages validated against Intuit's XSD")
    else:
        terminalreporter.write_line(HOW_TO_GET_SCHEMAS)


# ==== QuickBooks client fixtures (qbsf.quickbooks; shared with the sync engine) ================================
# qb_sim: a fresh in-memory QuickBooks simulator; qb_transport: SimulatorTransport over it, schema-validated in
# both directions; qb_client: QuickBooksClient over qb_transport with the simulator's default accounts.


@pytest.fixture
def qb_sim():
    """A fresh in-memory QuickBooksSimulator (default chart of accounts and terms), closed at teardown."""
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator()
    yield sim
    sim.close()


@pytest.fixture
def qb_transport(qb_sim, validating):
    """SimulatorTransport over ``qb_sim``; every request and response is validated against Intuit's XSD."""
    from qbsf.quickbooks.transports.simulator import SimulatorTransport

    return validating(SimulatorTransport(qb_sim))


@pytest.fixture
def qb_client(qb_transport):
    """QuickBooksClient over ``qb_transport`` (qbXML version negotiated, the simulator's default accounts)."""
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient

    client = QuickBooksClient(qb_transport, default_accounts=DefaultAccounts(
        income="Sales", cogs="Cost of Goods Sold", asset="Inventory Asset", expense="Office Supplies"))
    yield client
    client.close()
# ==== end of QuickBooks client fixtures ==========================================================================


# ---- Salesforce emulator (qbsf.sim.salesforce) — fixtures for everyone -------------------------------------------
# sf_state: a fresh in-memory org (standard objects + the repo's SFDX metadata) with the Python API
#   (insert/get/records/api_calls/inject_faults/latency/daily_api_limit/token_lifetime).
# sf_emulator: that org served over http on a free loopback port: .url .data_url .state .client_id .client_secret
#   .username .password .token_url .login() .client(). sf_emulator_tls: the same over https (.ca_path to trust).
@pytest.fixture(scope="session")
def sf_schema():
    """The emulated org's schema, built once per session (read-only)."""
    from qbsf.sim.salesforce.schema import build_schema, default_metadata_dir

    return build_schema(default_metadata_dir())


@pytest.fixture
def sf_state(sf_schema):
    """A fresh in-memory Salesforce org."""
    from qbsf.sim.salesforce import SalesforceState

    return SalesforceState(sf_schema)


@pytest.fixture
def sf_emulator(sf_state):
    """The Salesforce emulator over http on 127.0.0.1 (free port), stopped at teardown."""
    from qbsf.sim.salesforce import start_emulator

    emulator = start_emulator(sf_state)
    yield emulator
    emulator.stop()


@pytest.fixture
def sf_emulator_tls(sf_state):
    """The Salesforce emulator over https with a generated CA (``.ca_path``), for https-only clients."""
    from qbsf.sim.salesforce import start_emulator

    emulator = start_emulator(sf_state, ssl=True)
    yield emulator
    emulator.stop()


@pytest.fixture(autouse=True)
def _no_company_named_across_tests() -> Iterator[None]:
    """A test that calls a Web Connector method directly (not through ``dispatch``, which runs each call in a
    context of its own) names a company in the test's context; it must not reach the next test's log lines."""
    with company_context(None):
        yield
